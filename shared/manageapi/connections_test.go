package manageapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/connect"
	"github.com/belbo/calsync/shared/health"
	"github.com/belbo/calsync/shared/store"
)

// The body refusals of POST …/connections and PATCH …/connections/{conn}, answered
// before any service call.
func TestConnectionRefusals(t *testing.T) {
	t.Parallel()
	c := testController(nil)
	base := "/v1/tenants/t1/staff/anna/connections"
	expect(t, "POST "+staffPath+"/connections", c.StartConnection, []refusal{
		{"unknown field", base, `{"return":"x"}`, http.StatusBadRequest, "invalid_json"},
		{"too large", base, `{"returnUrl":"` + strings.Repeat("u", 5<<10) + `"}`, http.StatusRequestEntityTooLarge, "body_too_large"},
	})
	expect(t, "PATCH "+staffPath+"/connections/{conn}", c.PatchConnection, []refusal{
		{"no calendar", base + "/g1", `{}`, http.StatusBadRequest, "invalid_write_calendar"},
		{"long calendar", base + "/g1", `{"writeCalendarId":"` + strings.Repeat("c", 1025) + `"}`, http.StatusBadRequest, "invalid_write_calendar"},
		{"not JSON", base + "/g1", `writeCalendarId=x`, http.StatusBadRequest, "invalid_json"},
	})
}

// A listed connection's health is left out, not null, when its calendars could not be
// read; deleteAfter appears only when set.
func TestListedJSON(t *testing.T) {
	t.Parallel()
	conn := &store.Connection{ID: "g1", Email: "a@x", Status: store.StatusReauthRequired, WriteCalendarID: "a@x"}
	at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		l         connect.Listed
		want, not []string
	}{
		{connect.Listed{Connection: conn, Picture: "https://p"}, []string{`"id":"g1"`, `"pictureUrl":"https://p"`, `"status":"reauth_required"`}, []string{"health", "deleteAfter"}},
		{connect.Listed{Connection: conn, Health: &health.Connection{State: health.PausedReauth}, DeleteAfter: &at},
			[]string{`"health":{`, `"state":"paused_reauth"`, `"deleteAfter":"2026-04-01T00:00:00Z"`}, []string{`"health":null`}},
	} {
		b, err := json.Marshal(listedJSON(c.l))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range c.want {
			if !strings.Contains(string(b), k) {
				t.Errorf("%s lacks %s", b, k)
			}
		}
		for _, k := range c.not {
			if strings.Contains(string(b), k) {
				t.Errorf("%s has %s", b, k)
			}
		}
	}
}
