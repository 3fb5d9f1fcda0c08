// Package localstack runs every function of the system in one process against the
// emulators and a Google-compatible server: the same handlers that are deployed, routed
// by the function's name as Cloud Functions gen2 serves each at its own root. Pub/Sub
// push subscriptions on the emulator point at it, so a message travels exactly as in the
// cloud (topic → push subscription with retry and dead-letter policy → function).
//
// It is for tests and `make run`; it is never deployed. Tests start many stacks in
// parallel, each with its own project id.
package localstack

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/belbo/calsync/functions/book"
	"github.com/belbo/calsync/functions/calendarwebhook"
	"github.com/belbo/calsync/functions/exportbooking"
	"github.com/belbo/calsync/functions/manage"
	"github.com/belbo/calsync/functions/oauthcallback"
	"github.com/belbo/calsync/functions/renewchannels"
	"github.com/belbo/calsync/functions/slots"
	"github.com/belbo/calsync/functions/synccalendar"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/topology"
)

// Function is one entry point: its name, the topic it consumes (Pub/Sub functions), the
// type of its Config and its New, given its Config selected from the whole system's
// configuration (config.Select) — as deployed it is given its Config loaded from its own
// environment (platform.LazyHTTP, LazyEvent).
type Function[H any] struct {
	Name   string
	Topic  string
	Config reflect.Type
	Build  func(*platform.Platform, config.Env) (H, error)
}

// HTTPFunction is one HTTP entry point.
type HTTPFunction = Function[http.Handler]

// EventFunction is one Pub/Sub entry point.
type EventFunction = Function[platform.MessageHandler]

func function[C platform.Config, H any](name, topic string, build func(*platform.Platform, C) (H, error)) Function[H] {
	return Function[H]{Name: name, Topic: topic, Config: reflect.TypeFor[C](),
		Build: func(p *platform.Platform, env config.Env) (H, error) { return build(p, config.Select[C](env)) }}
}

// HTTPFunctions lists every HTTP function (the same list Terraform deploys).
var HTTPFunctions = []HTTPFunction{
	function("Manage", "", manage.New),
	function("OAuthCallback", "", oauthcallback.New),
	function("CalendarWebhook", "", calendarwebhook.New),
	function("Slots", "", slots.New),
	function("Book", "", book.New),
}

// EventFunctions lists every Pub/Sub function.
var EventFunctions = []EventFunction{
	function("SyncCalendar", synccalendar.Topic, synccalendar.New),
	function("RenewChannels", renewchannels.Topic, renewchannels.New),
	function("ExportBooking", exportbooking.Topic, exportbooking.New),
}

// Consumer is a Pub/Sub function built on its own scoped platform: dispatch through
// Platform so that dead-lettering is limited to the function's declaration too.
type Consumer struct {
	Topic    string
	Platform *platform.Platform
	Handler  platform.MessageHandler
}

// CloudEvent adapts the consumer to functions-framework's CloudEvent signature.
func (c Consumer) CloudEvent() func(context.Context, event.Event) error {
	return c.Platform.CloudEvent(c.Topic, c.Handler)
}

// Dispatch handles one Pub/Sub push body.
func (c Consumer) Dispatch(ctx context.Context, body []byte) error {
	return c.Platform.Dispatch(ctx, c.Topic, body, c.Handler)
}

// Handlers builds every function, each on p.For(its name): a platform scoped to the
// function's declaration in shared/topology/access.go, exactly as deployed, and with its
// Config selected from env. HTTP functions are keyed by name; event functions come back as
// consumers keyed by name.
func Handlers(p *platform.Platform, env config.Env) (map[string]http.Handler, map[string]Consumer, error) {
	hs := map[string]http.Handler{}
	for _, f := range HTTPFunctions {
		fp, err := p.For(f.Name)
		if err != nil {
			return nil, nil, fmt.Errorf("build %s: %w", f.Name, err)
		}
		h, err := f.Build(fp, env)
		if err != nil {
			return nil, nil, fmt.Errorf("build %s: %w", f.Name, err)
		}
		hs[f.Name] = fp.Wrap(h)
	}
	ms := map[string]Consumer{}
	for _, f := range EventFunctions {
		fp, err := p.For(f.Name)
		if err != nil {
			return nil, nil, fmt.Errorf("build %s: %w", f.Name, err)
		}
		h, err := f.Build(fp, env)
		if err != nil {
			return nil, nil, fmt.Errorf("build %s: %w", f.Name, err)
		}
		ms[f.Name] = Consumer{Topic: f.Topic, Platform: fp, Handler: h}
	}
	return hs, ms, nil
}

