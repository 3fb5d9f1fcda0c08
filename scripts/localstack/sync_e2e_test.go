package localstack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/store"
)

type eventsBody struct {
	Events []struct {
		ID, CalendarID, Title, Details, Color, BookingID string
		Start, End                                       time.Time
		AllDay, Busy                                     bool
	}
	NextPageToken string
}

func (h *harness) events(tenant, staff string, from, to time.Time) (int, eventsBody, string) {
	h.t.Helper()
	q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
	code, body := h.manage("GET", staffPath(tenant, staff)+"/events?"+q.Encode(), nil)
	var out eventsBody
	if code == http.StatusOK {
		if err := json.Unmarshal(body, &out); err != nil {
			h.t.Fatalf("events body %s: %v", body, err)
		}
	}
	return code, out, string(body)
}

// TestSyncEndToEndThroughPush: select a calendar via Manage, change the calendar in the
// fake Google, and see the change in GET /events — carried only by Google's push to
// CalendarWebhook, the calendar-sync topic and its push subscription to SyncCalendar.
func TestSyncEndToEndThroughPush(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	primary, _ := h.addAccount("eve@example.com")
	conn := mustConnect(t, h, "t1", "eve", "eve@example.com")
	code, body := h.manage("PUT", staffPath("t1", "eve")+"/connections/"+conn+"/calendars/"+url.PathEscape(primary), map[string]bool{"selected": true})
	if code != 200 {
		t.Fatalf("select: %d %s", code, body)
	}
	now := h.FG.Now()
	from, to := now.Add(-24*time.Hour), now.Add(14*24*time.Hour)
	start := now.Add(26 * time.Hour).Truncate(time.Hour)
	ev, err := h.FG.CreateEvent(primary, &calendar.Event{Summary: "Dentist", Description: "bring card",
		Location: "Main St 1", Attendees: []*calendar.EventAttendee{{Email: "other@example.com"}},
		Start: &calendar.EventDateTime{DateTime: start.Format(time.RFC3339)}, End: &calendar.EventDateTime{DateTime: start.Add(time.Hour).Format(time.RFC3339)}})
	if err != nil {
		t.Fatal(err)
	}
	var got eventsBody
	eventually(t, 30*time.Second, "the event in GET /events", func() bool {
		_, got, _ = h.events("t1", "eve", from, to)
		return len(got.Events) == 1
	})
	e := got.Events[0]
	if e.ID != ev.Id || e.Title != "Dentist" || e.Details != "bring card" || !e.Start.Equal(start) || !e.Busy || e.CalendarID != primary || e.Color != "#7986cb" {
		t.Fatalf("event = %+v", e)
	}
	// A move and a deletion travel the same way.
	if err := h.FG.DeleteEvent(primary, ev.Id); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the deletion in GET /events", func() bool {
		_, got, _ = h.events("t1", "eve", from, to)
		return len(got.Events) == 0
	})
	var cal *store.Calendar
	eventually(t, 30*time.Second, "the lease released", func() bool {
		c, err := h.Stack.Platform.Store.GetCalendar(context.Background(), store.CalRef{Tenant: "t1", Staff: "eve", Connection: conn, Calendar: store.CalendarDocID(primary)})
		if err != nil {
			t.Fatal(err)
		}
		cal = c
		return c.LeaseOwner == ""
	})
	if cal.LastPushAt.IsZero() || cal.LastSyncAt.Before(cal.LastPushAt) || cal.SyncToken == "" || cal.LeaseOwner != "" {
		t.Errorf("calendar bookkeeping: lastPushAt %v lastSyncAt %v token %q lease %q", cal.LastPushAt, cal.LastSyncAt, cal.SyncToken, cal.LeaseOwner)
	}
	logs := h.Logs.String()
	for _, want := range []string{`"event":"webhook.notification"`, `"outcome":"published"`, `"event":"sync.done"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s", want)
		}
	}
	if leak := containsAny(logs, "Dentist", "bring card", "Main St", "other@example.com"); leak != "" {
		t.Errorf("logs contain %q", leak)
	}
	// Nothing of the location or attendees reached Firestore.
	dump := dumpFirestore(t, h.Stack.Platform.Store.FS)
	for path, doc := range dump {
		if leak := containsAny(doc, "Main St", "other@example.com"); leak != "" {
			t.Errorf("%s holds %q", path, leak)
		}
	}
}

func TestEventsAPIValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	base := staffPath("t1", "eve") + "/events"
	for _, q := range []string{"", "?from=2026-11-01T00:00:00Z", "?from=x&to=y", "?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z",
		"?from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z", "?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&pageToken=bogus"} {
		code, body := h.manage("GET", base+q, nil)
		if code != http.StatusBadRequest || !strings.Contains(string(body), `"error"`) {
			t.Errorf("GET events%s = %d %s, want 400 JSON", q, code, body)
		}
	}
	code, body := h.manage("GET", base+"?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z", nil)
	if code != 200 || !strings.Contains(string(body), `"events":[]`) {
		t.Fatalf("empty list: %d %s", code, body)
	}
}
