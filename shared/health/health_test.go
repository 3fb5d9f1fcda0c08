package health

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/store"
)

var now = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

func healthyCal(id string) *store.Calendar {
	return &store.Calendar{
		DocID: store.CalendarDocID(id), GoogleID: id, Name: "Private title", Selected: true,
		LastSyncAt: now.Add(-5 * time.Minute), LastFullSyncAt: now.Add(-time.Hour),
		Channel:       &store.Channel{ID: "ch1", Expiry: now.Add(72 * time.Hour)},
		ChannelExpiry: now.Add(72 * time.Hour), SyncRuns: 4,
	}
}

func TestCalendarStates(t *testing.T) {
	t.Parallel()
	th := DefaultThresholds(30 * time.Minute)
	cases := []struct {
		name   string
		mod    func(c *store.Calendar)
		active bool
		want   State
		reason string
	}{
		{"healthy", func(c *store.Calendar) {}, true, OK, ""},
		{"first sync pending", func(c *store.Calendar) { c.LastSyncAt = time.Time{} }, true, Syncing, ReasonFirstSyncPending},
		{"no channel", func(c *store.Calendar) { c.Channel = nil; c.ChannelExpiry = time.Time{} }, true, NoChannel, ReasonNoChannel},
		{"channel expired", func(c *store.Calendar) { c.Channel.Expiry = now.Add(-time.Minute) }, true, NoChannel, ReasonChannelExpired},
		{"one failure", func(c *store.Calendar) { c.Failures = 1; c.LastErrorClass = "google_server" }, true, Degraded, ReasonFailures},
		{"three failures", func(c *store.Calendar) { c.Failures = 3; c.LastErrorClass = "rate_limited" }, true, Failing, ReasonFailures},
		{"permanent error", func(c *store.Calendar) { c.Failures = 1; c.LastErrorClass = "not_found" }, true, Failing, ReasonPermanentError},
		{"stale", func(c *store.Calendar) { c.LastSyncAt = now.Add(-2 * time.Hour) }, true, Degraded, ReasonStale},
		{"push waiting", func(c *store.Calendar) {
			c.LastPushAt = now.Add(-11 * time.Minute)
			c.LastSyncAt = now.Add(-20 * time.Minute)
		}, true, Degraded, ReasonPushLag},
		{"reauth", func(c *store.Calendar) { c.Channel = nil }, false, PausedReauth, ReasonReauth},
		{"reauth beats failing", func(c *store.Calendar) { c.Failures = 9 }, false, PausedReauth, ReasonReauth},
		{"failing never synced", func(c *store.Calendar) { c.LastSyncAt = time.Time{}; c.Failures = 4 }, true, Failing, ReasonFailures},
	}
	for _, tc := range cases {
		c := healthyCal("work@example.com")
		tc.mod(c)
		h := ForCalendar(c, tc.active, now, th)
		if h.State != tc.want {
			t.Errorf("%s: state %s, want %s (reasons %v)", tc.name, h.State, tc.want, h.Reasons)
		}
		if tc.reason != "" && !strings.Contains(strings.Join(h.Reasons, ","), tc.reason) {
			t.Errorf("%s: reasons %v lack %s", tc.name, h.Reasons, tc.reason)
		}
		if tc.reason == "" && len(h.Reasons) != 0 {
			t.Errorf("%s: unexpected reasons %v", tc.name, h.Reasons)
		}
	}
}

func TestPushLag(t *testing.T) {
	t.Parallel()
	c := healthyCal("a")
	c.LastPushAt = now.Add(-6 * time.Minute)
	c.LastSyncAt = now.Add(-5 * time.Minute)
	h := ForCalendar(c, true, now, Thresholds{})
	if h.PushLagSeconds == nil || *h.PushLagSeconds != 60 || h.PushPending || h.State != OK {
		t.Fatalf("synced push: %+v", h)
	}
	c.LastPushAt = now.Add(-2 * time.Minute)
	h = ForCalendar(c, true, now, Thresholds{})
	if h.PushLagSeconds == nil || *h.PushLagSeconds != 120 || !h.PushPending || h.State != OK {
		t.Fatalf("pending push: %+v", h)
	}
}

