package slots

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/belbo/calsync/shared/platform"
)

// Requests Slots refuses before reading the clock or Firestore.
func TestRefusedBeforeAnyIO(t *testing.T) {
	t.Parallel()
	h, err := New(&platform.Platform{}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, target string
		status         int
		code           string
	}{
		{"POST", "/", http.StatusMethodNotAllowed, "method_not_allowed"},
		{"GET", "/other", http.StatusNotFound, "not_found"},
		{"GET", "/?tenant=", http.StatusBadRequest, "invalid_"},
		{"GET", "/?tenant=__x__&staff=a&serviceId=s&from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z", http.StatusBadRequest, "invalid_tenant"},
		{"GET", "/?tenant=t&staff=a&serviceId=s&from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z&x=1", http.StatusBadRequest, "unknown_parameter"},
		{"GET", "/?tenant=t&staff=a&from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z", http.StatusBadRequest, "service_required"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.target, nil))
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.code) {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.target, rec.Code, rec.Body, c.status, c.code)
		}
	}
}

func TestSnake(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"durationMin": "duration", "tenant": "tenant", "from": "from"} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}
