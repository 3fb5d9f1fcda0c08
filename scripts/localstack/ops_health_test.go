package localstack

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/health"
	"github.com/belbo/calsync/shared/store"
)

// healthBody is GET …/connections with the health object (docs/api.md "Sync health").
type healthBody struct {
	Connections []struct {
		ID     string
		Status string
		Health *health.Connection
	}
}

func (h *harness) health(tenant, staff, conn string) *health.Connection {
	h.t.Helper()
	code, body := h.manage("GET", staffPath(tenant, staff)+"/connections", nil)
	if code != http.StatusOK {
		h.t.Fatalf("list connections: %d %s", code, body)
	}
	var out healthBody
	if err := json.Unmarshal(body, &out); err != nil {
		h.t.Fatal(err)
	}
	for _, c := range out.Connections {
		if c.ID == conn {
			if c.Health == nil {
				h.t.Fatalf("connection %s has no health: %s", conn, body)
			}
			return c.Health
		}
	}
	h.t.Fatalf("connection %s not listed: %s", conn, body)
	return nil
}

func calHealth(hc *health.Connection, googleID string) *health.Calendar {
	for i := range hc.Calendars {
		if hc.Calendars[i].CalendarID == googleID {
			return &hc.Calendars[i]
		}
	}
	return nil
}

func (h *harness) selectCalendar(tenant, staff, conn, googleID string, on bool) {
	h.t.Helper()
	code, body := h.manage("PUT", staffPath(tenant, staff)+"/connections/"+conn+"/calendars/"+url.PathEscape(googleID), map[string]bool{"selected": on})
	if code != http.StatusOK {
		h.t.Fatalf("select %s: %d %s", googleID, code, body)
	}
}

func (h *harness) resync(tenant, staff, conn string, body any) (int, map[string]any) {
	h.t.Helper()
	code, raw := h.manage("POST", staffPath(tenant, staff)+"/connections/"+conn+"/resync", body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return code, out
}

// waitHealthy polls the management API until every listed calendar is ok.
func (h *harness) waitHealthy(tenant, staff, conn string, cals ...string) {
	h.t.Helper()
	eventually(h.t, 30*time.Second, "calendars healthy", func() bool {
		hc := h.health(tenant, staff, conn)
		for _, id := range cals {
			c := calHealth(hc, id)
			if c == nil || c.State != health.OK {
				return false
			}
		}
		return hc.State == health.OK
	})
}

// A calendar whose sync keeps failing shows rising consecutiveFailures and the error
// class in the management API; after the fault clears and a sync succeeds it is healthy.
func TestOpsHealthFailingThenHealthy(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	primary, _ := h.addAccount("fail@example.com")
	conn := mustConnect(t, h, "t1", "s1", "fail@example.com")
	h.selectCalendar("t1", "s1", conn, primary, true)
	h.waitHealthy("t1", "s1", conn, primary)

	hc := h.health("t1", "s1", conn)
	ch := calHealth(hc, primary)
	if ch.LastSyncAt == nil || ch.ChannelExpiry == nil || ch.ConsecutiveFailures != 0 || hc.Action != health.ActionNone || hc.Status != store.StatusActive {
		t.Fatalf("healthy calendar: %+v / %+v", hc, ch)
	}

	// Google answers 500 to every events.list of this calendar.
	if err := h.FG.AddFault(fakegoogle.Fault{Op: "events.list", Calendar: primary, Status: 500, Count: 1000}); err != nil {
		t.Fatal(err)
	}
	if code, out := h.resync("t1", "s1", conn, map[string]any{"calendarId": primary}); code != http.StatusAccepted || out["published"] != 1.0 {
		t.Fatalf("resync: %d %v", code, out)
	}
	var seen []int
	eventually(t, 60*time.Second, "consecutiveFailures to reach 3", func() bool {
		c := calHealth(h.health("t1", "s1", conn), primary)
		if n := c.ConsecutiveFailures; len(seen) == 0 || seen[len(seen)-1] != n {
			seen = append(seen, n)
		}
		return c.ConsecutiveFailures >= 3
	})
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Fatalf("consecutiveFailures went down while failing: %v", seen)
		}
	}
	hc = h.health("t1", "s1", conn)
	ch = calHealth(hc, primary)
	if ch.State != health.Failing || hc.State != health.Failing || ch.LastErrorClass != "google_server" || ch.LastErrorAt == nil || hc.Action != health.ActionOperator {
		t.Fatalf("failing calendar: %+v / %+v", hc, ch)
	}
	t.Logf("consecutiveFailures observed: %v", seen)

	// The fault clears; the next sync (here a forced one) succeeds.
	h.FG.ClearFaults()
	if code, out := h.resync("t1", "s1", conn, nil); code != http.StatusAccepted || out["published"] != 1.0 || out["reason"] != "safety" {
		t.Fatalf("resync after fault: %d %v", code, out)
	}
	h.waitHealthy("t1", "s1", conn, primary)
	ch = calHealth(h.health("t1", "s1", conn), primary)
	if ch.ConsecutiveFailures != 0 || ch.LastErrorClass != "" {
		t.Fatalf("recovered calendar: %+v", ch)
	}
}

func TestOpsResyncEndpoint(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	primary, second := h.addAccount("resync@example.com")
	conn := mustConnect(t, h, "t1", "s1", "resync@example.com")
	h.selectCalendar("t1", "s1", conn, primary, true)
	h.waitHealthy("t1", "s1", conn, primary)

	runs := func() int64 { return calHealth(h.health("t1", "s1", conn), primary).SyncRuns }
	before := runs()
	full0 := calHealth(h.health("t1", "s1", conn), primary).LastFullSyncAt
	h.FG.Advance(time.Minute)
	code, out := h.resync("t1", "s1", conn, map[string]any{"full": true})
	if code != http.StatusAccepted || out["published"] != 1.0 || out["reason"] != "full" {
		t.Fatalf("full resync: %d %v", code, out)
	}
	eventually(t, 30*time.Second, "the full resync to run", func() bool {
		c := calHealth(h.health("t1", "s1", conn), primary)
		return c.SyncRuns > before && c.LastFullSyncAt != nil && c.LastFullSyncAt.After(*full0)
	})

	for _, tc := range []struct {
		body any
		code int
		err  string
	}{
		{map[string]any{"calendarId": second}, http.StatusConflict, "calendar_not_selected"},
		{map[string]any{"calendarId": "nope@example.com"}, http.StatusNotFound, "calendar_not_found"},
		{map[string]any{"bogus": 1}, http.StatusBadRequest, "invalid_json"},
	} {
		code, out := h.resync("t1", "s1", conn, tc.body)
		e, _ := out["error"].(map[string]any)
		if code != tc.code || e["code"] != tc.err {
			t.Errorf("resync %v: %d %v, want %d %s", tc.body, code, out, tc.code, tc.err)
		}
	}
	if code, _ := h.resync("t1", "s1", "gnope", nil); code != http.StatusNotFound {
		t.Errorf("unknown connection: %d", code)
	}
	if code, _ := h.resync("t2", "s1", conn, nil); code != http.StatusNotFound {
		t.Errorf("other tenant's connection: %d", code)
	}
}