func TestConnectionIsWorstOfSelectedAndHasNoPersonalData(t *testing.T) {
	t.Parallel()
	a, b, off := healthyCal("work@example.com"), healthyCal("team@group.example.com"), healthyCal("off@example.com")
	b.Failures, b.LastErrorClass = 1, "google_server"
	off.Selected, off.Failures = false, 99
	conn := &store.Connection{ID: "g1", Tenant: "t", Staff: "s", Email: "staff@example.com", Status: store.StatusActive}
	h := ForConnection(conn, []*store.Calendar{a, b, off}, now, Thresholds{}, true)
	if h.State != Degraded || h.Action != ActionWait || len(h.Calendars) != 2 || h.ConsecutiveFailures != 1 {
		t.Fatalf("connection health: %+v", h)
	}
	if h.LastSyncAt == nil || !h.LastSyncAt.Equal(now.Add(-5*time.Minute)) {
		t.Fatalf("lastSyncAt %v", h.LastSyncAt)
	}
	js, _ := json.Marshal(ForConnection(conn, []*store.Calendar{a, b}, now, Thresholds{}, false))
	for _, bad := range []string{"@", "Private title", "staff@"} {
		if strings.Contains(string(js), bad) {
			t.Fatalf("health without ids contains %q: %s", bad, js)
		}
	}
	conn.Status = store.StatusReauthRequired
	h = ForConnection(conn, nil, now, Thresholds{}, false)
	if h.State != PausedReauth || h.Action != ActionReconnect {
		t.Fatalf("reauth connection: %+v", h)
	}
	conn.Status = store.StatusActive
	h = ForConnection(conn, nil, now, Thresholds{}, false)
	if h.State != OK || h.Action != ActionNone || h.Calendars == nil || h.LastSyncAt != nil {
		t.Fatalf("no calendars: %+v", h)
	}
}

func TestResyncMessages(t *testing.T) {
	t.Parallel()
	a, b, off := healthyCal("a@example.com"), healthyCal("b@example.com"), healthyCal("c@example.com")
	off.Selected = false
	conn := &store.Connection{ID: "g1", Tenant: "t", Staff: "s", Status: store.StatusActive}
	cals := []*store.Calendar{a, b, off}
	if got := ResyncMessages(conn, cals, "", false); len(got) != 2 || got[0].Reason != "safety" {
		t.Fatalf("all: %+v", got)
	}
	got := ResyncMessages(conn, cals, "b@example.com", true)
	if len(got) != 1 || got[0].Calendar != b.DocID || got[0].Reason != "full" || got[0].Connection != "g1" {
		t.Fatalf("one by google id: %+v", got)
	}
	if got := ResyncMessages(conn, cals, a.DocID, true); len(got) != 1 || got[0].Calendar != a.DocID {
		t.Fatalf("one by doc id: %+v", got)
	}
	if got := ResyncMessages(conn, cals, "c@example.com", true); len(got) != 0 {
		t.Fatalf("unselected: %+v", got)
	}
}

// TestPollModeAndSlotsPolicy (issue 15): a polled calendar has no channel by design and is
// ok when synced; a connection that needs reauthorisation withholds slots unless the
// tenant offers them anyway.
func TestPollModeAndSlotsPolicy(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	polled := &store.Calendar{DocID: "c1", Selected: true, SyncMode: store.SyncModePoll, LastSyncAt: now.Add(-4 * time.Minute), LastFullSyncAt: now.Add(-time.Hour)}
	h := ForCalendar(polled, true, now, Thresholds{})
	if h.Mode != ModePoll || h.State != OK || len(h.Reasons) != 0 {
		t.Fatalf("polled calendar: %+v", h)
	}
	pushed := &store.Calendar{DocID: "c2", Selected: true, LastSyncAt: now.Add(-4 * time.Minute)}
	if h := ForCalendar(pushed, true, now, Thresholds{}); h.Mode != ModePush || h.State != NoChannel {
		t.Fatalf("push calendar without channel: %+v", h)
	}
	stale := *polled
	stale.LastSyncAt = now.Add(-3 * time.Hour)
	if h := ForCalendar(&stale, true, now, Thresholds{}); h.State != Degraded {
		t.Fatalf("polls stopped: %+v", h)
	}
	for _, tc := range []struct {
		status string
		offer  bool
		slots  string
		reason string
	}{
		{store.StatusActive, false, SlotsOffered, ""},
		{store.StatusActive, true, SlotsOffered, ""},
		{store.StatusReauthRequired, false, SlotsWithheld, ReasonReauth},
		{store.StatusReauthRequired, true, SlotsUnchecked, ReasonReauth},
	} {
		c := ForConnection(&store.Connection{Status: tc.status}, nil, now, Thresholds{}, false)
		c.ApplySlotsPolicy(tc.offer)
		if c.Slots != tc.slots || c.SlotsReason != tc.reason {
			t.Errorf("%s offer=%v: slots %q reason %q, want %q %q", tc.status, tc.offer, c.Slots, c.SlotsReason, tc.slots, tc.reason)
		}
	}
}
