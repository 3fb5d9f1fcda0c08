package calevents

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/store"
)

func berlin(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func base() *calendar.Event {
	return &calendar.Event{Id: "abc12345", Summary: "Meeting", Description: "notes", Status: "confirmed",
		Updated:  "2026-11-01T10:00:00.000Z",
		Start:    &calendar.EventDateTime{DateTime: "2026-11-30T23:30:00+01:00"},
		End:      &calendar.EventDateTime{DateTime: "2026-12-01T00:30:00+01:00"},
		Location: "Secret St 1", HtmlLink: "https://x", Attendees: []*calendar.EventAttendee{{Email: "a@b.c", Self: true, ResponseStatus: "accepted"}},
		ConferenceData: &calendar.ConferenceData{ConferenceId: "confXYZ"}, Attachments: []*calendar.EventAttachment{{FileUrl: "https://file"}}}
}

func TestFromGoogle(t *testing.T) {
	t.Parallel()
	loc := berlin(t)
	cases := []struct {
		name      string
		mod       func(*calendar.Event)
		busy      bool
		cancelled bool
		months    []string
		check     func(t *testing.T, got any)
	}{
		{name: "timed busy across months (UTC)", mod: func(*calendar.Event) {}, busy: true, months: []string{"2026-11"}},
		{name: "transparent", mod: func(e *calendar.Event) { e.Transparency = "transparent" }},
		{name: "declined by owner", mod: func(e *calendar.Event) { e.Attendees[0].ResponseStatus = "declined" }},
		{name: "declined by someone else", mod: func(e *calendar.Event) {
			e.Attendees = append(e.Attendees, &calendar.EventAttendee{Email: "x@y.z", ResponseStatus: "declined"})
		}, busy: true, months: []string{"2026-11"}},
		{name: "working location", mod: func(e *calendar.Event) { e.EventType = "workingLocation" }},
		{name: "birthday", mod: func(e *calendar.Event) { e.EventType = "birthday" }},
		{name: "out of office is busy", mod: func(e *calendar.Event) { e.EventType = "outOfOffice" }, busy: true, months: []string{"2026-11"}},
		{name: "focus time is busy", mod: func(e *calendar.Event) { e.EventType = "focusTime" }, busy: true, months: []string{"2026-11"}},
		{name: "product's own event", mod: func(e *calendar.Event) {
			e.ExtendedProperties = &calendar.EventExtendedProperties{Private: map[string]string{BookingProperty: "bk1"}}
		}},
		{name: "product's own event where the booking put it", mod: func(e *calendar.Event) {
			e.ExtendedProperties = &calendar.EventExtendedProperties{Private: map[string]string{BookingProperty: "bk1",
				BookingStartProperty: "2026-11-30T22:30:00Z", BookingEndProperty: "2026-11-30T23:30:00Z"}}
		}},
		{name: "product's own event moved by the staff member is busy", mod: func(e *calendar.Event) {
			e.ExtendedProperties = &calendar.EventExtendedProperties{Private: map[string]string{BookingProperty: "bk1",
				BookingStartProperty: "2026-11-30T20:30:00Z", BookingEndProperty: "2026-11-30T21:30:00Z"}}
		}, busy: true, months: []string{"2026-11"}},
		{name: "cancelled", mod: func(e *calendar.Event) { e.Status = "cancelled" }, cancelled: true},
		{name: "all-day in the staff zone", mod: func(e *calendar.Event) {
			e.Start = &calendar.EventDateTime{Date: "2026-11-30"}
			e.End = &calendar.EventDateTime{Date: "2026-12-01"}
		}, busy: true, months: []string{"2026-11", "2026-12"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := base()
			c.mod(ev)
			got, cancelled, err := FromGoogle(ev, loc)
			if err != nil {
				t.Fatal(err)
			}
			if cancelled != c.cancelled {
				t.Fatalf("cancelled = %v", cancelled)
			}
			if cancelled {
				if got.ID != "abc12345" || got.Title != "" {
					t.Fatalf("cancelled event = %+v", got)
				}
				return
			}
			if got.Busy != c.busy {
				t.Fatalf("busy = %v, want %v", got.Busy, c.busy)
			}
			if c.months == nil {
				c.months = []string{}
			}
			if !reflect.DeepEqual(got.Months, c.months) {
				t.Fatalf("months = %v, want %v", got.Months, c.months)
			}
			if got.BookingID != "" {
				// The product's own event: its text is the customer's data; not copied.
				if got.Title != "" || got.Details != "" {
					t.Fatalf("the copy of a booking's event keeps its text: %+v", got)
				}
			} else if got.Title != "Meeting" || got.Details != "notes" {
				t.Fatalf("kept fields = %+v", got)
			}
			b, _ := json.Marshal(Fields(got))
			for _, leak := range []string{"Secret St", "a@b.c", "https://", "confXYZ"} {
				if strings.Contains(string(b), leak) {
					t.Fatalf("document holds %q: %s", leak, b)
				}
			}
		})
	}
}

func TestAllDayInstants(t *testing.T) {
	t.Parallel()
	ev := base()
	ev.Start = &calendar.EventDateTime{Date: "2026-03-29"} // DST day in Berlin: 23 hours
	ev.End = &calendar.EventDateTime{Date: "2026-03-30"}
	got, _, err := FromGoogle(ev, berlin(t))
	if err != nil {
		t.Fatal(err)
	}
	if !got.AllDay || got.StartDate != "2026-03-29" || got.EndDate != "2026-03-30" ||
		got.Start != time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC) || got.End != time.Date(2026, 3, 29, 22, 0, 0, 0, time.UTC) {
		t.Fatalf("all-day = %+v", got)
	}
	if it := Item(got); it.StartDate != "2026-03-29" || it.EndDate != "2026-03-30" || !it.Start.IsZero() {
		t.Fatalf("item = %+v", it)
	}
	if got.BookingID != "" || got.RecurringID != "" {
		t.Fatal("unexpected ids")
	}
}

