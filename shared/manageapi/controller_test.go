package manageapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/clock"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/platform"
)

// The tests here exercise what a handler answers before it calls a service (a platform
// without Firestore or Pub/Sub); scripts/localstack drives every route end to end.

const (
	staffPath  = "/v1/tenants/{tenant}/staff/{staff}"
	tenantPath = "/v1/tenants/{tenant}"
)

// testController has a clock and a logger, nothing else (the log goes to logs).
func testController(logs io.Writer) *Controller {
	if logs == nil {
		logs = io.Discard
	}
	return New(&platform.Platform{Clock: clock.System{}, Log: slog.New(slog.NewJSONHandler(logs, nil))}, Config{})
}

// serve sends one request to h mounted at pattern (so the path values are set) and
// returns the answer.
func serve(t *testing.T, pattern string, h http.HandlerFunc, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	method, _, _ := strings.Cut(pattern, " ")
	mux := http.NewServeMux()
	mux.HandleFunc(pattern, h)
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

type refusal struct {
	name, target, body string
	status             int
	code               string
}

// expect checks each refusal's status and error code.
func expect(t *testing.T, pattern string, h http.HandlerFunc, cases []refusal) {
	t.Helper()
	for _, c := range cases {
		if rec := serve(t, pattern, h, c.target, c.body); rec.Code != c.status || !strings.Contains(rec.Body.String(), c.code) {
			t.Errorf("%s: %d %s, want %d %s", c.name, rec.Code, rec.Body, c.status, c.code)
		}
	}
}

type failingClock struct{}

func (failingClock) Now(context.Context) (time.Time, error) {
	return time.Time{}, errors.New("no clock")
}

// A clock that cannot be read is 503 clock_unavailable; an unknown error is logged and
// answered 500 without its text, a Problem as itself; a field error names the field.
func TestControllerAnswers(t *testing.T) {
	t.Parallel()
	c := New(&platform.Platform{Clock: failingClock{}}, Config{})
	rec := serve(t, "DELETE "+staffPath+"/bookings/{booking}", c.CancelBooking, "/v1/tenants/t1/staff/anna/bookings/b1", "")
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "clock_unavailable") {
		t.Errorf("no clock: %d %s", rec.Code, rec.Body)
	}
	var logs bytes.Buffer
	c = testController(&logs)
	fail := func(err error) string {
		rec := httptest.NewRecorder()
		c.fail(rec, httptest.NewRequest("GET", "/x", nil), err)
		return rec.Body.String()
	}
	if got := fail(errors.New("secret detail")); strings.Contains(got, "secret") || !strings.Contains(got, `"internal"`) || !strings.Contains(logs.String(), "secret detail") {
		t.Errorf("unknown error: answered %s, logged %s", got, logs.String())
	}
	logs.Reset()
	if got := fail(jsonhttp.BadRequest("invalid_json", "bad")); !strings.Contains(got, "invalid_json") || logs.Len() != 0 {
		t.Errorf("problem: answered %s, logged %s", got, logs.String())
	}
	rec = httptest.NewRecorder()
	writeFieldError(rec, "invalid_x", "a.b", "a.b: wrong")
	if rec.Code != http.StatusBadRequest || rec.Body.String() != `{"error":{"code":"invalid_x","message":"a.b: wrong","field":"a.b"}}`+"\n" {
		t.Errorf("field error: %d %q", rec.Code, rec.Body)
	}
}
