package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/textutil"
)

// HTTPBuilder builds a function's handler from a platform.
type HTTPBuilder func(*Platform) (http.Handler, error)

// MessageHandler consumes one Pub/Sub message. Returning an error asks Pub/Sub to redeliver
// (with backoff, then dead-letter); wrap messages.ErrPermanent for input that will never
// succeed: it is logged, copied to the dead-letter topic, and acknowledged.
type MessageHandler func(ctx context.Context, data []byte, attrs map[string]string) error

// MessageBuilder builds a function's message handler from a platform.
type MessageBuilder func(*Platform) (MessageHandler, error)

// Lazy builds the platform from the process environment once, on first use (the
// functions-framework pattern: clients are created once per instance and reused).
type Lazy struct {
	Need []string // the variables this function needs besides GOOGLE_CLOUD_PROJECT

	once sync.Once
	p    *Platform
	err  error
}

// Get returns the instance's platform.
func (l *Lazy) Get(ctx context.Context) (*Platform, error) {
	l.once.Do(func() {
		env, err := config.FromOS()
		if err == nil {
			err = env.Need(l.Need...)
		}
		if err != nil {
			l.err = fmt.Errorf("configuration: %w", err)
			return
		}
		l.p, l.err = New(context.WithoutCancel(ctx), env, Deps{})
	})
	return l.p, l.err
}

// LazyHTTP is the deployed entry point of an HTTP function: it builds the platform and the
// handler once, then serves every request through Wrap.
func LazyHTTP(need []string, build HTTPBuilder) http.HandlerFunc {
	l := &Lazy{Need: need}
	var once sync.Once
	var h http.Handler
	var err error
	return func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			var p *Platform
			if p, err = l.Get(r.Context()); err == nil {
				h, err = p.BuildHTTP(build)
			}
		})
		if err != nil {
			slog.Error("function start-up failed", "error", err.Error())
			jsonhttp.Error(w, http.StatusServiceUnavailable, "unavailable", "the service is not configured")
			return
		}
		h.ServeHTTP(w, r)
	}
}

// LazyEvent is the deployed entry point of the Pub/Sub function consuming topic.
func LazyEvent(topic string, need []string, build MessageBuilder) func(context.Context, event.Event) error {
	l := &Lazy{Need: need}
	var once sync.Once
	var h func(context.Context, event.Event) error
	var err error
	return func(ctx context.Context, e event.Event) error {
		once.Do(func() {
			var p *Platform
			if p, err = l.Get(ctx); err == nil {
				var mh MessageHandler
				if mh, err = build(p); err == nil {
					h = p.CloudEvent(topic, mh)
				}
			}
		})
		if err != nil {
			// Retry: a configuration error is fixed by a deploy, not by dropping messages.
			return fmt.Errorf("function start-up: %w", err)
		}
		return h(ctx, e)
	}
}

// BuildHTTP builds and wraps an HTTP handler.
func (p *Platform) BuildHTTP(build HTTPBuilder) (http.Handler, error) {
	h, err := build(p)
	if err != nil {
		return nil, err
	}
	return p.Wrap(h), nil
}

// Wrap gives every request a trace id and a logger in its context, and turns a panic into
// a JSON 500 (the panic value and stack are logged; the caller learns nothing internal).
func (p *Platform) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		trace, span := logging.TraceFromHeader(r.Header)
		if trace == "" {
			trace = logging.NewTraceID()
		}
		ctx := logging.WithTrace(r.Context(), trace, span)
		ctx = logging.WithLogger(ctx, p.Log)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				p.Log.ErrorContext(ctx, "panic in handler", "panic", fmt.Sprint(v), "stack", string(debug.Stack()), "path", r.URL.Path)
				jsonhttp.Error(w, http.StatusInternalServerError, "internal", "internal error")
			}
		}()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// CloudEvent adapts a MessageHandler for topic to functions-framework's CloudEvent
// signature (the event's data is the Pub/Sub push envelope).
func (p *Platform) CloudEvent(topic string, h MessageHandler) func(context.Context, event.Event) error {
	return func(ctx context.Context, e event.Event) error {
		return p.Dispatch(ctx, topic, e.Data(), h)
	}
}

// Dispatch decodes an envelope and calls h with panic safety, trace propagation and the
// permanent/transient decision.
func (p *Platform) Dispatch(ctx context.Context, topic string, body []byte, h MessageHandler) (err error) {
	ctx = logging.WithLogger(ctx, p.Log)
	env, err := messages.ParseEnvelope(body)
	if err != nil {
		p.Log.ErrorContext(ctx, "undecodable pubsub envelope; acknowledged", "topic", topic, "error", err.Error())
		return nil
	}
	ctx = logging.ContextFromAttributes(ctx, env.Message.Attributes)
	defer func() {
		if v := recover(); v != nil {
			p.Log.ErrorContext(ctx, "panic in message handler", "topic", topic, "messageId", env.Message.MessageID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = p.deadLetter(ctx, topic, env, fmt.Errorf("%w: panic: %v", messages.ErrPermanent, v))
		}
	}()
	herr := h(ctx, env.Message.Data, env.Message.Attributes)
	if herr == nil {
		return nil
	}
	if errors.Is(herr, messages.ErrPermanent) {
		return p.deadLetter(ctx, topic, env, herr)
	}
	p.Log.WarnContext(ctx, "message failed; Pub/Sub will redeliver", "topic", topic, "messageId", env.Message.MessageID, "error", herr.Error())
	return herr
}

// deadLetter logs a permanent failure, copies the message to the topic's dead-letter topic
// (so it can be inspected and replayed) and acknowledges it.
func (p *Platform) deadLetter(ctx context.Context, topic string, env messages.Envelope, cause error) error {
	p.Log.ErrorContext(ctx, "permanent message failure; dead-lettered and acknowledged", "topic", topic, "messageId", env.Message.MessageID, "error", cause.Error())
	attrs := map[string]string{"calsyncSourceTopic": topic, "calsyncError": textutil.Truncate(cause.Error(), 300)}
	for k, v := range env.Message.Attributes {
		attrs[k] = v
	}
	if err := p.PublishRaw(ctx, topic+"-dead-letter", env.Message.Data, attrs); err != nil {
		// Could not park it: let Pub/Sub redeliver, its own dead-letter policy ends the loop.
		return fmt.Errorf("dead-letter message %s: %w", env.Message.MessageID, err)
	}
	return nil
}
