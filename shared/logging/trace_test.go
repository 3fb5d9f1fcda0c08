package logging

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestTraceFromHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		traceparent string
		cloud       string
		wantTrace   string
		wantSpan    string
	}{
		{name: "none"},
		{name: "traceparent", traceparent: "00-" + traceID + "-" + spanID + "-01", wantTrace: traceID, wantSpan: spanID},
		{name: "traceparent unsampled", traceparent: "00-" + traceID + "-" + spanID + "-00", wantTrace: traceID, wantSpan: spanID},
		{name: "traceparent future version with suffix", traceparent: "01-" + traceID + "-" + spanID + "-01-extra", wantTrace: traceID, wantSpan: spanID},
		{name: "traceparent wins", traceparent: "00-" + traceID + "-" + spanID + "-01", cloud: "11111111111111111111111111111111/1;o=1", wantTrace: traceID, wantSpan: spanID},
		{name: "traceparent uppercase", traceparent: "00-" + strings.ToUpper(traceID) + "-" + spanID + "-01"},
		{name: "traceparent version ff", traceparent: "ff-" + traceID + "-" + spanID + "-01"},
		{name: "traceparent v00 with suffix", traceparent: "00-" + traceID + "-" + spanID + "-01-x"},
		{name: "traceparent zero trace", traceparent: "00-" + strings.Repeat("0", 32) + "-" + spanID + "-01"},
		{name: "traceparent zero span", traceparent: "00-" + traceID + "-" + strings.Repeat("0", 16) + "-01"},
		{name: "traceparent short trace", traceparent: "00-" + traceID[:31] + "-" + spanID + "-01"},
		{name: "traceparent non hex", traceparent: "00-" + "zz" + traceID[2:] + "-" + spanID + "-01"},
		{name: "traceparent bad flags", traceparent: "00-" + traceID + "-" + spanID + "-0g"},
		{name: "traceparent bad separators", traceparent: "00_" + traceID + "_" + spanID + "_01"},
		{name: "traceparent garbage falls back", traceparent: "garbage", cloud: traceID + "/1;o=1", wantTrace: traceID, wantSpan: "0000000000000001"},
		{name: "cloud", cloud: traceID + "/12345678901234567890;o=1", wantTrace: traceID, wantSpan: "ab54a98ceb1f0ad2"},
		{name: "cloud no options", cloud: traceID + "/2", wantTrace: traceID, wantSpan: "0000000000000002"},
		{name: "cloud o=0", cloud: traceID + "/2;o=0", wantTrace: traceID, wantSpan: "0000000000000002"},
		{name: "cloud no span", cloud: traceID, wantTrace: traceID},
		{name: "cloud uppercase trace", cloud: strings.ToUpper(traceID) + "/2", wantTrace: traceID, wantSpan: "0000000000000002"},
		{name: "cloud max span", cloud: traceID + "/18446744073709551615", wantTrace: traceID, wantSpan: "ffffffffffffffff"},
		{name: "cloud span overflow", cloud: traceID + "/18446744073709551616"},
		{name: "cloud span zero", cloud: traceID + "/0"},
		{name: "cloud span hex", cloud: traceID + "/abc"},
		{name: "cloud span signed", cloud: traceID + "/+5"},
		{name: "cloud empty span", cloud: traceID + "/;o=1"},
		{name: "cloud bad options", cloud: traceID + "/5;o=2"},
		{name: "cloud short trace", cloud: traceID[:30] + "/5"},
		{name: "cloud extra segment", cloud: traceID + "/5/6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.traceparent != "" {
				h.Set("traceparent", tt.traceparent)
			}
			if tt.cloud != "" {
				h.Set("X-Cloud-Trace-Context", tt.cloud)
			}
			gotTrace, gotSpan := TraceFromHeader(h)
			if gotTrace != tt.wantTrace || gotSpan != tt.wantSpan {
				t.Errorf("TraceFromHeader = %q, %q; want %q, %q", gotTrace, gotSpan, tt.wantTrace, tt.wantSpan)
			}
		})
	}
}

func TestWithTrace(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, trace, span   string
		wantTrace, wantSpan string
	}{
		{"valid", traceID, spanID, traceID, spanID},
		{"no span", traceID, "", traceID, ""},
		{"bad span dropped", traceID, "xyz", traceID, ""},
		{"bad trace ignored", "nope", spanID, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gotTrace, gotSpan := TraceFrom(WithTrace(context.Background(), tt.trace, tt.span))
			if gotTrace != tt.wantTrace || gotSpan != tt.wantSpan {
				t.Errorf("got %q, %q; want %q, %q", gotTrace, gotSpan, tt.wantTrace, tt.wantSpan)
			}
		})
	}
}

func TestNewTraceID(t *testing.T) {
	t.Parallel()
	a, b := NewTraceID(), NewTraceID()
	if !validHexID(a, 32) || !validHexID(b, 32) || a == b {
		t.Fatalf("NewTraceID = %q, %q", a, b)
	}
}

func TestPubSubAttributes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if attrs := TraceAttributes(ctx); attrs != nil {
		t.Errorf("attributes without trace = %v", attrs)
	}

	attrs := TraceAttributes(WithTrace(ctx, traceID, spanID))
	if attrs["traceparent"] != "00-"+traceID+"-"+spanID+"-00" {
		t.Fatalf("attributes = %v", attrs)
	}
	if tr, sp := TraceFrom(ContextFromAttributes(ctx, attrs)); tr != traceID || sp != spanID {
		t.Errorf("round trip = %q, %q", tr, sp)
	}

	// Without a span id one is made up, since traceparent requires it.
	attrs = TraceAttributes(WithTrace(ctx, traceID, ""))
	if tr, sp := TraceFrom(ContextFromAttributes(ctx, attrs)); tr != traceID || !validHexID(sp, 16) {
		t.Errorf("round trip without span = %q, %q", tr, sp)
	}

	tests := []struct {
		name  string
		attrs map[string]string
		want  string
	}{
		{"nil", nil, ""},
		{"garbage", map[string]string{"traceparent": "00-nope"}, ""},
		{"client library attribute", map[string]string{"googclient_traceparent": "00-" + traceID + "-" + spanID + "-01"}, traceID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tr, _ := TraceFrom(ContextFromAttributes(ctx, tt.attrs)); tr != tt.want {
				t.Errorf("trace = %q, want %q", tr, tt.want)
			}
		})
	}
}

func FuzzTraceFromHeader(f *testing.F) {
	f.Add("00-"+traceID+"-"+spanID+"-01", "")
	f.Add("", traceID+"/12345;o=1")
	f.Add("01-"+traceID+"-"+spanID+"-01-x", "x/y;z")
	f.Fuzz(func(t *testing.T, traceparent, cloud string) {
		h := http.Header{}
		h["Traceparent"] = []string{traceparent}
		h["X-Cloud-Trace-Context"] = []string{cloud}
		tr, sp := TraceFromHeader(h)
		if tr == "" {
			if sp != "" {
				t.Fatalf("span %q without trace", sp)
			}
			return
		}
		if !validHexID(tr, 32) || (sp != "" && !validHexID(sp, 16)) {
			t.Fatalf("invalid ids accepted: %q, %q", tr, sp)
		}
		// Whatever was accepted survives a trip through Pub/Sub attributes.
		ctx := ContextFromAttributes(context.Background(), TraceAttributes(WithTrace(context.Background(), tr, sp)))
		if tr2, sp2 := TraceFrom(ctx); tr2 != tr || (sp != "" && sp2 != sp) {
			t.Fatalf("round trip %q, %q → %q, %q", tr, sp, tr2, sp2)
		}
	})
}
