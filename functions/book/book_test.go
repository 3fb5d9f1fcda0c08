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
	h, err := New(&platform.Platform{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"GET", "/", "", http.StatusNotFound, "not_found"},
		{"POST", "/nope", "{}", http.StatusNotFound, "not_found"},
		{"POST", "/", strings.Repeat("x", 9<<10), http.StatusRequestEntityTooLarge, "body_too_large"},
		{"POST", "/cancel", "{", http.StatusBadRequest, ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, strings.NewReader(c.body)))
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.code) {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, rec.Code, rec.Body, c.status, c.code)
		}
		if got := rec.Header().Get("Cache-Control"); c.status != http.StatusNotFound && got != "no-store" {
			t.Errorf("%s %s: Cache-Control %q", c.method, c.path, got)
		}
	}
}
