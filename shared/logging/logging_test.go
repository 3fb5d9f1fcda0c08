package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	spanID  = "00f067aa0ba902b7"
)

// lines parses every JSON line written to buf.
func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func one(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	ls := lines(t, buf)
	if len(ls) != 1 {
		t.Fatalf("got %d lines, want 1: %s", len(ls), buf)
	}
	return ls[0]
}

func TestFields(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := New(&buf, Options{ProjectID: "p1"})
	before := time.Now()
	l.Info("sync finished", "connectionId", "c1", "events", 12)
	m := one(t, &buf)
	if m["severity"] != "INFO" || m["message"] != "sync finished" || m["connectionId"] != "c1" || m["events"] != float64(12) {
		t.Errorf("fields = %v", m)
	}
	for _, k := range []string{"level", "msg", KeyTrace, KeySpanID} {
		if _, ok := m[k]; ok {
			t.Errorf("unexpected key %q in %v", k, m)
		}
	}
	ts, ok := m["time"].(string)
	if !ok {
		t.Fatalf("time = %v", m["time"])
	}
	tm, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil || tm.Before(before.Add(-time.Second)) {
		t.Errorf("time %q: %v", ts, err)
	}
}

func TestSeverity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		level slog.Level
		want  string
	}{
		{slog.LevelDebug - 4, "DEBUG"},
		{slog.LevelDebug, "DEBUG"},
		{slog.LevelInfo, "INFO"},
		{slog.LevelInfo + 2, "INFO"},
		{slog.LevelWarn, "WARNING"},
		{slog.LevelError, "ERROR"},
		{slog.LevelError + 4, "ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.level.String(), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			New(&buf, Options{Level: slog.LevelDebug - 4}).Log(context.Background(), tt.level, "m")
			if got := one(t, &buf)["severity"]; got != tt.want {
				t.Errorf("severity = %v, want %s", got, tt.want)
			}
		})
	}
}

func TestLevelFilter(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := New(&buf, Options{})
	l.Debug("hidden")
	l.Warn("shown")
	if m := one(t, &buf); m["message"] != "shown" {
		t.Errorf("got %v", m)
	}
}

func TestTraceFields(t *testing.T) {
	t.Parallel()
	traced := WithTrace(context.Background(), traceID, spanID)
	tests := []struct {
		name      string
		ctx       context.Context
		project   string
		logger    func(*slog.Logger) *slog.Logger
		wantTrace string
		wantSpan  string
	}{
		{name: "no trace", ctx: context.Background(), project: "p1"},
		{name: "trace", ctx: traced, project: "p1", wantTrace: "projects/p1/traces/" + traceID, wantSpan: spanID},
		{name: "trace without project", ctx: traced, wantTrace: traceID, wantSpan: spanID},
		{name: "trace without span", ctx: WithTrace(context.Background(), traceID, ""), project: "p1", wantTrace: "projects/p1/traces/" + traceID},
		{name: "trace through group", ctx: traced, project: "p1",
			logger:    func(l *slog.Logger) *slog.Logger { return l.With("a", 1).WithGroup("g").With("b", 2) },
			wantTrace: "projects/p1/traces/" + traceID, wantSpan: spanID},
		{name: "group without trace", ctx: context.Background(), project: "p1",
			logger: func(l *slog.Logger) *slog.Logger { return l.WithGroup("g") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			l := New(&buf, Options{ProjectID: tt.project})
			if tt.logger != nil {
				l = tt.logger(l)
			}
			l.InfoContext(tt.ctx, "m", "k", "v")
			m := one(t, &buf)
			if got, _ := m[KeyTrace].(string); got != tt.wantTrace {
				t.Errorf("trace = %q, want %q", got, tt.wantTrace)
			}
			if got, _ := m[KeySpanID].(string); got != tt.wantSpan {
				t.Errorf("span = %q, want %q", got, tt.wantSpan)
			}
			if _, ok := m[KeySpanID]; ok != (tt.wantSpan != "") {
				t.Errorf("span key present = %v", ok)
			}
			if tt.logger != nil {
				g, _ := m["g"].(map[string]any)
				if g == nil || g["k"] != "v" {
					t.Errorf("grouped attrs lost: %v", m)
				}
				if _, ok := g[KeyTrace]; ok {
					t.Errorf("trace inside group: %v", m)
				}
			}
		})
	}
}

