package logging

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

type traceKey struct{}

type traceContext struct{ traceID, spanID string }

// WithTrace returns ctx carrying a trace id (32 lowercase hex) and a span id (16
// lowercase hex, may be empty). Invalid ids are ignored and ctx is returned unchanged.
func WithTrace(ctx context.Context, traceID, spanID string) context.Context {
	if !validHexID(traceID, 32) {
		return ctx
	}
	if spanID != "" && !validHexID(spanID, 16) {
		spanID = ""
	}
	return context.WithValue(ctx, traceKey{}, traceContext{traceID, spanID})
}

// TraceFrom returns the trace carried by ctx, or empty strings.
func TraceFrom(ctx context.Context) (traceID, spanID string) {
	tc, _ := ctx.Value(traceKey{}).(traceContext)
	return tc.traceID, tc.spanID
}

// TraceFromHeader reads the trace of an incoming request from the W3C traceparent
// header or, failing that, Google's X-Cloud-Trace-Context (whose decimal span id is
// returned as 16 hex digits, as Cloud Logging wants it). Malformed headers are ignored:
// the result is then empty.
func TraceFromHeader(h http.Header) (traceID, spanID string) {
	if t, s, ok := parseTraceparent(h.Get("traceparent")); ok {
		return t, s
	}
	if t, s, ok := parseCloudTrace(h.Get("X-Cloud-Trace-Context")); ok {
		return t, s
	}
	return "", ""
}

// NewTraceID returns a random trace id (32 lowercase hex), for work that arrives
// without one.
func NewTraceID() string { return randomHex(16) }

func randomHex(n int) string {
	b := make([]byte, n)
	for {
		_, _ = rand.Read(b)
		for _, c := range b {
			if c != 0 { // an all-zero id is invalid
				return hex.EncodeToString(b)
			}
		}
	}
}

// parseTraceparent parses version-traceid-spanid-flags (W3C Trace Context).
func parseTraceparent(v string) (traceID, spanID string, ok bool) {
	if len(v) < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return "", "", false
	}
	version := v[:2]
	if !isLowerHex(version) || version == "ff" {
		return "", "", false
	}
	// Version 00 is exactly 55 characters; later versions may append "-…".
	if len(v) > 55 && (version == "00" || v[55] != '-') {
		return "", "", false
	}
	traceID, spanID, flags := v[3:35], v[36:52], v[53:55]
	if !validHexID(traceID, 32) || !validHexID(spanID, 16) || !isLowerHex(flags) {
		return "", "", false
	}
	return traceID, spanID, true
}

// parseCloudTrace parses TRACE_ID/SPAN_ID;o=OPTIONS with a decimal span id.
func parseCloudTrace(v string) (traceID, spanID string, ok bool) {
	rest, opts, hasOpts := strings.Cut(v, ";")
	if hasOpts && opts != "o=0" && opts != "o=1" {
		return "", "", false
	}
	traceID, span, hasSpan := strings.Cut(rest, "/")
	traceID = strings.ToLower(traceID)
	if !validHexID(traceID, 32) {
		return "", "", false
	}
	if !hasSpan {
		return traceID, "", true
	}
	for _, c := range span {
		if c < '0' || c > '9' {
			return "", "", false
		}
	}
	n, err := strconv.ParseUint(span, 10, 64)
	if err != nil || n == 0 {
		return "", "", false
	}
	s := strconv.FormatUint(n, 16)
	return traceID, strings.Repeat("0", 16-len(s)) + s, true
}

// validHexID reports whether s is n lowercase hex digits, not all zero.
func validHexID(s string, n int) bool {
	return len(s) == n && isLowerHex(s) && strings.Trim(s, "0") != ""
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Pub/Sub message attributes that carry the trace.
const (
	AttrTraceparent = "traceparent"
	// The Pub/Sub client library's own OpenTelemetry propagation uses this name.
	attrClientTraceparent = "googclient_traceparent"
)

// TraceAttributes returns the Pub/Sub message attributes carrying the trace of ctx
// (a W3C traceparent), or nil when ctx has none. A missing span id gets a fresh one,
// since traceparent requires it.
func TraceAttributes(ctx context.Context) map[string]string {
	traceID, spanID := TraceFrom(ctx)
	if traceID == "" {
		return nil
	}
	if spanID == "" {
		spanID = randomHex(8)
	}
	return map[string]string{AttrTraceparent: "00-" + traceID + "-" + spanID + "-00"}
}

// ContextFromAttributes returns ctx carrying the trace found in Pub/Sub message
// attributes, or ctx unchanged when there is none or it is malformed.
func ContextFromAttributes(ctx context.Context, attrs map[string]string) context.Context {
	for _, k := range []string{AttrTraceparent, attrClientTraceparent} {
		if t, s, ok := parseTraceparent(attrs[k]); ok {
			return WithTrace(ctx, t, s)
		}
	}
	return ctx
}
