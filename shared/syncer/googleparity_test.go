package syncer_test

// Product-side tests for issue 15 items 4–7: Google's awkward corners as the fake now
// models them (shared/fakegoogle/README.md lists the sources).

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/calevents"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/store"
)

// storedEvent reads one event document.
func (e *env) storedEvent(id string) (store.Event, bool) {
	e.t.Helper()
	snap, err := e.Store.Events(e.Ref).Doc(id).Get(context.Background())
	if store.NotFound(err) {
		return store.Event{}, false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	var ev store.Event
	if err := snap.DataTo(&ev); err != nil {
		e.t.Fatal(err)
	}
	ev.ID = id
	return ev, true
}

func eventFields(ev store.Event) string {
	return fmt.Sprintf("title=%q details=%q start=%s end=%s allDay=%v dates=%s..%s busy=%v status=%q updated=%s recurring=%q booking=%q months=%v",
		ev.Title, ev.Details, ev.Start.UTC().Format(time.RFC3339), ev.End.UTC().Format(time.RFC3339), ev.AllDay,
		ev.StartDate, ev.EndDate, ev.Busy, ev.Status, ev.Updated.UTC().Format(time.RFC3339Nano), ev.RecurringID, ev.BookingID, ev.Months)
}

// TestListMaskCarriesEverythingTheSyncUses (item 4): the fake now answers only what the
// syncer's `fields` mask names, as Google does. Every stored event must equal what
// calevents.FromGoogle makes of the full event; a field dropped from the mask that the
// conversion or the busy rules read (transparency, attendees' self/responseStatus,
// eventType, extendedProperties, recurringEventId, status, description, updated, dates)
// makes a document differ.
func TestListMaskCarriesEverythingTheSyncUses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	plain := timed("plain", at(2), time.Hour)
	plain.Description = "details kept"
	plain.Status = "tentative"
	tr := timed("transparent", at(3), time.Hour)
	tr.Transparency = "transparent"
	dec := timed("declined", at(4), time.Hour)
	dec.Attendees = []*calendar.EventAttendee{{Email: email, Self: true, ResponseStatus: "declined"}, {Email: "x@example.com", ResponseStatus: "accepted"}}
	wl := timed("working location", at(5), time.Hour)
	wl.EventType = "workingLocation"
	echo := timed("booking echo", at(6), time.Hour)
	echo.ExtendedProperties = &calendar.EventExtendedProperties{Private: map[string]string{calevents.BookingProperty: "b1",
		calevents.BookingStartProperty: at(6).Format(time.RFC3339), calevents.BookingEndProperty: at(7).Format(time.RFC3339)}}
	moved := timed("booking moved in Google", at(9), time.Hour)
	moved.ExtendedProperties = &calendar.EventExtendedProperties{Private: map[string]string{calevents.BookingProperty: "b2",
		calevents.BookingStartProperty: at(8).Format(time.RFC3339), calevents.BookingEndProperty: at(9).Format(time.RFC3339)}}
	allDay := &calendar.Event{Summary: "holiday", Start: &calendar.EventDateTime{Date: "2026-11-30"}, End: &calendar.EventDateTime{Date: "2026-12-02"}}
	series := timed("weekly", at(10), time.Hour)
	series.Start.TimeZone, series.End.TimeZone = "Europe/Berlin", "Europe/Berlin"
	series.Recurrence = []string{"RRULE:FREQ=WEEKLY;COUNT=3"}
	for _, ev := range []*calendar.Event{plain, tr, dec, wl, echo, moved, allDay, series} {
		e.create(ev)
	}
	e.mustRun()
	zone, _ := time.LoadLocation("Europe/Berlin")
	full := e.FG.Events(e.Cal, true, time.Time{}, time.Time{})
	if len(full) != 10 {
		t.Fatalf("fake holds %d events", len(full))
	}
	for _, g := range full {
		want, _, err := calevents.FromGoogle(g, zone)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := e.storedEvent(g.Id)
		if !ok {
			t.Errorf("%s (%s) not stored", g.Id, g.Summary)
			continue
		}
		if w, gv := eventFields(want), eventFields(got); w != gv {
			t.Errorf("%s stored through the mask differs from the full event:\n got %s\nwant %s", g.Summary, gv, w)
		}
	}
	e.converged()
}

