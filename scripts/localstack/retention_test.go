package localstack

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/booking"
	"github.com/belbo/calsync/shared/store"
)

func (h *harness) booking(tenant, staff, id string) *store.Booking {
	h.t.Helper()
	b, err := booking.Get(context.Background(), h.Stack.Platform.Store, tenant, staff, id)
	if err != nil {
		h.t.Fatalf("read booking %s: %v", id, err)
	}
	return b
}

func (h *harness) bookAs(tenant, staff, slot, name, email string) (id, token string) {
	h.t.Helper()
	b := bookBody(tenant, staff, slot, 30)
	b["customer"] = map[string]string{"name": name, "email": email}
	resp, body := h.public("POST", h.Stack.Function("Book")+"/", b)
	if resp.StatusCode != http.StatusCreated {
		h.t.Fatalf("book %s: %d %s", slot, resp.StatusCode, body)
	}
	m := decodeMap(h.t, body)
	return m["id"].(string), m["cancelToken"].(string)
}

func hasCustomer(b *store.Booking) bool {
	return b.CustomerName != "" || b.CustomerEmail != "" || b.CustomerEmailHash != ""
}

// TestRetentionOnTheSharedClock moves the shared fake clock past each retention period
// and lets the scheduler tick (RenewChannels, through Pub/Sub) do the work:
//   - a cancelled booking loses name, e-mail and hashes 7 days after the cancellation,
//     the confirmed one next to it keeps them;
//   - the confirmed booking loses them 30 days after its end, with the title of the
//     synced copy of its exported event; staff, times, service, status stay;
//   - a reauth_required connection shows its deleteAfter date and is deleted 30 days
//     after it turned so; the active connection next to it stays;
//   - another tenant with a 365-day period keeps its booking's customer data throughout.
func TestRetentionOnTheSharedClock(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	h.freeFormTenant("tr") // books or asks for slots with durationMin, no catalogue
	h.freeFormTenant("tx") // books or asks for slots with durationMin, no catalogue
	ctx := context.Background()
	primary, _ := h.addAccount("anna.ret@example.com")
	h.addAccount("ben.ret@example.com")
	h.setRules("tr", "anna", weekdayRules())
	h.setRules("tx", "carl", weekdayRules())
	if code, body := h.manage("PATCH", "/v1/tenants/tx/settings", map[string]any{"retention": map[string]int{"customerDataDays": 365}}); code != http.StatusOK {
		t.Fatalf("settings: %d %s", code, body)
	}
	anna := mustConnect(t, h, "tr", "anna", "anna.ret@example.com")
	h.selectCal("tr", "anna", anna, primary, true)
	ben := mustConnect(t, h, "tr", "ben", "ben.ret@example.com")

	kept, _ := h.bookAs("tr", "anna", "2026-11-04T10:00:00+01:00", "Konrad Kept", "konrad@example.org")
	cancelled, tok := h.bookAs("tr", "anna", "2026-11-04T11:00:00+01:00", "Carla Cancelled", "carla@example.org")
	other, _ := h.bookAs("tx", "carl", "2026-11-04T10:00:00+01:00", "Otto Other", "otto@example.org")
	eventually(t, 30*time.Second, "the booking exported and its copy synced back", func() bool {
		return strings.Contains(h.eventsJSON("tr", "anna", "2026-11-04"), `"bookingId":"`+kept+`"`)
	})
	if resp, body := h.public("POST", h.Stack.Function("Book")+"/cancel", map[string]string{"id": cancelled, "cancelToken": tok}); resp.StatusCode/100 != 2 {
		t.Fatalf("cancel: %d %s", resp.StatusCode, body)
	}
	cancelledAt := h.FG.Now()
	// Lock docs carry their TTL (two days after their UTC day).
	locks, err := h.Stack.Platform.Store.Staff("tr", "anna").Collection("bookingLocks").Doc("2026-11-04").Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if exp, _ := locks.DataAt("expireAt"); !exp.(time.Time).Equal(time.Date(2026, 11, 6, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("lock doc expireAt = %v", exp)
	}

	// Ben revokes access at Google; the next look at his connection notices.
	h.FG.RevokeAccount("ben.ret@example.com")
	h.connections("tr", "ben")
	var listed struct {
		Connections []struct {
			ID, Status  string
			DeleteAfter time.Time
		}
	}
	_, body := h.manage("GET", staffPath("tr", "ben")+"/connections", nil)
	if err := json.Unmarshal(body, &listed); err != nil || len(listed.Connections) != 1 || listed.Connections[0].Status != store.StatusReauthRequired {
		t.Fatalf("ben's connection: %s (%v)", body, err)
	}
	benConn, err := h.Stack.Platform.Store.GetConnection(ctx, "tr", "ben", ben)
	if err != nil {
		t.Fatal(err)
	}
	if want := benConn.StatusChangedAt.Add(30 * 24 * time.Hour); !listed.Connections[0].DeleteAfter.Equal(want) {
		t.Fatalf("deleteAfter = %v, want %v", listed.Connections[0].DeleteAfter, want)
	}

	// Six days after the cancellation: nothing goes yet.
	h.quiesce("tr", "anna", anna, primary) // no sync straddles a clock jump
	h.FG.SetTime(cancelledAt.Add(6 * 24 * time.Hour))
	if err := h.renewer().OnTick(ctx, h.FG.Now()); err != nil {
		t.Fatal(err)
	}
	if c := h.booking("tr", "anna", cancelled); !hasCustomer(c) || c.CancelTokenHash == "" {
		t.Fatalf("scrubbed before its 7 days: %+v", c)
	}
	// Seven days and a minute: the cancelled booking's customer data goes.
	h.quiesce("tr", "anna", anna, primary)
	h.FG.SetTime(cancelledAt.Add(7*24*time.Hour + time.Minute))
	h.tick()
	eventually(t, 30*time.Second, "the cancelled booking scrubbed", func() bool { return !hasCustomer(h.booking("tr", "anna", cancelled)) })
	c := h.booking("tr", "anna", cancelled)
	if c.CancelTokenHash != "" || c.ScrubbedAt.IsZero() || c.Status != store.BookingCancelled || c.Service != "Haircut" || c.Start.IsZero() || c.Staff != "anna" {
		t.Fatalf("scrubbed booking lost the business's record or kept a hash: %+v", c)
	}
	if k := h.booking("tr", "anna", kept); k.CustomerName != "Konrad Kept" || k.CustomerEmail != "konrad@example.org" || !k.ScrubbedAt.IsZero() {
		t.Fatalf("the confirmed booking was touched: %+v", k)
	}
	if _, err := h.Stack.Platform.Store.GetConnection(ctx, "tr", "ben", ben); err != nil {
		t.Fatalf("ben's connection went before its 30 days: %v", err)
	}

	// 30 days after the appointment's end (and after ben turned reauth_required).
	k := h.booking("tr", "anna", kept)
	h.quiesce("tr", "anna", anna, primary)
	h.FG.SetTime(k.End.Add(30*24*time.Hour + time.Minute))
	h.tick()
	eventually(t, 30*time.Second, "the confirmed booking scrubbed and ben's connection deleted", func() bool {
		_, err := h.Stack.Platform.Store.GetConnection(ctx, "tr", "ben", ben)
		return !hasCustomer(h.booking("tr", "anna", kept)) && store.NotFound(err)
	})
	k = h.booking("tr", "anna", kept)
	if k.Status != store.BookingConfirmed || k.Service != "Haircut" || k.ExportState != booking.ExportExported || k.GoogleEventID == "" {
		t.Fatalf("scrubbed booking lost the business's record: %+v", k)
	}
	if ev := h.eventsJSON("tr", "anna", "2026-11-04"); strings.Contains(ev, "Konrad") {
		t.Fatalf("the synced copy of the exported event still names the customer: %s", ev)
	}
	for path := range dumpFirestore(t, h.Stack.Platform.Store.FS) {
		if strings.Contains(path, ben) {
			t.Errorf("left of ben's expired connection: %s", path)
		}
	}
	if a, err := h.Stack.Platform.Store.GetConnection(ctx, "tr", "anna", anna); err != nil || a.Status != store.StatusActive {
		t.Fatalf("anna's active connection was touched: %+v %v", a, err)
	}
	if o := h.booking("tx", "carl", other); o.CustomerName != "Otto Other" || o.CustomerEmailHash != store.EmailHash("tx", "otto@example.org") {
		t.Fatalf("the other tenant's booking (365 days) was scrubbed: %+v", o)
	}
}

// eventsJSON is GET /events of one day (the synced copies, as Manage shows them).
func (h *harness) eventsJSON(tenant, staff, day string) string {
	h.t.Helper()
	code, body := h.manage("GET", staffPath(tenant, staff)+"/events?from="+day+"T00:00:00Z&to="+day+"T23:59:00Z", nil)
	if code != http.StatusOK {
		h.t.Fatalf("events: %d %s", code, body)
	}
	return string(body)
}
