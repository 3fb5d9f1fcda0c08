package localstack

import (
	"context"
	"encoding/json"
	"fmt"
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

// TestEventsAPIPagingAndScope seeds Firestore directly: only selected calendars of active
// connections count, events overlapping [from, to) are returned sorted, 500 per page.
func TestEventsAPIPagingAndScope(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	st := h.Stack.Platform.Store
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(30 * 24 * time.Hour)
	seed := func(conn, status, calID string, selected bool, n int, off time.Duration) {
		if _, err := st.Connection("t1", "s1", conn).Set(ctx, map[string]any{"status": status, "tenant": "t1", "staff": "s1"}); err != nil {
			t.Fatal(err)
		}
		ref := store.CalRef{Tenant: "t1", Staff: "s1", Connection: conn, Calendar: store.CalendarDocID(calID)}
		if _, err := st.Doc(ref).Set(ctx, store.Calendar{GoogleID: calID, Color: "#123456", Selected: selected}); err != nil {
			t.Fatal(err)
		}
		bw := st.FS.BulkWriter(ctx)
		for i := range n {
			s := from.Add(off + time.Duration(i)*time.Hour)
			if _, err := bw.Set(st.Doc(ref).Collection("events").Doc(fmt.Sprintf("e%04d", i)), store.Event{Title: "t", Start: s, End: s.Add(30 * time.Minute), Busy: true}); err != nil {
				t.Fatal(err)
			}
		}
		bw.End()
	}
	seed("c1", store.StatusActive, "work@example.com", true, 620, 0)
	seed("c1", store.StatusActive, "private@example.com", false, 5, 0)
	seed("c2", store.StatusReauthRequired, "old@example.com", true, 5, 0)
	// One long event starting before the window still overlaps it; one ends exactly at from.
	ref := store.CalRef{Tenant: "t1", Staff: "s1", Connection: "c1", Calendar: store.CalendarDocID("work@example.com")}
	_, _ = st.Doc(ref).Collection("events").Doc("long").Set(ctx, store.Event{Start: from.Add(-48 * time.Hour), End: from.Add(time.Hour), AllDay: true})
	_, _ = st.Doc(ref).Collection("events").Doc("before").Set(ctx, store.Event{Start: from.Add(-time.Hour), End: from})

	code, p1, body := h.events("t1", "s1", from, to)
	if code != 200 || len(p1.Events) != 500 || p1.NextPageToken == "" {
		t.Fatalf("page 1: %d %d events, token %q: %.300s", code, len(p1.Events), p1.NextPageToken, body)
	}
	if p1.Events[0].ID != "long" || p1.Events[0].CalendarID != "work@example.com" || p1.Events[0].Color != "#123456" {
		t.Fatalf("first event = %+v", p1.Events[0])
	}
	q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}, "pageToken": {p1.NextPageToken}}
	code, raw := h.manage("GET", staffPath("t1", "s1")+"/events?"+q.Encode(), nil)
	var p2 eventsBody
	if code != 200 || json.Unmarshal(raw, &p2) != nil || len(p2.Events) != 121 || p2.NextPageToken != "" {
		t.Fatalf("page 2: %d %d events %q", code, len(p2.Events), p2.NextPageToken)
	}
	all := append(p1.Events, p2.Events...)
	for i := 1; i < len(all); i++ {
		if all[i].Start.Before(all[i-1].Start) {
			t.Fatalf("not sorted at %d", i)
		}
		if all[i].ID == "before" || all[i].CalendarID != "work@example.com" {
			t.Fatalf("event out of scope: %+v", all[i])
		}
	}
	q.Set("from", from.Add(time.Hour).Format(time.RFC3339))
	if code, _ := h.manage("GET", staffPath("t1", "s1")+"/events?"+q.Encode(), nil); code != 400 {
		t.Fatalf("page token of another query: %d", code)
	}
}
