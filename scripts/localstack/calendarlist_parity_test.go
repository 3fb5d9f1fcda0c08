package localstack

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/messages"
)

type calendarEntryJSON struct {
	ID, Name, AccessRole string
	Selected, Hidden     bool
	Writable             bool
}

func (h *harness) calendarList(tenant, staff, conn string) map[string]calendarEntryJSON {
	h.t.Helper()
	code, body := h.manage("GET", staffPath(tenant, staff)+"/connections/"+conn+"/calendars", nil)
	if code != http.StatusOK {
		h.t.Fatalf("list calendars: %d %s", code, body)
	}
	var out struct{ Calendars []calendarEntryJSON }
	if err := json.Unmarshal(body, &out); err != nil {
		h.t.Fatal(err)
	}
	m := map[string]calendarEntryJSON{}
	for _, c := range out.Calendars {
		m[c.ID] = c
	}
	return m
}

// TestHiddenSelectedCalendarKeepsBlocking (issue 15, item 1): the staff member hides a
// selected calendar in Google's sidebar. Neither a reconnect nor the hourly list pass of
// RenewChannels treats it as gone: its events and busy data stay, its channel stays, the
// slot it blocks stays blocked, and the calendars API shows hidden=true.
// Without ShowHidden(true) in connect.ListGoogleCalendars this test fails: the reconnect
// deletes the calendar with its events and the slot is offered again.
func TestHiddenSelectedCalendarKeepsBlocking(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	h.freeFormTenant("t1") // books or asks for slots with durationMin, no catalogue
	_, second := h.addAccount("anna@example.com")
	h.setRules("t1", "anna", weekdayRules())
	const day = "2026-11-03" // Tuesday
	busyAt := day + "T10:00:00+01:00"
	at, _ := time.Parse(time.RFC3339, busyAt)
	if _, err := h.FG.CreateEvent(second, eventAt("Physio", at)); err != nil {
		t.Fatal(err)
	}
	conn := mustConnect(t, h, "t1", "anna", "anna@example.com")
	h.selectCal("t1", "anna", conn, second, true)
	eventually(t, 30*time.Second, "the event to be synced", func() bool { return len(h.storedEvents("t1", "anna", conn, second)) == 1 })
	if slices.Contains(h.slotStarts("t1", "anna", day), busyAt) {
		t.Fatal("set-up: the event does not block its slot")
	}
	h.quiesce("t1", "anna", conn, second)
	channel := h.assertOneLiveChannel("t1", "anna", conn, second)

	if err := h.FG.SetListEntry("anna@example.com", second, fakegoogle.ListEntryPatch{Hidden: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	check := func(after string) {
		t.Helper()
		if n := len(h.storedEvents("t1", "anna", conn, second)); n != 1 {
			t.Fatalf("after %s: %d events stored, want 1", after, n)
		}
		c := h.calendarDoc("t1", "anna", conn, second)
		if c == nil || !c.Selected || !c.Hidden {
			t.Fatalf("after %s: calendar doc %+v", after, c)
		}
		if live := h.assertOneLiveChannel("t1", "anna", conn, second); live.ID != channel.ID {
			t.Fatalf("after %s: channel replaced (%s → %s)", after, channel.ID, live.ID)
		}
		if slices.Contains(h.slotStarts("t1", "anna", day), busyAt) {
			t.Fatalf("after %s: the hidden calendar's event no longer blocks its slot", after)
		}
		if e := h.calendarList("t1", "anna", conn)[second]; !e.Hidden || !e.Selected {
			t.Fatalf("after %s: calendars API entry %+v, want hidden and selected", after, e)
		}
	}
	mustConnect(t, h, "t1", "anna", "anna@example.com") // reconnect
	h.quiesce("t1", "anna", conn, second)
	check("a reconnect")

	// The hourly calendar-list pass of RenewChannels.
	res, err := h.renewer().RenewConnection(context.Background(), messages.Renew{Tenant: "t1", Staff: "anna", Connection: conn}, h.FG.Now().Add(2*time.Hour))
	if err != nil || !res.ListRefresh {
		t.Fatalf("renewal run: %+v %v", res, err)
	}
	check("the hourly list pass")

	// Unhidden: the flag follows.
	if err := h.FG.SetListEntry("anna@example.com", second, fakegoogle.ListEntryPatch{Hidden: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if e := h.calendarList("t1", "anna", conn)[second]; e.Hidden || !e.Selected {
		t.Fatalf("unhidden: %+v", e)
	}
}

// TestUnwatchableCalendarIsPolled (issue 15, item 2): selecting a holidays calendar —
// events.watch answers 400 pushNotSupportedForRequestedResource — succeeds (it answered
// 500 before), puts the calendar into polling mode (no channel; health mode "poll", state
// ok), and RenewChannels' tick picks up a Google-side change once POLL_INTERVAL has
// passed on the fake clock. Ticks never ask Google for a channel again.
func TestUnwatchableCalendarIsPolled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	h.addAccount("anna@example.com")
	if _, err := h.FG.CreateAccount(fakegoogle.Account{Email: "holidays@example.com", Name: "Google holidays"}); err != nil {
		t.Fatal(err)
	}
	const holidays = "en.german#holiday@group.v.calendar.google.com"
	if _, err := h.FG.CreateCalendar(fakegoogle.CalendarSpec{Email: "holidays@example.com", ID: holidays, Summary: "Holidays in Germany", TimeZone: "Europe/Berlin"}); err != nil {
		t.Fatal(err)
	}
	if err := h.FG.ShareCalendar(holidays, "anna@example.com", fakegoogle.RoleReader); err != nil {
		t.Fatal(err)
	}
	first, err := h.FG.CreateEvent(holidays, eventAt("Feiertag", h.FG.Now().Add(50*time.Hour).Truncate(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	conn := mustConnect(t, h, "t1", "anna", "anna@example.com")
	h.selectCal("t1", "anna", conn, holidays, true) // fails the test on anything but 200
	eventually(t, 30*time.Second, "the holiday to be synced", func() bool { _, ok := h.storedEvents("t1", "anna", conn, holidays)[first.Id]; return ok })
	h.quiesce("t1", "anna", conn, holidays)
	c := h.calendarDoc("t1", "anna", conn, holidays)
	if c.SyncMode != "poll" || c.Channel != nil || len(liveChannels(h.FG, holidays)) != 0 {
		t.Fatalf("after select: syncMode=%q channel=%+v", c.SyncMode, c.Channel)
	}
	hc := calHealth(h.health("t1", "anna", conn), holidays)
	if hc == nil || hc.Mode != "poll" || hc.State != "ok" {
		t.Fatalf("health of the polled calendar: %+v", hc)
	}
	watches := h.FG.Calls("events.watch")
	syncs := c.SyncRuns

	// A change at Google: no push comes. Within the interval a tick does nothing…
	second, err := h.FG.CreateEvent(holidays, eventAt("Brückentag", h.FG.Now().Add(74*time.Hour).Truncate(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	h.FG.Advance(2 * time.Minute)
	st, err := h.renewer().Scan(context.Background(), h.FG.Now())
	if err != nil || st.PollDue != 0 {
		t.Fatalf("tick within POLL_INTERVAL: %+v %v", st, err)
	}
	// …once POLL_INTERVAL (5 min) has passed, the tick's poll syncs it.
	h.FG.Advance(4 * time.Minute)
	h.tick()
	eventually(t, 30*time.Second, "the polled change to arrive", func() bool { _, ok := h.storedEvents("t1", "anna", conn, holidays)[second.Id]; return ok })
	h.quiesce("t1", "anna", conn, holidays)
	// More ticks, more polls: never another events.watch.
	for range 3 {
		h.FG.Advance(6 * time.Minute)
		h.tick()
		before := h.calendarDoc("t1", "anna", conn, holidays).SyncRuns
		eventually(t, 30*time.Second, "the next poll", func() bool { return h.calendarDoc("t1", "anna", conn, holidays).SyncRuns > before })
		h.quiesce("t1", "anna", conn, holidays)
	}
	if n := h.FG.Calls("events.watch"); n != watches {
		t.Fatalf("events.watch called %d more times for a calendar that cannot be watched", n-watches)
	}
	if got := h.calendarDoc("t1", "anna", conn, holidays).SyncRuns; got < syncs+4 {
		t.Fatalf("sync runs %d → %d, want at least 4 polls", syncs, got)
	}
}

// TestSharedCalendarRolesBlockTime (issue 15, item 3): calendars shared with the staff
// member as reader and as freeBusyReader are listed with their role, can be selected and
// sync; Google withholds the details of a private event from a reader and of every event
// from a free/busy reader, so those are stored without title and description — and still
// block their slots. Only owner and writer calendars can receive bookings.
func TestSharedCalendarRolesBlockTime(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	h.freeFormTenant("t1") // books or asks for slots with durationMin, no catalogue
	h.addAccount("anna@example.com")
	h.setRules("t1", "anna", weekdayRules())
	if _, err := h.FG.CreateAccount(fakegoogle.Account{Email: "bob@example.com", Name: "Bob"}); err != nil {
		t.Fatal(err)
	}
	shared := map[string]string{}
	for _, role := range []string{fakegoogle.RoleReader, fakegoogle.RoleFreeBusyReader, fakegoogle.RoleWriter} {
		c, err := h.FG.CreateCalendar(fakegoogle.CalendarSpec{Email: "bob@example.com", Summary: "Bob " + role, TimeZone: "Europe/Berlin"})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.FG.ShareCalendar(c.ID, "anna@example.com", role); err != nil {
			t.Fatal(err)
		}
		shared[role] = c.ID
	}
	const day = "2026-11-03" // Tuesday
	at := func(hhmm string) time.Time { t0, _ := time.Parse(time.RFC3339, day+"T"+hhmm+":00+01:00"); return t0 }
	add := func(cal, summary, visibility, hhmm string) string {
		ev := eventAt(summary, at(hhmm))
		ev.Visibility, ev.Description = visibility, "details of "+summary
		out, err := h.FG.CreateEvent(cal, ev)
		if err != nil {
			t.Fatal(err)
		}
		return out.Id
	}
	privateID := add(shared[fakegoogle.RoleReader], "Therapy", "private", "10:00")
	publicID := add(shared[fakegoogle.RoleReader], "Team sync", "", "12:00")
	fbID := add(shared[fakegoogle.RoleFreeBusyReader], "Court hearing", "", "14:00")

	conn := mustConnect(t, h, "t1", "anna", "anna@example.com")
	list := h.calendarList("t1", "anna", conn)
	for role, id := range shared {
		e := list[id]
		if e.AccessRole != role || e.Writable != (role == fakegoogle.RoleWriter) {
			t.Fatalf("calendars API entry of the %s calendar: %+v", role, e)
		}
	}
	h.selectCal("t1", "anna", conn, shared[fakegoogle.RoleReader], true)
	h.selectCal("t1", "anna", conn, shared[fakegoogle.RoleFreeBusyReader], true)
	eventually(t, 30*time.Second, "the shared calendars to sync", func() bool {
		return len(h.storedEvents("t1", "anna", conn, shared[fakegoogle.RoleReader])) == 2 &&
			len(h.storedEvents("t1", "anna", conn, shared[fakegoogle.RoleFreeBusyReader])) == 1
	})
	reader := h.storedEvents("t1", "anna", conn, shared[fakegoogle.RoleReader])
	if reader[privateID] != "" || reader[publicID] != "Team sync" {
		t.Fatalf("reader calendar titles: %v (a private event must come without its title)", reader)
	}
	if fb := h.storedEvents("t1", "anna", conn, shared[fakegoogle.RoleFreeBusyReader]); fb[fbID] != "" {
		t.Fatalf("free/busy calendar titles: %v", fb)
	}
	slots := h.slotStarts("t1", "anna", day)
	for _, hhmm := range []string{"10:00", "10:30", "12:00", "14:00", "14:30"} {
		if slices.Contains(slots, day+"T"+hhmm+":00+01:00") {
			t.Errorf("slot %s is offered although a shared calendar is busy then", hhmm)
		}
	}
	if !slices.Contains(slots, day+"T11:00:00+01:00") {
		t.Error("a free slot between the shared events is not offered")
	}
	// Bookings go only into calendars the account may write to.
	for role, want := range map[string]int{fakegoogle.RoleReader: http.StatusUnprocessableEntity, fakegoogle.RoleFreeBusyReader: http.StatusUnprocessableEntity, fakegoogle.RoleWriter: http.StatusOK} {
		code, body := h.manage("PATCH", staffPath("t1", "anna")+"/connections/"+conn, map[string]string{"writeCalendarId": shared[role]})
		if code != want {
			t.Errorf("write calendar = %s calendar: %d %s, want %d", role, code, body, want)
		}
	}
}