// TestIrregularPagesConverge (item 5): Google may answer pages shorter than maxResults,
// or empty ones, anywhere in a listing; the syncer follows nextPageToken until
// nextSyncToken and converges (full, incremental, and after a 410).
func TestIrregularPagesConverge(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("paging seed %d", seed)
	e := newEnv(t)
	if err := e.FG.SetPaging(&fakegoogle.Paging{Seed: seed, Short: 0.5, Empty: 0.35}); err != nil {
		t.Fatal(err)
	}
	e.S.PageSize = 4
	var ids []string
	for i := range 30 {
		ids = append(ids, e.create(timed(fmt.Sprintf("E%d", i), t0.Add(time.Duration(i+1)*time.Hour), 30*time.Minute)).Id)
	}
	series := timed("daily", t0.Add(3*time.Hour), time.Hour)
	series.Start.TimeZone, series.End.TimeZone = "Europe/Berlin", "Europe/Berlin"
	series.Recurrence = []string{"RRULE:FREQ=DAILY;COUNT=12"}
	e.create(series)
	st := e.mustRun()
	if st.Written != 42 || st.ListCalls <= 11 {
		t.Fatalf("full sync over irregular pages: %+v (42 events need 11 full pages of 4)", st)
	}
	e.converged()
	// incremental: changes and deletions over irregular pages
	for i, id := range ids[:12] {
		if i%2 == 0 {
			if err := e.FG.DeleteEvent(e.Cal, id); err != nil {
				t.Fatal(err)
			}
		} else if _, err := e.FG.PatchEvent(e.Cal, id, &calendar.Event{Summary: "changed"}); err != nil {
			t.Fatal(err)
		}
	}
	if st := e.mustRun(); st.Full {
		t.Fatalf("incremental expected: %+v", st)
	}
	e.converged()
	// 410 → full listing and sweep, over irregular pages
	for _, id := range ids[12:16] {
		if err := e.FG.DeleteEvent(e.Cal, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.FG.InvalidateSyncTokens(e.Cal); err != nil {
		t.Fatal(err)
	}
	if st := e.mustRun(); !st.Full {
		t.Fatalf("full resync expected after 410: %+v", st)
	}
	e.converged()
}

// TestAccessTokenExpiredAtGoogleIsRefreshed (item 6): a 401 from the Calendar API is an
// access token Google no longer accepts; the syncer refreshes and goes on. The connection
// stays active and keeps its data (before: reauth_required and everything deleted).
func TestAccessTokenExpiredAtGoogleIsRefreshed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.S.PageSize = 2
	for i := range 5 {
		e.create(timed(fmt.Sprintf("E%d", i), t0.Add(time.Duration(i+1)*time.Hour), 30*time.Minute))
	}
	e.mustRun()
	e.create(timed("later", t0.Add(20*time.Hour), time.Hour))
	if err := e.FG.AddFault(fakegoogle.Fault{Op: "events.list", ExpireAccessToken: true}); err != nil {
		t.Fatal(err)
	}
	tokenCalls := e.FG.Calls("token")
	st, err := e.run()
	if err != nil || st.Outcome != "ok" {
		t.Fatalf("run after Google ended the access token: %v %+v", err, st)
	}
	if n := e.FG.Calls("token") - tokenCalls; n != 2 {
		t.Fatalf("%d token calls, want 2 (the session's first token, one refresh after the 401)", n)
	}
	c, err := e.Store.GetConnection(context.Background(), tenant, staff, e.Ref.Connection)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != store.StatusActive {
		t.Fatalf("connection %s after an expired access token", c.Status)
	}
	if cal := e.calDoc(); cal.LastErrorClass != "" || cal.Failures != 0 {
		t.Fatalf("calendar recorded an error: %q %d", cal.LastErrorClass, cal.Failures)
	}
	e.converged()
	// A revoked grant still turns the connection reauth_required: the refresh after the
	// 401 answers invalid_grant.
	e.FG.RevokeAccount(email)
	if _, err := e.run(); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.Store.GetConnection(context.Background(), tenant, staff, e.Ref.Connection); c.Status != store.StatusReauthRequired {
		t.Fatalf("after revocation: %s", c.Status)
	}
}

// TestSeriesDeletedBeyondCancelledWindowGoneAfterFullResync (item 7): after a series is
// deleted, Google reportedly lists its instances as cancelled only about six months
// ahead (the fake's CancelledInstancesWindow). The incremental sync leaves the later
// instances; the daily full resync (reason "full", chosen by RenewChannels once
// lastFullSyncAt is FULL_RESYNC_INTERVAL old) lists everything and sweeps them.
func TestSeriesDeletedBeyondCancelledWindowGoneAfterFullResync(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	window := 183 * 24 * time.Hour
	e.FG.SetCancelledInstancesWindow(window)
	series := timed("weekly", t0.Add(26*time.Hour), time.Hour)
	series.Start.TimeZone, series.End.TimeZone = "Europe/Berlin", "Europe/Berlin"
	series.Recurrence = []string{"RRULE:FREQ=WEEKLY;COUNT=52"}
	m := e.create(series)
	e.mustRun()
	if n := len(e.stored().Events); n != 52 {
		t.Fatalf("%d instances stored, want 52", n)
	}
	if err := e.FG.DeleteEvent(e.Cal, m.Id); err != nil {
		t.Fatal(err)
	}
	deletedAt := e.FG.Now()
	e.Msg.Reason = "push"
	if st := e.mustRun(); st.Full {
		t.Fatalf("incremental expected: %+v", st)
	}
	left := e.stored().Events
	beyond := 0
	for i := 0; i < 52; i++ {
		if t0.Add(26*time.Hour).AddDate(0, 0, 7*i).After(deletedAt.Add(window)) {
			beyond++
		}
	}
	if len(left) != beyond || beyond == 0 {
		t.Fatalf("after the incremental sync %d instances remain, want the %d beyond the window", len(left), beyond)
	}
	for id := range left {
		if !strings.HasPrefix(id, m.Id+"_") {
			t.Fatalf("unexpected event %s", id)
		}
	}
	// a day later: the daily full resync
	e.FG.Advance(24 * time.Hour)
	e.Msg.Reason = "full"
	if st := e.mustRun(); !st.Full {
		t.Fatalf("reason full did not list fully: %+v", st)
	}
	if n := len(e.stored().Events); n != 0 {
		t.Fatalf("%d instances of the deleted series survive the full resync", n)
	}
	e.converged()
}
