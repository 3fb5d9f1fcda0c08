package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/booking"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/connect"
	"github.com/belbo/calsync/shared/erasure"
	"github.com/belbo/calsync/shared/store"
)

var errCrash = errors.New("simulated crash")

// crashAt stops an erasure at the n-th step whose name starts with prefix.
func crashAt(prefix string, n int) func(string) error {
	seen := 0
	return func(step string) error {
		if strings.HasPrefix(step, prefix) {
			seen++
			if seen == n {
				return errCrash
			}
		}
		return nil
	}
}

// TestEraseCustomerCrashAndRetry: a customer with a past and an upcoming booking (and
// another customer next to them) is erased with erasure.exportedEvents=anonymise. The
// first run dies half-way (after the first booking is done, before the second's Google
// event); the retry through Manage finishes: the past booking's event is anonymised, the
// upcoming booking is cancelled and its event deleted, both bookings lose name, e-mail
// and hashes, the synced copies lose their titles. The other customer is untouched; a
// third run finds nothing left and answers zeros.
func TestEraseCustomerCrashAndRetry(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	h.freeFormTenant("te") // books or asks for slots with durationMin, no catalogue
	primary, _ := h.addAccount("anna.er@example.com")
	h.setRules("te", "anna", weekdayRules())
	conn := mustConnect(t, h, "te", "anna", "anna.er@example.com")
	h.selectCal("te", "anna", conn, primary, true)
	if code, body := h.manage("PATCH", "/v1/tenants/te/settings", map[string]any{"erasure": map[string]string{"exportedEvents": "anonymise"}}); code != http.StatusOK {
		t.Fatalf("settings: %d %s", code, body)
	}
	past, _ := h.bookAs("te", "anna", "2026-11-03T10:00:00+01:00", "Xaver Erased", "xaver@example.org")
	upcoming, _ := h.bookAs("te", "anna", "2026-11-05T10:00:00+01:00", "Xaver Erased", "XAVER@example.org")
	other, _ := h.bookAs("te", "anna", "2026-11-05T11:00:00+01:00", "Yara Stays", "yara@example.org")
	for _, id := range []string{past, upcoming, other} {
		eventually(t, 30*time.Second, "booking "+id+" exported", func() bool {
			return h.booking("te", "anna", id).ExportState == booking.ExportExported
		})
	}
	eventually(t, 30*time.Second, "the exports synced back", func() bool {
		return strings.Contains(h.eventsJSON("te", "anna", "2026-11-03"), `"bookingId":"`+past+`"`) && strings.Contains(h.eventsJSON("te", "anna", "2026-11-05"), `"bookingId":"`+upcoming+`"`)
	})
	h.quiesce("te", "anna", conn, primary)                      // no sync straddles the clock jump
	h.FG.SetTime(time.Date(2026, 11, 4, 12, 0, 0, 0, time.UTC)) // the first appointment is over

	// Run 1 dies before the second booking's Google step.
	svc := eraser(h)
	svc.Crash = crashAt("google ", 2)
	first, err := svc.Customer(context.Background(), "te", "xaver@example.org", h.FG.Now())
	if !errors.Is(err, errCrash) || !errors.Is(err, erasure.ErrRetry) {
		t.Fatalf("run 1: want the simulated crash, got %v", err)
	}
	if first.Bookings != 1 {
		t.Fatalf("run 1 finished %d bookings before the crash, want 1", first.Bookings)
	}
	done := 0
	for _, id := range []string{past, upcoming} {
		if !hasCustomer(h.booking("te", "anna", id)) {
			done++
		}
	}
	if done != 1 {
		t.Fatalf("after the crash %d of 2 bookings are scrubbed, want 1 (the crash was not half-way)", done)
	}

	// Run 2 through Manage finishes.
	code, body := h.manage("POST", "/v1/tenants/te/erasure/customers", map[string]string{"email": "xaver@example.org"})
	if code != http.StatusOK {
		t.Fatalf("retry: %d %s", code, body)
	}
	var res erasure.CustomerResult
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if res.Bookings != 1 || first.Bookings+res.Bookings != 2 || first.Cancelled+res.Cancelled != 1 ||
		first.EventsAnonymised+res.EventsAnonymised != 1 || first.EventsDeleted+res.EventsDeleted > 1 {
		// (The cancel in run 1 also asks ExportBooking to delete the event: whichever is
		// first deletes it, the other finds it gone; the Google check below is exact.)
		t.Fatalf("counts: run 1 %+v, run 2 %+v", first, res)
	}
	for _, id := range []string{past, upcoming} {
		b := h.booking("te", "anna", id)
		if hasCustomer(b) || b.CancelTokenHash != "" || b.ScrubbedAt.IsZero() || b.Service != "Haircut" {
			t.Errorf("booking %s after erasure: %+v", id, b)
		}
	}
	if b := h.booking("te", "anna", upcoming); b.Status != store.BookingCancelled {
		t.Errorf("the upcoming booking was not cancelled: %s", b.Status)
	}
	if b := h.booking("te", "anna", past); b.Status != store.BookingConfirmed {
		t.Errorf("the past booking's status changed: %s", b.Status)
	}
	if ev := h.FG.Event(primary, booking.EventID(past)); ev == nil || ev.Status == "cancelled" || ev.Summary != "Haircut" || ev.Description != "" {
		t.Errorf("the past booking's event is not anonymised: %+v", ev)
	}
	if ev := h.FG.Event(primary, booking.EventID(upcoming)); ev != nil && ev.Status != "cancelled" {
		t.Errorf("the upcoming booking's event is still in Google: %+v", ev)
	}
	for _, day := range []string{"2026-11-03", "2026-11-05"} {
		if ev := h.eventsJSON("te", "anna", day); strings.Contains(ev, "Xaver") {
			t.Errorf("a synced copy still names the customer: %s", ev)
		}
	}
	// The other customer is untouched.
	if o := h.booking("te", "anna", other); o.CustomerName != "Yara Stays" || o.Status != store.BookingConfirmed || o.CustomerEmailHash != store.EmailHash("te", "yara@example.org") {
		t.Errorf("the other customer's booking was touched: %+v", o)
	}
	if ev := h.FG.Event(primary, booking.EventID(other)); ev == nil || ev.Summary != "Haircut – Yara Stays" {
		t.Errorf("the other customer's event was touched: %+v", ev)
	}
	// Run 3: nothing left.
	code, body = h.manage("POST", "/v1/tenants/te/erasure/customers", map[string]string{"email": "xaver@example.org"})
	if code != http.StatusOK || !strings.Contains(string(body), `"bookingsScrubbed":0`) || !strings.Contains(string(body), `"googleEventsDeleted":0`) {
		t.Fatalf("run 3: %d %s", code, body)
	}
	if code, _ := h.manage("POST", "/v1/tenants/te/erasure/customers", map[string]string{"email": " "}); code != http.StatusBadRequest {
		t.Fatalf("an empty e-mail answered %d", code)
	}
}

