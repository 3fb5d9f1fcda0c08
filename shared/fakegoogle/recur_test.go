package fakegoogle

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"
)

func TestRRuleExpansion(t *testing.T) {
	t.Parallel()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	limit := time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		lines  []string
		start  time.Time
		allDay bool
		want   string // comma-separated local "2006-01-02T15:04"
	}{
		{"weekly across DST keeps 09:00", []string{"RRULE:FREQ=WEEKLY;COUNT=3"},
			time.Date(2026, 10, 19, 9, 0, 0, 0, berlin), false, "2026-10-19T09:00+02:00,2026-10-26T09:00+01:00,2026-11-02T09:00+01:00"},
		{"weekly MO,WE count", []string{"RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=5"},
			time.Date(2026, 10, 7, 9, 0, 0, 0, berlin), false, "2026-10-07T09:00+02:00,2026-10-12T09:00+02:00,2026-10-14T09:00+02:00,2026-10-19T09:00+02:00,2026-10-21T09:00+02:00"},
		{"daily interval until", []string{"RRULE:FREQ=DAILY;INTERVAL=2;UNTIL=20261007T070000Z"},
			time.Date(2026, 10, 1, 9, 0, 0, 0, berlin), false, "2026-10-01T09:00+02:00,2026-10-03T09:00+02:00,2026-10-05T09:00+02:00,2026-10-07T09:00+02:00"},
		{"daily until date inclusive", []string{"RRULE:FREQ=DAILY;UNTIL=20261003"},
			time.Date(2026, 10, 1, 9, 0, 0, 0, berlin), false, "2026-10-01T09:00+02:00,2026-10-02T09:00+02:00,2026-10-03T09:00+02:00"},
		{"monthly 31st skips short months", []string{"RRULE:FREQ=MONTHLY;COUNT=3"},
			time.Date(2026, 10, 31, 9, 0, 0, 0, berlin), false, "2026-10-31T09:00+01:00,2026-12-31T09:00+01:00,2027-01-31T09:00+01:00"},
		{"monthly last friday", []string{"RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=2"},
			time.Date(2026, 10, 30, 9, 0, 0, 0, berlin), false, "2026-10-30T09:00+01:00,2026-11-27T09:00+01:00"},
		{"exdate", []string{"RRULE:FREQ=DAILY;COUNT=3", "EXDATE;TZID=Europe/Berlin:20261002T090000"},
			time.Date(2026, 10, 1, 9, 0, 0, 0, berlin), false, "2026-10-01T09:00+02:00,2026-10-03T09:00+02:00"},
		{"all-day weekly", []string{"RRULE:FREQ=WEEKLY;COUNT=2"},
			time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), true, "2026-10-01T00:00Z,2026-10-08T00:00Z"},
		{"yearly", []string{"RRULE:FREQ=YEARLY;COUNT=2"},
			time.Date(2026, 3, 1, 9, 0, 0, 0, berlin), false, "2026-03-01T09:00+01:00,2027-03-01T09:00+01:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := parseRecurrence(tc.lines)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range rc.expand(tc.start, tc.allDay, berlin, limit, 100) {
				got = append(got, x.Format("2006-01-02T15:04Z07:00"))
			}
			if strings.Join(got, ",") != tc.want {
				t.Fatalf("got  %s\nwant %s", strings.Join(got, ","), tc.want)
			}
		})
	}
	for _, bad := range [][]string{{"RRULE:FREQ=HOURLY"}, {"RRULE:COUNT=2"}, {"RRULE:FREQ=DAILY;COUNT=0"},
		{"RRULE:FREQ=DAILY;COUNT=2;UNTIL=20260101"}, {"EXDATE:20260101"}, {"RRULE:FREQ=DAILY;BYDAY=1MO"}, {"nonsense"}} {
		if _, err := parseRecurrence(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func berlinSeries(t *testing.T, e *env, rule string) *calendar.Event {
	t.Helper()
	m, err := e.svc.Events.Insert(e.cal, &calendar.Event{Summary: "Weekly", Description: "series",
		Start: dt("2026-10-19T09:00:00", "Europe/Berlin"), End: dt("2026-10-19T10:00:00", "Europe/Berlin"),
		Recurrence: []string{rule}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ids(evs []*calendar.Event) string {
	var out []string
	for _, e := range evs {
		s := e.Id
		if e.Status == "cancelled" {
			s += "(x)"
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestSingleEventsExpansionDST(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := berlinSeries(t, e, "RRULE:FREQ=WEEKLY;COUNT=3")
	res, err := e.svc.Events.List(e.cal).Do()
	if err != nil || len(res.Items) != 1 || len(res.Items[0].Recurrence) != 1 {
		t.Fatalf("singleEvents=false: %v %+v", err, res)
	}
	res, err = e.svc.Events.List(e.cal).SingleEvents(true).OrderBy("startTime").Do()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ id, start string }{
		{m.Id + "_20261019T070000Z", "2026-10-19T09:00:00+02:00"},
		{m.Id + "_20261026T080000Z", "2026-10-26T09:00:00+01:00"},
		{m.Id + "_20261102T080000Z", "2026-11-02T09:00:00+01:00"},
	}
	if len(res.Items) != len(want) {
		t.Fatalf("%d instances", len(res.Items))
	}
	for i, w := range want {
		it := res.Items[i]
		if it.Id != w.id || it.Start.DateTime != w.start || it.RecurringEventId != m.Id || it.Summary != "Weekly" ||
			it.OriginalStartTime == nil || it.OriginalStartTime.DateTime != w.start || len(it.Recurrence) != 0 {
			t.Fatalf("instance %d: %+v start %+v", i, it, it.Start)
		}
		end, _ := time.Parse(time.RFC3339, it.End.DateTime)
		st, _ := time.Parse(time.RFC3339, it.Start.DateTime)
		if end.Sub(st) != time.Hour {
			t.Fatalf("instance %d lasts %v", i, end.Sub(st))
		}
	}
	// timeMin/timeMax window
	res, err = e.svc.Events.List(e.cal).SingleEvents(true).TimeMin("2026-10-20T00:00:00Z").TimeMax("2026-10-30T00:00:00Z").Do()
	if err != nil || len(res.Items) != 1 || res.Items[0].Id != want[1].id {
		t.Fatalf("window: %v %s", err, ids(res.Items))
	}
	// all-day series ids
	ad, err := e.svc.Events.Insert(e.cal, &calendar.Event{Summary: "Holiday", Start: &calendar.EventDateTime{Date: "2026-10-24"},
		End: &calendar.EventDateTime{Date: "2026-10-25"}, Recurrence: []string{"RRULE:FREQ=DAILY;COUNT=2"}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	inst, err := e.svc.Events.Instances(e.cal, ad.Id).Do()
	if err != nil || ids(inst.Items) != ad.Id+"_20261024 "+ad.Id+"_20261025" || inst.Items[1].End.Date != "2026-10-26" {
		t.Fatalf("all-day instances: %v %s", err, ids(inst.Items))
	}
	// unbounded series expand up to 2 years after the fake's now
	ub := berlinSeries(t, e, "RRULE:FREQ=WEEKLY")
	n := len(e.fg.Events(e.cal, true, time.Time{}, time.Time{}))
	inst, _ = e.svc.Events.Instances(e.cal, ub.Id).MaxResults(2500).Do()
	if got := len(inst.Items); got < 100 || got > 106 || n != 3+2+got {
		t.Fatalf("unbounded instances %d (total %d)", got, n)
	}
}

func TestEditedAndCancelledInstances(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := berlinSeries(t, e, "RRULE:FREQ=WEEKLY;COUNT=4")
	syncList := func(tok string) ([]*calendar.Event, string) {
		items, _, next := listAll(t, func(pt string) (*calendar.Events, error) {
			c := e.svc.Events.List(e.cal).SingleEvents(true).ShowDeleted(true).PageToken(pt)
			if tok != "" {
				c = c.SyncToken(tok)
			}
			return c.Do()
		})
		return items, next
	}
	all, st := syncList("")
	if len(all) != 4 {
		t.Fatalf("%d instances", len(all))
	}
	i1, i2 := m.Id+"_20261026T080000Z", m.Id+"_20261102T080000Z"
	// move one instance, cancel another (one through the API, one as the owner via control)
	moved, err := e.svc.Events.Patch(e.cal, i1, &calendar.Event{Summary: "moved",
		Start: dt("2026-10-26T11:00:00", "Europe/Berlin"), End: dt("2026-10-26T12:00:00", "Europe/Berlin")}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if moved.RecurringEventId != m.Id || moved.OriginalStartTime.DateTime != "2026-10-26T09:00:00+01:00" {
		t.Fatalf("moved %+v", moved)
	}
	if _, err := e.fg.PatchEvent(e.cal, i2, &calendar.Event{Status: "cancelled"}); err != nil {
		t.Fatal(err)
	}
	inc, st2 := syncList(st)
	if ids(inc) != i1+" "+i2+"(x)" {
		t.Fatalf("incremental after exceptions: %s", ids(inc))
	}
	for _, it := range inc {
		if it.Id == i2 && (it.RecurringEventId != m.Id || it.OriginalStartTime == nil || it.Summary != "" || it.Start != nil) {
			t.Fatalf("cancelled instance %+v", it)
		}
	}
	full := e.fg.Events(e.cal, true, time.Time{}, time.Time{})
	if len(full) != 3 {
		t.Fatalf("live instances %d", len(full))
	}
	// singleEvents=false lists master and the exceptions
	res, err := e.svc.Events.List(e.cal).ShowDeleted(true).Do()
	if err != nil || ids(res.Items) != ids([]*calendar.Event{m, moved, {Id: i2, Status: "cancelled"}}) {
		t.Fatalf("singleEvents=false: %v %s", err, ids(res.Items))
	}
	// shrink the series: COUNT=4 → 2; the dropped instance appears cancelled, the
	// remaining ones as changed (the already cancelled one need not be reported again)
	if _, err := e.svc.Events.Patch(e.cal, m.Id, &calendar.Event{Recurrence: []string{"RRULE:FREQ=WEEKLY;COUNT=2"}}).Do(); err != nil {
		t.Fatal(err)
	}
	inc, st3 := syncList(st2)
	i0, i3 := m.Id+"_20261019T070000Z", m.Id+"_20261109T080000Z"
	want := []string{i0, i1, i3 + "(x)"}
	sort.Strings(want)
	if ids(inc) != strings.Join(want, " ") {
		t.Fatalf("after shrinking:\n got %s\nwant %s", ids(inc), strings.Join(want, " "))
	}
	// move the series one hour later: every old instance id disappears
	if _, err := e.svc.Events.Patch(e.cal, m.Id, &calendar.Event{Start: dt("2026-10-19T10:00:00", "Europe/Berlin"),
		End: dt("2026-10-19T11:00:00", "Europe/Berlin")}).Do(); err != nil {
		t.Fatal(err)
	}
	inc, st4 := syncList(st3)
	live := 0
	for _, it := range inc {
		if it.Status != "cancelled" {
			live++
			if !strings.HasSuffix(it.Start.DateTime, "T10:00:00+02:00") && !strings.HasSuffix(it.Start.DateTime, "T10:00:00+01:00") {
				t.Fatalf("moved instance %s starts %s", it.Id, it.Start.DateTime)
			}
		}
	}
	if live != 2 || len(inc) != 4 {
		t.Fatalf("after moving series: %s", ids(inc))
	}
	// delete the series: its instances appear cancelled
	if err := e.svc.Events.Delete(e.cal, m.Id).Do(); err != nil {
		t.Fatal(err)
	}
	inc, _ = syncList(st4)
	if len(inc) != 2 || inc[0].Status != "cancelled" || inc[1].Status != "cancelled" {
		t.Fatalf("after deleting series: %s", ids(inc))
	}
	if n := len(e.fg.Events(e.cal, true, time.Time{}, time.Time{})); n != 0 {
		t.Fatalf("%d events left", n)
	}
	_ = fmt.Sprint
}
