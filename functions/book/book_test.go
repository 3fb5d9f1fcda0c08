package book

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/belbo/calsync/shared/platform"
)

// Requests Book refuses before reading the clock or Firestore.
func TestRefusedBeforeAnyIO(t *testing.T) {
	t.Parallel()
	h, err := New(&platform.Platform{}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	const json = "application/json"
	good := `{"tenant":"t1","staff":"anna","start":"2026-11-03T10:00:00+01:00","serviceId":"cut","customer":{"name":"Erika","email":"erika@example.org"}}`
	for _, c := range []struct {
		method, path, ctype, body string
		status                    int
		code                      string
	}{
		{"GET", "/", "", "", http.StatusNotFound, "not_found"},
		{"POST", "/nope", json, "{}", http.StatusNotFound, "not_found"},
		{"POST", "/", json, strings.Repeat("x", 9<<10), http.StatusRequestEntityTooLarge, "body_too_large"},
		{"POST", "/cancel", json, "{", http.StatusBadRequest, ""},
		// A cross-site form or text/plain post (no CORS preflight) never reaches the handler.
		{"POST", "/", "text/plain", good, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"POST", "/", "application/x-www-form-urlencoded", good, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"POST", "/", "", good, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"POST", "/cancel", "text/plain", `{"id":"x","cancelToken":"y"}`, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"POST", "/?x=1", json, good, http.StatusBadRequest, "unknown_parameter"},
		{"POST", "/", json, strings.Replace(good, `"t1"`, `"__t1__"`, 1), http.StatusBadRequest, "invalid_request"},
		{"POST", "/", json, strings.Replace(good, `"serviceId":"cut"`, `"durationMin":0`, 1), http.StatusBadRequest, "service_required"},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		h.ServeHTTP(rec, req)
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.code) {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, rec.Code, rec.Body, c.status, c.code)
		}
		if got := rec.Header().Get("Cache-Control"); c.status != http.StatusNotFound && got != "no-store" {
			t.Errorf("%s %s: Cache-Control %q", c.method, c.path, got)
		}
	}
}
