package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"sync"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/textutil"
)

// Config is what the platform needs of a function's configuration: its Platform group.
// A function's Config struct has it by embedding config.Platform.
type Config interface {
	PlatformConfig() config.Platform
}

// MessageHandler consumes one Pub/Sub message. Returning an error asks Pub/Sub to redeliver
// (with backoff, then dead-letter); wrap messages.ErrPermanent for input that will never
// succeed: it is logged, copied to the dead-letter topic, and acknowledged.
type MessageHandler func(ctx context.Context, data []byte, attrs map[string]string) error

// start is a deployed function's start-up (the functions-framework pattern: clients are
// created once per instance and reused): it loads the function's configuration C from the
// process environment — every variable of its groups, defaults applied and checked —,
// builds the platform scoped to the function's declaration (For) and then the handler.
func start[C Config, H any](ctx context.Context, function string, build func(*Platform, C) (H, error)) (*Platform, H, error) {
	var h H
	var cfg C
	if err := config.Load(&cfg, os.LookupEnv); err != nil {
		return nil, h, fmt.Errorf("configuration: %w", err)
	}
	root, err := New(context.WithoutCancel(ctx), cfg.PlatformConfig(), Deps{})
	if err != nil {
		return nil, h, err
	}
	p, err := root.For(function)
	if err == nil {
		h, err = build(p, cfg)
	}
	if err != nil {
		root.Close()
		return nil, h, err
	}
	return p, h, nil
}

// LazyHTTP is the deployed entry point of the HTTP function named function: on the first
// request it loads the function's configuration C and builds the platform and the handler
// (start), then serves every request through Wrap. A configuration that does not load
// answers 503 to every request, and the reason is logged.
func LazyHTTP[C Config](function string, build func(*Platform, C) (http.Handler, error)) http.HandlerFunc {
	var once sync.Once
	var h http.Handler
	var err error
	return func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			var p *Platform
			if p, h, err = start(r.Context(), function, build); err == nil {
				h = p.Wrap(h)
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

// LazyEvent is the deployed entry point of the Pub/Sub function named function, consuming
// topic; like LazyHTTP, it starts on the first message. A configuration that does not load
// fails every message, so Pub/Sub redelivers it.
func LazyEvent[C Config](function, topic string, build func(*Platform, C) (MessageHandler, error)) func(context.Context, event.Event) error {
	var once sync.Once
	var h func(context.Context, event.Event) error
	var err error
	return func(ctx context.Context, e event.Event) error {
		once.Do(func() {
			var p *Platform
			var mh MessageHandler
			if p, mh, err = start(ctx, function, build); err == nil {
				h = p.CloudEvent(topic, mh)
			}
		})
		if err != nil {
			// Retry: a configuration error is fixed by a deploy, not by dropping messages.
			return fmt.Errorf("function start-up: %w", err)
		}
		return h(ctx, e)
	}
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
	attrs := map[string]string{"calsyncSourceTopic": topic, "calsyncError": textutil.Truncate(logging.Scrub(cause.Error()), 300)}
	for k, v := range env.Message.Attributes {
		attrs[k] = v
	}
	if err := p.PublishRaw(ctx, topic+"-dead-letter", env.Message.Data, attrs); err != nil {
		// Could not park it: let Pub/Sub redeliver, its own dead-letter policy ends the loop.
		return fmt.Errorf("dead-letter message %s: %w", env.Message.MessageID, err)
	}
	return nil
}
