package manageapi

import (
	"net/http"
	"strings"
	"testing"
)

// A settings patch larger than 16 KiB is refused before the settings are read.
func TestSettingsRefusals(t *testing.T) {
	t.Parallel()
	expect(t, "PATCH "+tenantPath+"/settings", testController(nil).PatchSettings, []refusal{
		{"too large", "/v1/tenants/t1/settings", `{"x":"` + strings.Repeat("x", 16<<10) + `"}`, http.StatusRequestEntityTooLarge, "body_too_large"},
	})
}
