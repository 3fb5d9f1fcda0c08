package manageapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The refusals of PUT and DELETE …/services/{service}, answered before the catalogue is
// read.
func TestServiceRefusals(t *testing.T) {
	t.Parallel()
	c := testController(nil)
	base := "/v1/tenants/t1/services/"
	expect(t, "PUT "+tenantPath+"/services/{service}", c.PutService, []refusal{
		{"reserved id", base + "__x__", `{"name":"Cut","durationMin":30}`, http.StatusBadRequest, "invalid_id"},
		{"too large", base + "cut", `{"name":"` + strings.Repeat("n", 17<<10) + `"}`, http.StatusRequestEntityTooLarge, "body_too_large"},
		{"not an object", base + "cut", `[1]`, http.StatusBadRequest, `"field":"body"`},
		{"other id", base + "cut", `{"id":"trim","name":"Cut","durationMin":30}`, http.StatusBadRequest, `"field":"id"`},
		{"no name", base + "cut", `{"durationMin":30}`, http.StatusBadRequest, `"code":"invalid_service"`},
	})
	expect(t, "DELETE "+tenantPath+"/services/{service}", c.DeleteService, []refusal{
		{"reserved id", base + "__x__", "", http.StatusBadRequest, "invalid_id"},
	})
	// The body must be declared JSON (a cross-site form cannot reach the handler).
	mux := http.NewServeMux()
	mux.HandleFunc("PUT "+tenantPath+"/services/{service}", c.PutService)
	req := httptest.NewRequest("PUT", base+"cut", strings.NewReader(`{"name":"Cut","durationMin":30}`))
	req.Header.Set("Content-Type", "text/plain")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %d %s", rec.Code, rec.Body)
	}
}
