package localstack

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/booking"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/messages"
)

// TestCancelDuringExportLeavesNoEvent: the customer cancels while ExportBooking is still
// inserting the event; the delete message runs first and finds nothing. The export must
// notice the cancellation and remove the event it just wrote.
func TestCancelDuringExportLeavesNoEvent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{}) // no push: the test runs the exporter itself
	primary, _ := h.addAccount("anna@example.com")
	mustConnect(t, h, "t1", "anna", "anna@example.com")
	h.setRules("t1", "anna", weekdayRules())
	h.freeFormTenant("t1")
	resp, body := h.public("POST", h.Stack.Function("Book")+"/", bookBody("t1", "anna", "2026-11-03T10:00:00+01:00", 30))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("book: %d %s", resp.StatusCode, body)
	}
	created := decodeMap(t, body)
	id, tok := created["id"].(string), created["cancelToken"].(string)

	p := h.Stack.Platform
	x := &booking.Exporter{Store: p.Store, Accounts: p.Accounts(h.Stack.Env.Google), Fields: h.Stack.Env.ExportFields}
	now := h.FG.Now()
	// The insert is held for 3 s; the cancel and the delete export below take a few
	// milliseconds, and the test checks that they really ran inside that window.
	mustFault(h, fakegoogle.Fault{Op: "events.insert", Latency: "3s"})
	inserts := h.FG.Calls("events.insert")
	done := make(chan error, 1)
	go func() {
		done <- x.Handle(context.Background(), messages.Export{Tenant: "t1", Staff: "anna", Booking: id, Op: "upsert"}, now)
	}()
	eventually(t, 10*time.Second, "the insert to be in flight", func() bool { return h.FG.Calls("events.insert") > inserts })

	if resp, body := h.public("POST", h.Stack.Function("Book")+"/cancel", map[string]string{"id": id, "cancelToken": tok}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("cancel: %d %s", resp.StatusCode, body)
	}
	if err := x.Handle(context.Background(), messages.Export{Tenant: "t1", Staff: "anna", Booking: id, Op: "delete"}, now); err != nil {
		t.Fatalf("delete export: %v", err)
	}
	select {
	case <-done:
		t.Fatal("the insert finished before the cancel was handled: the race this test is about did not happen")
	default:
	}
	if ev := h.FG.Event(primary, booking.EventID(id)); ev != nil {
		t.Fatal("the event existed before the delete export ran: the race this test is about did not happen")
	}
	if err := <-done; err != nil {
		t.Fatalf("upsert export: %v", err)
	}
	if ev := h.FG.Event(primary, booking.EventID(id)); ev != nil && ev.Status != "cancelled" {
		t.Fatalf("the cancelled booking's event is left in Google: %+v", ev)
	}
	b, err := booking.Get(context.Background(), p.Store, "t1", "anna", id)
	if err != nil || b.ExportState != booking.ExportDeleted {
		t.Fatalf("booking export state = %+v, %v", b, err)
	}
}

// TestDisconnectForgetsWhereBookingsWent: bookings remember the Google calendar they were
// exported to (often the account's e-mail address); disconnecting clears that.
func TestDisconnectForgetsWhereBookingsWent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	primary, _ := h.addAccount("anna@example.com")
	conn := mustConnect(t, h, "t1", "anna", "anna@example.com")
	h.setRules("t1", "anna", weekdayRules())
	h.freeFormTenant("t1")
	resp, body := h.public("POST", h.Stack.Function("Book")+"/", bookBody("t1", "anna", "2026-11-03T10:00:00+01:00", 30))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("book: %d %s", resp.StatusCode, body)
	}
	id := decodeMap(t, body)["id"].(string)
	st := h.Stack.Platform.Store
	eventually(t, 30*time.Second, "the export", func() bool {
		b, err := booking.Get(context.Background(), st, "t1", "anna", id)
		return err == nil && b.ExportCalendar == primary && b.ExportConn == conn
	})
	if code, body := h.manage("DELETE", staffPath("t1", "anna")+"/connections/"+conn, nil); code != http.StatusNoContent {
		t.Fatalf("disconnect: %d %s", code, body)
	}
	b, err := booking.Get(context.Background(), st, "t1", "anna", id)
	if err != nil || b.ExportCalendar != "" || b.ExportConn != "" || b.Status != "confirmed" {
		t.Fatalf("after disconnect the booking is %+v (%v): want it kept, without export calendar and connection", b, err)
	}
}

// TestBookingsWaitingForAConnectionAreExportedOnConnect: a booking made while the staff
// member had no Google connection is written into the calendar once they connect.
func TestBookingsWaitingForAConnectionAreExportedOnConnect(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	primary, _ := h.addAccount("anna@example.com")
	h.setRules("t1", "anna", weekdayRules())
	h.freeFormTenant("t1")
	resp, body := h.public("POST", h.Stack.Function("Book")+"/", bookBody("t1", "anna", "2026-11-03T10:00:00+01:00", 30))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("book: %d %s", resp.StatusCode, body)
	}
	id := decodeMap(t, body)["id"].(string)
	st := h.Stack.Platform.Store
	eventually(t, 30*time.Second, "the export to be skipped for want of a connection", func() bool {
		b, err := booking.Get(context.Background(), st, "t1", "anna", id)
		return err == nil && b.ExportState == "skipped_no_connection"
	})
	mustConnect(t, h, "t1", "anna", "anna@example.com")
	eventually(t, 30*time.Second, "the booking in Google after connecting", func() bool {
		ev := h.FG.Event(primary, booking.EventID(id))
		return ev != nil && ev.Status != "cancelled"
	})
}
