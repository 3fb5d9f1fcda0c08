package manageapi

import (
	"net/http"
	"testing"
)

// The range and page-token refusals of GET …/events (shared/events decides; Manage maps).
func TestEventsRefusals(t *testing.T) {
	t.Parallel()
	base := "/v1/tenants/t1/staff/anna/events"
	var cases []refusal
	for _, c := range []struct {
		query string
		code  string
	}{
		{"", "invalid_range"},
		{"?from=2026-03-01&to=2026-03-02", "invalid_range"},
		{"?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "invalid_range"},
		{"?from=2026-01-01T00:00:00Z&to=2026-03-05T00:00:00Z", "invalid_range"},
		{"?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&pageToken=x", "invalid_page_token"},
	} {
		cases = append(cases, refusal{c.query, base + c.query, "", http.StatusBadRequest, c.code})
	}
	expect(t, "GET "+staffPath+"/events", testController(nil).ListEvents, cases)
}
