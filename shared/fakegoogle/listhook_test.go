package fakegoogle

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/googleapi"
)

// TestListHook: through the real client, the hook sees each page's number and whether
// the listing is incremental; a fault it returns answers that page (the page token stays
// valid for a retry); a change it makes is not in the running listing (a snapshot) but in
// the next incremental one.
func TestListHook(t *testing.T) {
	e := newEnv(t)
	at := time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC)
	for i := range 5 {
		if _, err := e.fg.CreateEvent(e.cal, &calendar.Event{Summary: fmt.Sprintf("e%d", i),
			Start: &calendar.EventDateTime{DateTime: at.Add(time.Duration(i) * time.Hour).Format(time.RFC3339)},
			End:   &calendar.EventDateTime{DateTime: at.Add(time.Duration(i)*time.Hour + 30*time.Minute).Format(time.RFC3339)}}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []ListPage
	failed := false
	e.fg.SetListHook(func(p ListPage) *Fault {
		seen = append(seen, p)
		if p.Page == 2 && !failed {
			failed = true
			if _, err := e.fg.CreateEvent(e.cal, &calendar.Event{Summary: "during",
				Start: &calendar.EventDateTime{DateTime: at.Format(time.RFC3339)},
				End:   &calendar.EventDateTime{DateTime: at.Add(time.Hour).Format(time.RFC3339)}}); err != nil {
				t.Error(err)
			}
			return &Fault{Status: 410}
		}
		return nil
	})
	call := func(pt, st string) (*calendar.Events, error) {
		c := e.svc.Events.List(e.cal).MaxResults(2).ShowDeleted(true)
		if pt != "" {
			c = c.PageToken(pt)
		}
		if st != "" {
			c = c.SyncToken(st)
		}
		return c.Context(ctxT(t)).Do()
	}
	p1, err := call("", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = call(p1.NextPageToken, "")
	var ge *googleapi.Error
	if !errors.As(err, &ge) || ge.Code != 410 || len(ge.Errors) == 0 || ge.Errors[0].Reason != "fullSyncRequired" {
		t.Fatalf("page 2 = %v, want 410 fullSyncRequired", err)
	}
	n, pt := len(p1.Items), p1.NextPageToken
	var sync string
	for pt != "" { // the retry of page 2 with the same token, then page 3
		p, err := call(pt, "")
		if err != nil {
			t.Fatal(err)
		}
		n, pt, sync = n+len(p.Items), p.NextPageToken, p.NextSyncToken
	}
	if n != 5 {
		t.Fatalf("listing returned %d items, want the 5 of its snapshot", n)
	}
	inc, err := call("", sync)
	if err != nil {
		t.Fatal(err)
	}
	if len(inc.Items) != 1 || inc.Items[0].Summary != "during" {
		t.Fatalf("incremental after the listing = %d items, want the event created during it", len(inc.Items))
	}
	want := []ListPage{{e.cal, 1, false}, {e.cal, 2, false}, {e.cal, 2, false}, {e.cal, 3, false}, {e.cal, 1, true}}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("hook saw %v, want %v", seen, want)
	}
}

// TestModel: the plain-value model holds timed instants, all-day dates, expanded
// instances with their cancellations as tombstones, deleted events, and the busy-relevant
// fields.
func TestModel(t *testing.T) {
	e := newEnv(t)
	st := time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC)
	timedEv, err := e.fg.CreateEvent(e.cal, &calendar.Event{Summary: "t", Transparency: "transparent",
		Attendees: []*calendar.EventAttendee{{Email: "alice@example.com", Self: true, ResponseStatus: "declined"}},
		Start:     &calendar.EventDateTime{DateTime: "2026-10-05T11:00:00+02:00"}, End: &calendar.EventDateTime{DateTime: "2026-10-05T12:00:00+02:00"}})
	if err != nil {
		t.Fatal(err)
	}
	allDay, err := e.fg.CreateEvent(e.cal, &calendar.Event{Summary: "a", EventType: "outOfOffice",
		Start: &calendar.EventDateTime{Date: "2026-10-06"}, End: &calendar.EventDateTime{Date: "2026-10-08"}})
	if err != nil {
		t.Fatal(err)
	}
	series, err := e.fg.CreateEvent(e.cal, &calendar.Event{Summary: "s", Recurrence: []string{"RRULE:FREQ=DAILY;COUNT=3"},
		Start: &calendar.EventDateTime{DateTime: "2026-10-10T10:00:00", TimeZone: "Europe/Berlin"},
		End:   &calendar.EventDateTime{DateTime: "2026-10-10T11:00:00", TimeZone: "Europe/Berlin"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.fg.PatchEvent(e.cal, series.Id+"_20261011T080000Z", &calendar.Event{Status: "cancelled"}); err != nil {
		t.Fatal(err)
	}
	if err := e.fg.DeleteEvent(e.cal, allDay.Id); err != nil {
		t.Fatal(err)
	}
	m, ok := e.fg.Model(e.cal)
	if !ok || m.TimeZone != "Europe/Berlin" {
		t.Fatalf("model %v %v", ok, m.TimeZone)
	}
	got := map[string]ModelEvent{}
	for _, ev := range m.Events {
		got[ev.ID] = ev
	}
	if ev := got[timedEv.Id]; !ev.Start.Equal(st) || !ev.End.Equal(st.Add(time.Hour)) || ev.AllDay ||
		ev.Transparency != "transparent" || ev.SelfResponse != "declined" || ev.Status != "confirmed" {
		t.Errorf("timed %+v", ev)
	}
	if ev := got[allDay.Id]; !ev.AllDay || ev.StartDate != "2026-10-06" || ev.EndDate != "2026-10-08" || ev.Status != "cancelled" || ev.EventType != "outOfOffice" {
		t.Errorf("deleted all-day %+v", ev)
	}
	for day, status := range map[string]string{"20261010": "confirmed", "20261011": "cancelled", "20261012": "confirmed"} {
		ev := got[series.Id+"_"+day+"T080000Z"]
		if ev.Status != status || ev.RecurringEventID != series.Id {
			t.Errorf("instance %s: %+v, want status %s", day, ev, status)
		}
	}
	if _, ok := got[series.Id]; ok || len(got) != 5 {
		t.Errorf("model has %d events (master listed: %v), want 5 without the master", len(got), ok)
	}
	if _, ok := e.fg.Model("nope"); ok {
		t.Error("unknown calendar reported")
	}
}
