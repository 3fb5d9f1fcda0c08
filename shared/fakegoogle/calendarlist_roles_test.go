package fakegoogle

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/googleapi"
)

// listIDs lists alice's calendar list through the real client with the given switches.
func listIDs(t *testing.T, e *env, showHidden, showDeleted bool) map[string]*calendar.CalendarListEntry {
	t.Helper()
	out := map[string]*calendar.CalendarListEntry{}
	err := e.svc.CalendarList.List().ShowHidden(showHidden).ShowDeleted(showDeleted).Pages(ctxT(t), func(l *calendar.CalendarList) error {
		for _, it := range l.Items {
			out[it.Id] = it
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHiddenCalendarListEntries: a calendar hidden in Google's sidebar is left out of
// calendarList.list unless showHidden=true, and then carries hidden=true; its events
// stay readable and watchable.
func TestHiddenCalendarListEntries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.fg.SetListEntry("alice@example.com", e.cal, ListEntryPatch{Hidden: ptrTo(true)}); err != nil {
		t.Fatal(err)
	}
	if _, ok := listIDs(t, e, false, false)[e.cal]; ok {
		t.Fatal("a hidden calendar was listed without showHidden")
	}
	got, ok := listIDs(t, e, true, false)[e.cal]
	if !ok || !got.Hidden || got.AccessRole != RoleOwner {
		t.Fatalf("showHidden=true: %+v present=%v, want hidden owner entry", got, ok)
	}
	if _, err := e.svc.Events.List(e.cal).Do(); err != nil {
		t.Fatalf("events of a hidden calendar: %v", err)
	}
	if err := e.fg.SetListEntry("alice@example.com", e.cal, ListEntryPatch{Hidden: ptrTo(false)}); err != nil {
		t.Fatal(err)
	}
	if got, ok := listIDs(t, e, false, false)[e.cal]; !ok || got.Hidden {
		t.Fatalf("unhidden: %+v present=%v", got, ok)
	}
}

// sharedFrom creates bob's calendar with one public and one private event and shares it
// with alice in role.
func sharedFrom(t *testing.T, e *env, role string) (calID, publicID, privateID string) {
	t.Helper()
	if _, err := e.fg.CreateAccount(Account{Email: "bob-" + role + "@example.com", Name: "Bob"}); err != nil {
		t.Fatal(err)
	}
	c, err := e.fg.CreateCalendar(CalendarSpec{Email: "bob-" + role + "@example.com", Summary: "Bob " + role, TimeZone: "Europe/Berlin"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 10, 5, 10, 0, 0, 0, time.UTC)
	ev := func(summary, vis string) string {
		out, err := e.fg.CreateEvent(c.ID, &calendar.Event{Summary: summary, Description: "details", Visibility: vis,
			Start: &calendar.EventDateTime{DateTime: at.Format(time.RFC3339)}, End: &calendar.EventDateTime{DateTime: at.Add(time.Hour).Format(time.RFC3339)}})
		if err != nil {
			t.Fatal(err)
		}
		at = at.Add(2 * time.Hour)
		return out.Id
	}
	publicID, privateID = ev("Team sync", ""), ev("Therapy", "private")
	if err := e.fg.ShareCalendar(c.ID, "alice@example.com", role); err != nil {
		t.Fatal(err)
	}
	return c.ID, publicID, privateID
}

// TestAccessRoles: calendars shared with alice appear in her list with their role; what
// events.list shows depends on it (reader: private events without details;
// freeBusyReader: every event without details); only owner and writer may write; an entry
// removed from the list comes back only with showDeleted, flagged deleted.
func TestAccessRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		role                  string
		publicTitle, privTitl string
		canWrite              bool
	}{
		{RoleWriter, "Team sync", "Therapy", true},
		{RoleReader, "Team sync", "", false},
		{RoleFreeBusyReader, "", "", false},
	} {
		cal, pub, priv := sharedFrom(t, e, tc.role)
		entry, ok := listIDs(t, e, false, false)[cal]
		if !ok || entry.AccessRole != tc.role || entry.Primary {
			t.Fatalf("%s: list entry %+v present=%v", tc.role, entry, ok)
		}
		l, err := e.svc.Events.List(cal).SingleEvents(true).Do()
		if err != nil {
			t.Fatalf("%s: events.list: %v", tc.role, err)
		}
		if l.AccessRole != tc.role || len(l.Items) != 2 {
			t.Fatalf("%s: accessRole %q, %d items", tc.role, l.AccessRole, len(l.Items))
		}
		for _, it := range l.Items {
			want := tc.publicTitle
			if it.Id == priv {
				want = tc.privTitl
			}
			if it.Summary != want || (want == "" && it.Description != "") {
				t.Errorf("%s: event %s summary %q description %q, want summary %q", tc.role, it.Id, it.Summary, it.Description, want)
			}
			if it.Start == nil || it.End == nil || it.Start.DateTime == "" {
				t.Errorf("%s: event %s lost its times", tc.role, it.Id)
			}
		}
		if got, err := e.svc.Events.Get(cal, priv).Do(); err != nil || got.Summary != tc.privTitl {
			t.Errorf("%s: events.get of the private event: %v %q", tc.role, err, got.Summary)
		}
		_, err = e.svc.Events.Insert(cal, &calendar.Event{Summary: "x",
			Start: &calendar.EventDateTime{DateTime: "2026-10-06T10:00:00Z"}, End: &calendar.EventDateTime{DateTime: "2026-10-06T11:00:00Z"}}).Do()
		var ge *googleapi.Error
		switch {
		case tc.canWrite && err != nil:
			t.Errorf("%s: insert refused: %v", tc.role, err)
		case !tc.canWrite && (!errors.As(err, &ge) || ge.Code != http.StatusForbidden || ge.Errors[0].Reason != "requiredAccessLevel"):
			t.Errorf("%s: insert answered %v, want 403 requiredAccessLevel", tc.role, err)
		}
		if !tc.canWrite {
			if err := e.svc.Events.Delete(cal, pub).Do(); !errors.As(err, &ge) || ge.Code != http.StatusForbidden {
				t.Errorf("%s: delete answered %v, want 403", tc.role, err)
			}
		}
		// Removed from alice's list: gone, unless showDeleted.
		if err := e.fg.SetListEntry("alice@example.com", cal, ListEntryPatch{Removed: ptrTo(true)}); err != nil {
			t.Fatal(err)
		}
		if _, ok := listIDs(t, e, false, false)[cal]; ok {
			t.Errorf("%s: removed entry still listed", tc.role)
		}
		if got, ok := listIDs(t, e, false, true)[cal]; !ok || !got.Deleted {
			t.Errorf("%s: showDeleted: %+v present=%v, want deleted=true", tc.role, got, ok)
		}
	}
	// Someone else's calendar that was never shared stays invisible.
	other, err := e.fg.CreateCalendar(CalendarSpec{Email: "bob-reader@example.com", Summary: "Not shared"})
	if err != nil {
		t.Fatal(err)
	}
	var ge *googleapi.Error
	if _, err := e.svc.Events.List(other.ID).Do(); !errors.As(err, &ge) || ge.Code != http.StatusNotFound {
		t.Fatalf("unshared calendar: %v, want 404", err)
	}
}

// TestWatchGeneratedCalendarsNotSupported: holidays, birthdays and week numbers answer
// events.watch with 400 pushNotSupportedForRequestedResource; their events can be listed.
func TestWatchGeneratedCalendarsNotSupported(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.fg.CreateAccount(Account{Email: "google@example.com", Name: "Google"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"en.german#holiday@group.v.calendar.google.com", "addressbook#contacts@group.v.calendar.google.com", "e_2_en#weeknum@group.v.calendar.google.com"} {
		if _, err := e.fg.CreateCalendar(CalendarSpec{Email: "google@example.com", ID: id, Summary: id}); err != nil {
			t.Fatal(err)
		}
		if err := e.fg.ShareCalendar(id, "alice@example.com", RoleReader); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.Events.Watch(id, &calendar.Channel{Id: "ch-" + id[:5], Type: "web_hook", Address: "https://app.example.test/hook"}).Do()
		var ge *googleapi.Error
		if !errors.As(err, &ge) || ge.Code != http.StatusBadRequest || len(ge.Errors) == 0 || ge.Errors[0].Reason != "pushNotSupportedForRequestedResource" {
			t.Fatalf("watch %s: %v, want 400 pushNotSupportedForRequestedResource", id, err)
		}
		if _, err := e.svc.Events.List(id).Do(); err != nil {
			t.Fatalf("list %s: %v", id, err)
		}
	}
	if _, err := e.svc.Events.Watch(e.cal, &calendar.Channel{Id: "ch-ok", Type: "web_hook", Address: "https://app.example.test/hook"}).Do(); err != nil {
		t.Fatalf("an ordinary calendar cannot be watched: %v", err)
	}
}

func ptrTo[T any](v T) *T { return &v }
