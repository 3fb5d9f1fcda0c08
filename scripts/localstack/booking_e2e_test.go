package localstack

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/functions/slots"
	"github.com/belbo/calsync/shared/booking"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/topology"
)

// slotStarts asks Slots for one day and returns the start times.
func (h *harness) slotStarts(tenant, staff, day string) []string {
	h.t.Helper()
	q := url.Values{"tenant": {tenant}, "staff": {staff}, "durationMin": {"30"}, "from": {day + "T00:00:00+01:00"}, "to": {day + "T23:59:00+01:00"}}
	resp, body := h.public("GET", h.Stack.Function("Slots")+"/?"+q.Encode(), nil)
	if resp.StatusCode != 200 {
		h.t.Fatalf("slots: %d %s", resp.StatusCode, body)
	}
	var out []string
	for _, s := range decodeMap(h.t, body)["slots"].([]any) {
		out = append(out, s.(map[string]any)["start"].(string))
	}
	return out
}

// TestBookingExportEndToEnd: a widget booking reaches the fake Google through the
// calendar-export topic and its push subscription, with the deterministic id and the
// private property; a duplicated delivery leaves one event; the inbound sync sees the echo
// and adds no busy item (the slot stays blocked exactly once, by the booking); cancel
// deletes the event and frees the slot.
func TestBookingExportEndToEnd(t *testing.T) {
	h := newHarness(t, harnessOptions{Push: true})
	primary, _ := h.addAccount("anna@example.com")
	conn := mustConnect(t, h, "t1", "anna", "anna@example.com")
	if code, body := h.manage("PUT", staffPath("t1", "anna")+"/connections/"+conn+"/calendars/"+url.PathEscape(primary), map[string]bool{"selected": true}); code != 200 {
		t.Fatalf("select: %d %s", code, body)
	}
	h.setRules("t1", "anna", weekdayRules())
	h.freeFormTenant("t1")
	const slot = "2026-11-03T10:00:00+01:00"
	if !slices.Contains(h.slotStarts("t1", "anna", "2026-11-03"), slot) {
		t.Fatal("10:00 not offered before booking")
	}

	resp, body := h.public("POST", h.Stack.Function("Book")+"/", bookBody("t1", "anna", slot, 30))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("book: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != widgetOrigin {
		t.Errorf("CORS header %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
	created := decodeMap(t, body)
	id, tok := created["id"].(string), created["cancelToken"].(string)
	if created["start"] != slot || created["end"] != "2026-11-03T10:30:00+01:00" || created["staff"] != "anna" {
		t.Fatalf("created %v", created)
	}
	evID := booking.EventID(id)
	eventually(t, 30*time.Second, "the booking in Google", func() bool {
		ev := h.FG.Event(primary, evID)
		return ev != nil && ev.Status != "cancelled"
	})
	ev := h.FG.Event(primary, evID)
	if ev.ExtendedProperties == nil || ev.ExtendedProperties.Private["calsyncBooking"] != id || ev.Summary != "Haircut – Erika Mustermann" || ev.Description != "" {
		t.Fatalf("google event %+v", ev)
	}
	// Slots answers may be up to slots.CacheTTL old (the per-instance answer cache).
	eventually(t, 2*slots.CacheTTL, "10:00 no longer offered after booking", func() bool {
		return !slices.Contains(h.slotStarts("t1", "anna", "2026-11-03"), slot)
	})

	// A duplicated delivery: the same message twice more.
	inserts := h.FG.Calls("events.insert")
	for range 2 {
		if err := h.Stack.Platform.Publish(context.Background(), topology.CalendarExport, messages.Export{Tenant: "t1", Staff: "anna", Booking: id, Op: "upsert"}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, "both duplicates processed", func() bool { return h.FG.Calls("events.insert") >= inserts+2 })
	from, to := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	n := 0
	for _, e := range h.FG.Events(primary, true, from, to) {
		if e.ExtendedProperties != nil && e.ExtendedProperties.Private["calsyncBooking"] == id {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d Google events for the booking, want 1", n)
	}
	st := h.Stack.Platform.Store
	eventually(t, 30*time.Second, "exportState exported", func() bool {
		b, err := booking.Get(context.Background(), st, "t1", "anna", id)
		return err == nil && b.ExportState == booking.ExportExported && b.GoogleEventID == evID && b.ExportCalendar == primary
	})

	// Inbound sync: the echo is stored as an event with bookingId, and is not in the
	// busy index; the slot is blocked once (by the booking), so 10:00 is not offered
	// and 10:30 is (no double block with a wider span).
	calDoc := store.CalendarDocID(primary)
	eventually(t, 30*time.Second, "the echo stored by the inbound sync", func() bool {
		snap, err := st.Calendar("t1", "anna", conn, calDoc).Collection("events").Doc(evID).Get(context.Background())
		if err != nil {
			return false
		}
		b, _ := snap.DataAt("bookingId")
		return b == id
	})
	busy, err := st.Busy("t1", "anna").Doc(store.BusyDocID(conn, calDoc, "2026-11")).Get(context.Background())
	if err == nil {
		var bm store.BusyMonth
		if err := busy.DataTo(&bm); err != nil {
			t.Fatal(err)
		}
		if _, dup := bm.Items[evID]; dup {
			t.Fatal("the product's own event is in the busy index (counted twice)")
		}
	}
	starts := h.slotStarts("t1", "anna", "2026-11-03")
	if slices.Contains(starts, slot) || !slices.Contains(starts, "2026-11-03T10:30:00+01:00") || !slices.Contains(starts, "2026-11-03T09:30:00+01:00") {
		t.Fatalf("after inbound sync: %v", starts)
	}

	// The staff member moves our event in Google: the booking is flagged, not changed.
	moved := time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)
	if _, err := h.FG.PatchEvent(primary, evID, &calendar.Event{Start: &calendar.EventDateTime{DateTime: moved.Format(time.RFC3339)}, End: &calendar.EventDateTime{DateTime: moved.Add(30 * time.Minute).Format(time.RFC3339)}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "conflict moved_in_google", func() bool {
		b, err := booking.Get(context.Background(), st, "t1", "anna", id)
		return err == nil && b.Conflict == booking.ConflictMoved
	})
	if b, _ := booking.Get(context.Background(), st, "t1", "anna", id); !b.Start.Equal(time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)) || b.Status != "confirmed" {
		t.Fatalf("booking changed: %+v", b)
	}

	// Cancel with the link's token.
	resp, body = h.public("POST", h.Stack.Function("Book")+"/cancel", map[string]string{"id": id, "cancelToken": tok})
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("cancel: %d %s", resp.StatusCode, body)
	}
	eventually(t, 30*time.Second, "the Google event deleted", func() bool {
		ev := h.FG.Event(primary, evID)
		return ev == nil || ev.Status == "cancelled"
	})
	eventually(t, 2*slots.CacheTTL, "10:00 free again after cancel", func() bool {
		return slices.Contains(h.slotStarts("t1", "anna", "2026-11-03"), slot)
	})
	// The management API shows it.
	code, lb := h.manage("GET", staffPath("t1", "anna")+"/bookings?from=2026-11-01T00:00:00Z&to=2026-11-10T00:00:00Z", nil)
	if code != 200 {
		t.Fatalf("list: %d %s", code, lb)
	}
	list := decodeMap(t, lb)["bookings"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["status"] != "cancelled" || list[0].(map[string]any)["googleEventId"] != evID || list[0].(map[string]any)["conflict"] != booking.ConflictMoved {
		t.Fatalf("list %s", lb)
	}
	if leak := containsAny(h.Logs.String(), "Erika", "erika@example.org", tok); leak != "" {
		t.Errorf("logs contain %q", leak)
	}
}