// Mux routes /<Function>/… to each function with the prefix stripped. Event functions
// accept Pub/Sub push bodies: 2xx acknowledges, 5xx asks for redelivery.
func Mux(p *platform.Platform, env config.Env, extra map[string]http.Handler) (*http.ServeMux, error) {
	hs, ms, err := Handlers(p, env)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	for name, h := range hs {
		mux.Handle("/"+name+"/", http.StripPrefix("/"+name, h))
		mux.Handle("/"+name, http.StripPrefix("/"+name, rootPath(h)))
	}
	for _, f := range EventFunctions {
		c := ms[f.Name]
		mux.Handle("/"+f.Name+"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
			if err != nil {
				http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
				return
			}
			if err := c.Dispatch(r.Context(), body); err != nil {
				http.Error(w, "retry", http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
	}
	for pattern, h := range extra {
		mux.Handle(pattern, h)
	}
	return mux, nil
}

// rootPath makes "/Name" (no trailing slash) reach the function as "/".
func rootPath(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" {
			r.URL.Path = "/"
		}
		h.ServeHTTP(w, r)
	})
}

// Stack is a running local system.
type Stack struct {
	URL string // base URL of the functions, e.g. http://127.0.0.1:41234
	// Platform is the stack's root platform: the test's own identity (publishing test
	// messages, reading what functions wrote). The functions run on platforms scoped from
	// it (Handlers), never on this one.
	Platform *platform.Platform
	// Env is the configuration the functions were built from (Options.Env with the URLs
	// that depend on the address filled in).
	Env config.Env
	srv *http.Server
	ln  net.Listener
}

// Options configure a stack.
type Options struct {
	Env  config.Env    // Project, Google endpoints, OAuth client id, allow-lists, keys…
	Deps platform.Deps // secrets, log writer, clock, HTTP client
	Addr string        // listen address; default 127.0.0.1:0
	// Extra handlers (e.g. the web UI) mounted on the same server.
	Extra map[string]http.Handler
	// Topology creates topics and push subscriptions pointing at this stack.
	Topology *topology.Options
	// TopicsOnly creates the topics and dead-letter subscriptions but no push
	// subscriptions: published messages wait unconsumed (tests that drive functions directly).
	TopicsOnly bool
	// Observe, when set, is told of every request a function served: its name (the first
	// path segment), when it arrived, how long it took and the status (benchmarks count
	// invocations and their duration with it).
	Observe func(function string, arrived time.Time, took time.Duration, status int)
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func observe(h http.Handler, f func(string, time.Time, time.Duration, int)) http.Handler {
	if f == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		sw := &statusWriter{ResponseWriter: w}
		t0 := time.Now()
		h.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		f(name, t0, time.Since(t0), sw.code)
	})
}

// Start listens, fills in the URLs that depend on the address (OAUTH_REDIRECT_URL,
// WEBHOOK_URL when unset), builds the functions and serves them.
func Start(ctx context.Context, o Options) (*Stack, error) {
	addr := o.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	base := "http://" + ln.Addr().String()
	env := o.Env
	if env.OAuthRedirectURL == "" {
		env.OAuthRedirectURL = base + "/OAuthCallback/"
	}
	if env.WebhookURL == "" {
		env.WebhookURL = base + "/CalendarWebhook/"
	}
	p, err := platform.New(ctx, env.Platform, o.Deps)
	if err != nil {
		ln.Close()
		return nil, err
	}
	if o.Topology != nil || o.TopicsOnly {
		var to topology.Options
		if o.Topology != nil {
			to = *o.Topology
			if to.PushBase == "" {
				to.PushBase = base
			}
		}
		if err := topology.Ensure(ctx, p.PubSub, to); err != nil {
			p.Close()
			ln.Close()
			return nil, err
		}
	}
	mux, err := Mux(p, env, o.Extra)
	if err != nil {
		p.Close()
		ln.Close()
		return nil, err
	}
	s := &Stack{URL: base, Platform: p, Env: env, ln: ln, srv: &http.Server{Handler: observe(mux, o.Observe), ReadHeaderTimeout: 10 * time.Second}}
	go s.srv.Serve(ln)
	return s, nil
}

// Function returns the base URL of one function ("…/Manage").
func (s *Stack) Function(name string) string { return strings.TrimRight(s.URL, "/") + "/" + name }

// Close stops serving and releases the clients.
func (s *Stack) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	s.Platform.Close()
}