func TestInvalid(t *testing.T) {
	t.Parallel()
	for _, ev := range []*calendar.Event{nil, {}, {Id: "x", Status: "confirmed"}, {Id: "x", Start: &calendar.EventDateTime{DateTime: "bad"}, End: &calendar.EventDateTime{DateTime: "bad"}}} {
		if _, _, err := FromGoogle(ev, time.UTC); err == nil {
			t.Errorf("FromGoogle(%+v) accepted", ev)
		}
	}
}

func FuzzFromGoogle(f *testing.F) {
	f.Add("2026-11-30T23:30:00+01:00", "2026-12-01T00:30:00+01:00", "", "", "confirmed", "", "", true, "accepted")
	f.Add("", "", "2026-11-30", "2026-12-01", "confirmed", "opaque", "default", false, "")
	f.Add("", "", "2026-12-01", "2026-11-01", "tentative", "transparent", "birthday", true, "declined")
	f.Add("2026-11-30T23:30:00Z", "2020-01-01T00:00:00Z", "", "", "cancelled", "", "", false, "")
	loc, _ := time.LoadLocation("Europe/Berlin")
	f.Fuzz(func(t *testing.T, sdt, edt, sd, ed, st, tr, typ string, self bool, resp string) {
		ev := &calendar.Event{Id: "fuzz0", Status: st, Transparency: tr, EventType: typ,
			Start: &calendar.EventDateTime{DateTime: sdt, Date: sd}, End: &calendar.EventDateTime{DateTime: edt, Date: ed},
			Attendees: []*calendar.EventAttendee{{Self: self, ResponseStatus: resp}}}
		got, cancelled, err := FromGoogle(ev, loc)
		if err != nil || cancelled {
			return
		}
		if got.End.Before(got.Start) {
			t.Fatalf("end before start: %+v", got)
		}
		if got.Busy {
			if len(got.Months) == 0 {
				t.Fatal("busy event without months")
			}
			indexed := map[string]bool{}
			for _, x := range got.Months {
				indexed[x] = true
			}
			for _, m := range store.MonthsSpanned(got.Start, got.End) {
				if !indexed[m] {
					t.Fatalf("month %s of the event's span is not indexed (%d months)", m, len(got.Months))
				}
			}
			// However long the event, what the syncer indexes stays bounded.
			now := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
			if n := len(ClipMonths(got.Months, now.AddDate(-10, 0, 0), now.AddDate(10, 0, 0))); n > 242 {
				t.Fatalf("%d months indexed after clipping", n)
			}
		} else if len(got.Months) != 0 {
			t.Fatal("free event indexed")
		}
	})
}