func TestAttributes(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := New(&buf, Options{}).With("tenantId", "t1").WithGroup("sync").With("calendarId", "primary")
	l.Info("done",
		slog.Int("pages", 3),
		slog.Bool("full", true),
		slog.Duration("took", 1500*time.Millisecond),
		slog.Group("counts", slog.Int("upserted", 4), slog.Int("deleted", 1)),
		slog.Any("ids", []string{"e1", "e2"}),
	)
	m := one(t, &buf)
	if m["tenantId"] != "t1" {
		t.Errorf("tenantId = %v", m["tenantId"])
	}
	s, _ := m["sync"].(map[string]any)
	if s == nil {
		t.Fatalf("no sync group: %v", m)
	}
	counts, _ := s["counts"].(map[string]any)
	if s["calendarId"] != "primary" || s["pages"] != float64(3) || s["full"] != true ||
		s["took"] != float64(1500*time.Millisecond) || counts["upserted"] != float64(4) || counts["deleted"] != float64(1) {
		t.Errorf("sync group = %v", s)
	}
	if ids, _ := s["ids"].([]any); len(ids) != 2 || ids[0] != "e1" {
		t.Errorf("ids = %v", s["ids"])
	}
}

type person struct {
	Email string `json:"email"`
	ID    string `json:"id"`
}

type secretValuer struct{}

func (secretValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("x", "anna@example.org"))
}

