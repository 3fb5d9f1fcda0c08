package webui

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestProxiesOnlyForTheLocalPages(t *testing.T) {
	t.Parallel()
	var reached int
	manage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		if r.Header.Get("Authorization") != "Bearer k" {
			t.Errorf("key not added: %q", r.Header.Get("Authorization"))
		}
	}))
	defer manage.Close()
	h := Handler(Options{Dir: t.TempDir(), ManageURL: manage.URL + "/", ManageKey: "k"})
	tests := []struct {
		host, site string
		want       int
	}{
		{"127.0.0.1:8080", "same-origin", 200},
		{"localhost:8080", "", 200},
		{"127.0.0.1:8080", "cross-site", 403},
		{"127.0.0.1:8080", "same-site", 403},
		{"evil.example:8080", "same-origin", 403}, // DNS rebinding
	}
	for _, tc := range tests {
		r := httptest.NewRequest("GET", "/backend/v1/tenants/demo/staff/anna/connections", nil)
		r.Host = tc.host
		if tc.site != "" {
			r.Header.Set("Sec-Fetch-Site", tc.site)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("host %s site %q: %d, want %d", tc.host, tc.site, w.Code, tc.want)
		}
	}
	if reached != 2 {
		t.Fatalf("Manage reached %d times, want 2", reached)
	}
}
