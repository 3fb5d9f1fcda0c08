package manage

import (
	"net/http"
	"strings"
	"testing"
)

// The body refusals of POST …/resync, answered before the connection is read.
func TestResyncBodyRefusals(t *testing.T) {
	t.Parallel()
	target := "/v1/tenants/t1/staff/anna/connections/g1/resync"
	for _, c := range []struct {
		body   string
		status int
		code   string
	}{
		{strings.Repeat(" ", 3<<10), http.StatusRequestEntityTooLarge, "body_too_large"},
		{`{"calendarId":"` + strings.Repeat("c", 1025) + `"}`, http.StatusBadRequest, "invalid_id"},
		{`{"unknown":1}`, http.StatusBadRequest, ""},
	} {
		if rec := serve(t, "POST", target, c.body, testKey); rec.Code != c.status || !strings.Contains(rec.Body.String(), c.code) {
			t.Errorf("%.30q: %d %s, want %d %s", c.body, rec.Code, rec.Body, c.status, c.code)
		}
	}
}