func TestRedaction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		log  func(l *slog.Logger)
		want map[string]any // top-level fields expected (nested maps compared via JSON)
	}{
		{
			name: "sensitive keys",
			log: func(l *slog.Logger) {
				l.Info("m", "email", "x", "Title", "Dentist", "summary", "s", "description", "d", "details", "d",
					"token", "t", "refreshToken", "r", "accessToken", "a", "access_token", "a", "refresh_token", "r",
					"picture", "p", "pictureUrl", "u", "customerName", "Anna", "customerEmail", "c", "customer-phone", "1",
					"name", "Work calendar", "syncToken", "CPDAlvWDx70CEPDAlvWDx70CGAU=", "eventId", "e1")
			},
			want: map[string]any{
				"email": Redacted, "Title": Redacted, "summary": Redacted, "description": Redacted, "details": Redacted,
				"token": Redacted, "refreshToken": Redacted, "accessToken": Redacted, "access_token": Redacted,
				"refresh_token": Redacted, "picture": Redacted, "pictureUrl": Redacted, "customerName": Redacted,
				"customerEmail": Redacted, "customer-phone": Redacted,
				"name": "Work calendar", "syncToken": "CPDAlvWDx70CEPDAlvWDx70CGAU=", "eventId": "e1",
			},
		},
		{
			name: "values in message and attrs",
			log: func(l *slog.Logger) {
				l.Info("connected anna.b+cal@example.co.uk with ya29.a0AfH6SMBx-y_z and 1//0gLongRefreshTok3n",
					"calendarId", "anna@example.org", "note", "code 4/0AX4XfWh_abcdefgh seen", "count", 3)
			},
			want: map[string]any{
				"message":    "connected [redacted] with [redacted] and [redacted]",
				"calendarId": Redacted,
				"note":       "code [redacted] seen",
				"count":      float64(3),
			},
		},
		{
			name: "URL-escaped e-mails and token query parameters in client errors",
			log: func(l *slog.Logger) {
				l.Warn("m", "error", errors.New(`Get "https://www.googleapis.com/calendar/v3/calendars/alice%40example.com/events?alt=json&syncToken=CPDAlvWDx70&maxResults=2500": dial tcp: connection refused`),
					"u", "https://x.test/cb?code=4%2F0Abc&state=s1&pageToken=pt9")
			},
			want: map[string]any{
				"error": `Get "https://www.googleapis.com/calendar/v3/calendars/[redacted]/events?alt=json&[redacted]&maxResults=2500": dial tcp: connection refused`,
				"u":     "https://x.test/cb?[redacted]&state=s1&[redacted]",
			},
		},
		{
			name: "errors and structs",
			log: func(l *slog.Logger) {
				l.Error("m", "err", errors.New(`googleapi: calendar anna@example.org: 404`),
					"who", person{Email: "anna@example.org", ID: "u1"}, "ok", person{ID: "u2"})
			},
			want: map[string]any{
				"err": "googleapi: calendar [redacted]: 404",
				"who": Redacted,
				"ok":  map[string]any{"email": "", "id": "u2"},
			},
		},
		{
			name: "nested groups",
			log: func(l *slog.Logger) {
				l.With(slog.Group("customer", slog.String("id", "c1"), slog.String("email", "e"))).
					WithGroup("booking").
					Info("m",
						slog.Group("attendee", slog.String("email", "x"), slog.String("id", "a1"),
							slog.Group("deeper", slog.String("title", "t"), slog.String("v", "bo@example.com"))),
						slog.Group("email", slog.String("primary", "p")),
						slog.Any("valuer", secretValuer{}))
			},
			want: map[string]any{
				"customer": map[string]any{"id": "c1", "email": Redacted},
				"booking": map[string]any{
					"attendee": map[string]any{"email": Redacted, "id": "a1",
						"deeper": map[string]any{"title": Redacted, "v": Redacted}},
					"email":  Redacted,
					"valuer": map[string]any{"x": Redacted},
				},
			},
		},
		{
			name: "sensitive group opened with WithGroup",
			log:  func(l *slog.Logger) { l.WithGroup("details").Info("m", "text", "Root canal") },
			want: map[string]any{"details": map[string]any{"text": Redacted}},
		},
		{
			name: "ordinary text kept",
			log:  func(l *slog.Logger) { l.Info("renewed 3 channels in 1//s", "url", "https://x:8081/a") },
			want: map[string]any{"message": "renewed 3 channels in 1//s", "url": "https://x:8081/a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			tt.log(New(&buf, Options{}))
			m := one(t, &buf)
			for k, want := range tt.want {
				if !jsonEqual(m[k], want) {
					t.Errorf("%s = %v, want %v", k, m[k], want)
				}
			}
			for _, leak := range []string{"@example", "ya29.", "1//0g", "4/0AX", "Dentist", "Anna", "Root canal"} {
				if strings.Contains(buf.String(), leak) {
					t.Errorf("output leaks %q: %s", leak, buf.String())
				}
			}
		})
	}
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestEvent(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := New(&buf, Options{ProjectID: "p1"})
	ctx := WithLogger(WithTrace(context.Background(), traceID, spanID), l)
	Event(ctx, nil, EventSyncDone, slog.String("calendarId", "cal1"), slog.Int("changed", 2))
	m := one(t, &buf)
	if m["event"] != "sync.done" || m["message"] != "sync.done" || m["severity"] != "INFO" ||
		m["calendarId"] != "cal1" || m["changed"] != float64(2) || m[KeyTrace] != "projects/p1/traces/"+traceID {
		t.Errorf("event line = %v", m)
	}
}

func TestLoggerContext(t *testing.T) {
	t.Parallel()
	if FromContext(context.Background()) != slog.Default() {
		t.Error("FromContext without logger is not slog.Default()")
	}
	l := New(&bytes.Buffer{}, Options{})
	if FromContext(WithLogger(context.Background(), l)) != l {
		t.Error("FromContext lost the logger")
	}
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	base := New(&buf, Options{ProjectID: "p1"})
	ctx := WithTrace(context.Background(), traceID, spanID)
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			l := base.With("worker", i)
			if i%2 == 0 {
				l = l.WithGroup("g")
			}
			for j := range each {
				l.InfoContext(ctx, "tick", "j", j, "email", "x@example.org")
			}
		})
	}
	wg.Wait()
	ls := lines(t, &buf)
	if len(ls) != workers*each {
		t.Fatalf("got %d lines, want %d", len(ls), workers*each)
	}
	for _, m := range ls {
		if m[KeyTrace] != "projects/p1/traces/"+traceID || m["message"] != "tick" {
			t.Fatalf("bad line %v", m)
		}
	}
	if strings.Contains(buf.String(), "example.org") {
		t.Fatal("leak under concurrency")
	}
}
