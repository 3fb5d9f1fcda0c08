// Package logging writes structured JSON log lines in the shape Cloud Logging reads from
// a Cloud Function's stdout: severity, message, time, and the trace and span of the
// request, so every line of one request or message groups under one trace.
//
// The logger travels in the context (WithLogger, FromContext) and so does the trace
// (WithTrace, TraceFromHeader, and TraceAttributes / ContextFromAttributes across
// Pub/Sub). Log with the *Context methods (logger.InfoContext(ctx, …)) so the trace is
// attached. Event logs the named events that log-based metrics count.
//
// Privacy: code must log ids only (tenant, staff, connection, calendar, event and booking
// ids, counts, durations, status codes) and never an e-mail address, a name, an event
// title or description, a customer detail or a token. The handler is a safety net, not a
// licence: it replaces with "[redacted]" the value of any attribute or group whose key is
// one of
//
//	email, title, summary, description, details, location, attendees,
//	token, refreshToken, accessToken, idToken, access_token, refresh_token, id_token,
//	authorization, password, secret, clientSecret, client_secret,
//	picture, pictureUrl, displayName, customerName, customerEmail, customerPhone, phone
//
// (compared case-insensitively, ignoring '_' and '-'; "name" is deliberately not listed:
// calendar and service names use it and it is too common to be useful), and anything in
// the message, in string values and in error texts that looks like an e-mail address
// (calendar ids that are addresses included), a Google access token (ya29.…), a
// refresh token (1//…) or an authorization code (4/0…). Other values (structs, maps) are
// dropped whole when their JSON form contains such a pattern.
//
// This package must never be configured to write anywhere but the given writer
// (stdout in a function), and it never sends anything over the network itself.
package logging

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"time"
)

// Keys Cloud Logging reads from a JSON log line.
const (
	KeySeverity = "severity"
	KeyMessage  = "message"
	KeyTime     = "time"
	KeyTrace    = "logging.googleapis.com/trace"
	KeySpanID   = "logging.googleapis.com/spanId"
	KeySource   = "logging.googleapis.com/sourceLocation"
)

// Redacted replaces a value the privacy guard removed.
const Redacted = "[redacted]"

// Options configures New. The zero value logs at INFO without trace links.
type Options struct {
	// ProjectID makes trace fields full resource names
	// (projects/<ProjectID>/traces/<id>), which Cloud Logging links to Cloud Trace.
	// Without it the bare trace id is written, which still groups lines.
	ProjectID string
	// Level is the minimum level logged (default INFO).
	Level slog.Leveler
	// AddSource adds the caller's file and line.
	AddSource bool
}

// New returns a logger writing one Cloud Logging JSON object per line to w.
func New(w io.Writer, opts Options) *slog.Logger {
	inner := slog.NewJSONHandler(w, &slog.HandlerOptions{
		AddSource:   opts.AddSource,
		Level:       opts.Level,
		ReplaceAttr: replaceAttr,
	})
	return slog.New(&handler{base: inner, inner: inner, project: opts.ProjectID})
}

// handler wraps a JSONHandler: it scrubs the message and group attributes (which
// ReplaceAttr never sees) and adds the trace from the context at the top level.
type handler struct {
	base    slog.Handler // no attrs or groups: trace fields must sit at the top level
	inner   slog.Handler // base with ops applied
	ops     []op         // WithAttrs / WithGroup calls, in order
	grouped bool         // some op is a group: trace fields need a rebuilt chain
	project string
}

type op struct {
	group string
	attrs []slog.Attr
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	attrs = redactGroups(attrs)
	h2 := h.clone()
	h2.ops = append(h2.ops, op{attrs: attrs})
	h2.inner = h.inner.WithAttrs(attrs)
	return h2
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := h.clone()
	h2.ops = append(h2.ops, op{group: name})
	h2.inner = h.inner.WithGroup(name)
	h2.grouped = true
	return h2
}

func (h *handler) clone() *handler {
	h2 := *h
	h2.ops = append([]op(nil), h.ops...)
	return &h2
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	nr := slog.NewRecord(r.Time, r.Level, scrub(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		nr.AddAttrs(redactGroup(a))
		return true
	})
	if ctx == nil {
		return h.inner.Handle(context.Background(), nr)
	}
	traceID, spanID := TraceFrom(ctx)
	if traceID == "" {
		return h.inner.Handle(ctx, nr)
	}
	trace := []slog.Attr{slog.String(KeyTrace, h.traceName(traceID))}
	if spanID != "" {
		trace = append(trace, slog.String(KeySpanID, spanID))
	}
	if !h.grouped {
		nr.AddAttrs(trace...)
		return h.inner.Handle(ctx, nr)
	}
	// Record attributes would land inside the open group: rebuild the chain with the
	// trace fields added before any group.
	hh := h.base.WithAttrs(trace)
	for _, o := range h.ops {
		if o.group != "" {
			hh = hh.WithGroup(o.group)
		} else {
			hh = hh.WithAttrs(o.attrs)
		}
	}
	return hh.Handle(ctx, nr)
}

