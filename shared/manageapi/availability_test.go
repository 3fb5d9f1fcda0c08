package manageapi

import (
	"net/http"
	"strings"
	"testing"
)

// The refusals of PUT …/availability: a body that is not the rules, and rules that do not
// validate (400 invalid_availability naming the field).
func TestAvailabilityRefusals(t *testing.T) {
	t.Parallel()
	target := "/v1/tenants/t1/staff/anna/availability"
	expect(t, "PUT "+staffPath+"/availability", testController(nil).PutAvailability, []refusal{
		{"not JSON", target, `rules`, http.StatusBadRequest, "invalid_json"},
		{"unknown field", target, `{"zone":"UTC"}`, http.StatusBadRequest, "invalid_json"},
		{"too large", target, `{"timeZone":"` + strings.Repeat("x", 257<<10) + `"}`, http.StatusRequestEntityTooLarge, "body_too_large"},
		{"bad zone", target, `{"timeZone":"Mars/Base","stepMin":30,"horizonDays":60}`, http.StatusBadRequest, `"field":"timeZone"`},
		{"bad range", target, `{"timeZone":"UTC","weekly":{"mon":[{"start":"10:00","end":"09:00"}]},"stepMin":30,"horizonDays":60}`,
			http.StatusBadRequest, `"code":"invalid_availability"`},
	})
}
