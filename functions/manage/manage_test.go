package manage

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/platform"
)

const testKey = "0123456789abcdef"

func serve(t *testing.T, method, target, body string, key string) *httptest.ResponseRecorder {
	t.Helper()
	h, err := New(&platform.Platform{}, Config{ManageKey: config.ManageKey{ManageAPIKey: testKey}})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// Requests Manage refuses at its edge — key, route, path ids — before any service call.
func TestEdge(t *testing.T) {
	t.Parallel()
	base := "/v1/tenants/t1/staff/anna"
	for _, c := range []struct {
		name, method, target, key string
		status                    int
		code                      string
	}{
		{"no key", "GET", base + "/connections", "", http.StatusUnauthorized, "unauthenticated"},
		{"wrong key", "GET", base + "/connections", "fedcba9876543210", http.StatusUnauthorized, "unauthenticated"},
		{"unknown route", "GET", base + "/nothing", testKey, http.StatusNotFound, "not_found"},
		{"wrong method", "DELETE", base + "/events", testKey, http.StatusNotFound, "not_found"},
		{"bad tenant", "GET", "/v1/tenants/t.1/staff/anna/connections", testKey, http.StatusBadRequest, "invalid_id"},
		{"bad staff", "GET", "/v1/tenants/t1/staff/a%20b/events", testKey, http.StatusBadRequest, "invalid_id"},
		{"bad connection", "DELETE", base + "/connections/c%2F1", testKey, http.StatusBadRequest, "invalid_id"},
		{"bad calendar", "PUT", base + "/connections/g1/calendars/a%0Ab", testKey, http.StatusBadRequest, "invalid_id"},
	} {
		if rec := serve(t, c.method, c.target, "", c.key); rec.Code != c.status || !strings.Contains(rec.Body.String(), c.code) {
			t.Errorf("%s: %d %s, want %d %s", c.name, rec.Code, rec.Body, c.status, c.code)
		}
	}
}
