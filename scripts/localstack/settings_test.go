package localstack

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/belbo/calsync/shared/tenant"
)

// TestTenantSettingsAPI drives Manage's tenant-level settings routes: defaults for a new
// tenant, a merge patch that changes only what it names, 400 with the field for an invalid
// value and for an unknown field, and tenant isolation.
func TestTenantSettingsAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	get := func(tenantID string) tenant.Settings {
		t.Helper()
		code, body := h.manage(http.MethodGet, "/v1/tenants/"+tenantID+"/settings", nil)
		if code != http.StatusOK {
			t.Fatalf("GET settings: %d %s", code, body)
		}
		var s tenant.Settings
		if err := json.Unmarshal(body, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := get("acme"); got != tenant.Defaults() {
		t.Fatalf("a new tenant reads %+v, want the defaults", got)
	}
	code, body := h.manage(http.MethodPatch, "/v1/tenants/acme/settings", map[string]any{
		"freeFormBooking": true, "retention": map[string]any{"customerDataDays": 60},
	})
	if code != http.StatusOK {
		t.Fatalf("PATCH: %d %s", code, body)
	}
	want := tenant.Defaults()
	want.FreeFormBooking, want.Retention.CustomerDataDays = true, 60
	if got := get("acme"); got != want {
		t.Fatalf("after PATCH: %+v\nwant %+v", got, want)
	}
	if got := get("other"); got != tenant.Defaults() {
		t.Fatalf("another tenant's settings changed: %+v", got)
	}
	for _, tc := range []struct {
		body any
		code string
	}{
		{map[string]any{"limits": map[string]any{"perIp": map[string]any{"hour": 0}}}, `"field":"limits.perIp.hour"`},
		{map[string]any{"freeFormBookin": true}, `"code":"invalid_json"`},
	} {
		code, body := h.manage(http.MethodPatch, "/v1/tenants/acme/settings", tc.body)
		if code != http.StatusBadRequest || !strings.Contains(string(body), tc.code) {
			t.Errorf("PATCH %v: %d %s; want 400 with %s", tc.body, code, body, tc.code)
		}
	}
	if got := get("acme"); got != want {
		t.Fatalf("a refused PATCH changed the settings: %+v", got)
	}
	if code, _ := h.manage(http.MethodGet, "/v1/tenants/a%2Fb/settings", nil); code != http.StatusBadRequest && code != http.StatusNotFound {
		t.Fatalf("an invalid tenant id answered %d", code)
	}
}