// TestEraseStaffAndTenantCrashAndRetry: erasing a staff member dies after the disconnect
// and before the rest of their documents; the retry through Manage deletes everything
// under the staff member and their lookups. The same Google account stays connected in
// another tenant, so its grant is not revoked there. Then the whole tenant is erased
// (again crashing once half-way); the other tenant is untouched.
func TestEraseStaffAndTenantCrashAndRetry(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	h.freeFormTenant("ts") // books or asks for slots with durationMin, no catalogue
	ctx := context.Background()
	primary, _ := h.addAccount("anna.es@example.com")
	benPrimary, _ := h.addAccount("ben.es@example.com")
	h.setRules("ts", "anna", weekdayRules())
	h.setRules("ts", "ben", weekdayRules())
	anna := mustConnect(t, h, "ts", "anna", "anna.es@example.com")
	h.selectCal("ts", "anna", anna, primary, true)
	ben := mustConnect(t, h, "ts", "ben", "ben.es@example.com")
	h.selectCal("ts", "ben", ben, benPrimary, true)
	elsewhere := mustConnect(t, h, "tother", "carl", "anna.es@example.com") // same account, other tenant
	h.bookAs("ts", "anna", "2026-11-04T10:00:00+01:00", "Kim Kunde", "kim@example.org")
	h.bookAs("ts", "ben", "2026-11-04T10:00:00+01:00", "Kim Kunde", "kim@example.org")
	h.startConnect("ts", "anna") // a pending flow
	if code, body := h.manage("PATCH", "/v1/tenants/ts/settings", map[string]any{"freeFormBooking": true}); code != http.StatusOK {
		t.Fatalf("settings: %d %s", code, body)
	}
	eventually(t, 30*time.Second, "anna's calendar synced", func() bool {
		return h.calendarDoc("ts", "anna", anna, primary).LastSyncAt.After(time.Time{})
	})
	h.FG.WaitIdle(ctx)

	svc := eraser(h)
	svc.Crash = crashAt("tree", 1)
	first, err := svc.Staff(ctx, "ts", "anna")
	if !errors.Is(err, errCrash) || first.Disconnected != 1 {
		t.Fatalf("run 1: %+v %v", first, err)
	}
	if _, err := h.Stack.Platform.Store.GetConnection(ctx, "ts", "anna", anna); !store.NotFound(err) {
		t.Fatalf("run 1 did not get as far as the disconnect: %v", err)
	}
	code, body := h.manage("DELETE", staffPath("ts", "anna"), nil)
	if code != http.StatusOK {
		t.Fatalf("retry: %d %s", code, body)
	}
	var res erasure.Result
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if res.Documents["bookings"] != 1 || res.Documents["staff"] != 1 || res.Disconnected != 0 {
		t.Fatalf("retry counts: %s", body)
	}
	for path, doc := range dumpFirestore(t, h.Stack.Platform.Store.FS) {
		if strings.Contains(path, "/staff/anna/") || strings.HasSuffix(path, "/staff/anna") || strings.Contains(path, anna) && strings.Contains(path, "/ts/") ||
			strings.Contains(doc, `"staff":"anna"`) {
			t.Errorf("left of anna: %s %s", path, doc)
		}
	}
	// The account's grant is still live for the other tenant's connection.
	if !h.calendarsFresh("tother", "carl", elsewhere) {
		t.Fatal("erasing anna in one tenant revoked the account's grant used by another tenant")
	}
	if code, body := h.manage("DELETE", staffPath("ts", "anna"), nil); code != http.StatusOK || !strings.Contains(string(body), `"staff":0`) {
		t.Fatalf("erasing again: %d %s", code, body)
	}

	// The whole tenant, crashing once after its staff and before the tenant document.
	svc.Crash = crashAt("tenant", 1)
	if _, err := svc.Tenant(ctx, "ts"); !errors.Is(err, errCrash) {
		t.Fatalf("tenant run 1: %v", err)
	}
	code, body = h.manage("DELETE", "/v1/tenants/ts", nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"tenants":1`) {
		t.Fatalf("tenant retry: %d %s", code, body)
	}
	for path, doc := range dumpFirestore(t, h.Stack.Platform.Store.FS) {
		if strings.Contains(path, "tenants/ts/") || strings.HasSuffix(path, "tenants/ts") || strings.Contains(doc, `"tenant":"ts"`) {
			t.Errorf("left of the tenant: %s %s", path, doc)
		}
	}
	if _, err := h.Stack.Platform.Store.GetConnection(ctx, "tother", "carl", elsewhere); err != nil {
		t.Fatalf("the other tenant's connection was touched: %v", err)
	}
	if !h.calendarsFresh("tother", "carl", elsewhere) {
		t.Fatal("the other tenant's connection lost its grant")
	}
}

// eraser is the erasure service on the stack's root platform, configured as Manage's.
func eraser(h *harness) *erasure.Service {
	p, env := h.Stack.Platform, h.Stack.Env
	return erasure.New(p, connect.New(p, config.Select[connect.Config](env)), env.Export)
}