func (h *handler) traceName(traceID string) string {
	if h.project == "" {
		return traceID
	}
	return "projects/" + h.project + "/traces/" + traceID
}

// replaceAttr renames slog's built-in keys to Cloud Logging's and redacts sensitive
// non-group attributes (including those nested in groups).
func replaceAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 {
		switch a.Key {
		case slog.LevelKey:
			return slog.String(KeySeverity, severity(a.Value))
		case slog.MessageKey:
			return slog.Attr{Key: KeyMessage, Value: a.Value}
		case slog.TimeKey:
			if a.Value.Kind() == slog.KindTime {
				return slog.String(KeyTime, a.Value.Time().Format(time.RFC3339Nano))
			}
			return a
		case slog.SourceKey:
			return slog.Attr{Key: KeySource, Value: a.Value}
		case KeyTrace, KeySpanID:
			return a
		}
	}
	for _, g := range groups {
		if sensitiveKey(g) {
			return slog.String(a.Key, Redacted)
		}
	}
	if sensitiveKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	return slog.Attr{Key: a.Key, Value: scrubValue(a.Value)}
}

func severity(v slog.Value) string {
	l, ok := v.Any().(slog.Level)
	if !ok {
		return "DEFAULT"
	}
	switch {
	case l < slog.LevelInfo:
		return "DEBUG"
	case l < slog.LevelWarn:
		return "INFO"
	case l < slog.LevelError:
		return "WARNING"
	default:
		return "ERROR"
	}
}

// redactGroups applies redactGroup to each attribute.
func redactGroups(attrs []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = redactGroup(a)
	}
	return out
}

// redactGroup replaces a group-valued attribute with a sensitive key, which ReplaceAttr
// would only see member by member.
func redactGroup(a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindLogValuer {
		a.Value = a.Value.Resolve()
	}
	if a.Value.Kind() == slog.KindGroup && sensitiveKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	return a
}

var sensitiveKeys = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range []string{
		"email", "title", "summary", "description", "details", "location", "attendees",
		"token", "refreshToken", "accessToken", "idToken",
		"authorization", "password", "secret", "clientSecret",
		"picture", "pictureUrl", "displayName",
		"customerName", "customerEmail", "customerPhone", "phone",
	} {
		m[normalizeKey(k)] = true
	}
	return m
}()

func normalizeKey(k string) string {
	k = strings.ToLower(k)
	if strings.ContainsAny(k, "_-") {
		k = strings.NewReplacer("_", "", "-", "").Replace(k)
	}
	return k
}

func sensitiveKey(k string) bool { return sensitiveKeys[normalizeKey(k)] }

var sensitivePattern = regexp.MustCompile(
	`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}` + // e-mail address
		`|[A-Za-z0-9._%+\-]+%(?:40|2540)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}` + // e-mail address URL-escaped (calendar ids in request URLs)
		`|(?i:(?:sync|page|access_|refresh_|id_)?token|code|key)=[^&\s"']+` + // token-bearing query parameters
		`|ya29\.[A-Za-z0-9._\-]+` + // Google access token
		`|1//[A-Za-z0-9._\-]{8,}` + // Google refresh token
		`|4/0[A-Za-z0-9._\-]{8,}`) // Google authorization code

// Scrub replaces e-mail addresses and Google tokens in s: for text that leaves a log
// handler's reach (the dead-letter error attribute).
func Scrub(s string) string { return scrub(s) }

// scrub replaces e-mail addresses and Google tokens in s.
func scrub(s string) string {
	if !strings.Contains(s, "@") && !strings.Contains(s, "%40") && !strings.Contains(s, "%2540") && !strings.Contains(s, "=") &&
		!strings.Contains(s, "ya29.") && !strings.Contains(s, "1//") && !strings.Contains(s, "4/0") {
		return s
	}
	return sensitivePattern.ReplaceAllString(s, Redacted)
}

func scrubValue(v slog.Value) slog.Value {
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); scrub(s) != s {
			return slog.StringValue(scrub(s))
		}
		return v
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			// Google API errors quote calendar ids, which are often e-mail addresses.
			if s := x.Error(); scrub(s) != s {
				return slog.StringValue(scrub(s))
			}
			return v
		case []byte:
			return v
		default:
			b, err := json.Marshal(x)
			if err == nil && scrub(string(b)) != string(b) {
				return slog.StringValue(Redacted)
			}
			return v
		}
	}
	return v
}
