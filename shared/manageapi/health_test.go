package manageapi

import (
	"net/http"
	"strings"
	"testing"
)

// The body refusals of POST …/resync, answered before the connection is read.
func TestResyncBodyRefusals(t *testing.T) {
	t.Parallel()
	target := "/v1/tenants/t1/staff/anna/connections/g1/resync"
	expect(t, "POST "+staffPath+"/connections/{conn}/resync", testController(nil).Resync, []refusal{
		{"too large", target, strings.Repeat(" ", 3<<10), http.StatusRequestEntityTooLarge, "body_too_large"},
		{"long calendar id", target, `{"calendarId":"` + strings.Repeat("c", 1025) + `"}`, http.StatusBadRequest, "invalid_id"},
		{"unknown field", target, `{"unknown":1}`, http.StatusBadRequest, ""},
	})
}
