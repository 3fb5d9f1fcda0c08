package localstack

import (
	"net/http"
	"testing"

	"github.com/belbo/calsync/shared/health"
	"github.com/belbo/calsync/shared/store"
)

// TestReauthWithholdsSlotsAndBook (issue 15, product decision): once a staff member's
// Google connection needs reauthorisation, Slots offers none of their times (warm and cold
// Slots instance alike), Book answers 409 calendar_reauth_required, and health says why;
// other staff members are unaffected. The tenant setting slotsWhenReauthNeeded offers the
// times again (health: offered_unchecked); reconnecting restores the normal state.
func TestReauthWithholdsSlotsAndBook(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.addAccount("anna@example.com")
	h.setRules("t1", "anna", weekdayRules())
	h.setRules("t1", "ben", weekdayRules()) // no Google connection: never withheld
	h.freeFormTenant("t1")
	conn := mustConnect(t, h, "t1", "anna", "anna@example.com")
	const day = "2026-11-03" // a Tuesday; the clock starts on Monday 08:00 Berlin
	start := day + "T10:00:00+01:00"
	if got := h.slotStarts("t1", "anna", day); len(got) == 0 {
		t.Fatal("an active connection offers no slots")
	}
	if hc := h.health("t1", "anna", conn); hc.Slots != health.SlotsOffered {
		t.Fatalf("active connection: health.slots = %q, want %q", hc.Slots, health.SlotsOffered)
	}

	h.FG.RevokeAccount("anna@example.com")
	// Listing the connections notices the revoked grant (the picture read gets
	// invalid_grant) and turns it reauth_required.
	if s := h.connections("t1", "anna").Connections[0].Status; s != store.StatusReauthRequired {
		t.Fatalf("status after revoke = %s", s)
	}
	hc := h.health("t1", "anna", conn)
	if hc.Slots != health.SlotsWithheld || hc.SlotsReason != health.ReasonReauth {
		t.Fatalf("reauth_required: health slots=%q reason=%q, want withheld/reauth_required", hc.Slots, hc.SlotsReason)
	}
	// The Slots instance remembered anna's calendars a moment ago (warm path) and a fresh
	// request for "any" must agree: no time of anna's.
	if got := h.slotStarts("t1", "anna", day); len(got) != 0 {
		t.Fatalf("reauth_required: Slots offered %d times for anna", len(got))
	}
	if got := h.slotStarts("t1", "ben", day); len(got) == 0 {
		t.Fatal("another staff member lost their slots")
	}
	resp, body := h.public("POST", h.Stack.Function("Book")+"/", bookBody("t1", "anna", start, 30))
	if resp.StatusCode != http.StatusConflict || decodeMap(t, body)["error"].(map[string]any)["code"] != "calendar_reauth_required" {
		t.Fatalf("Book while reauth_required: %d %s, want 409 calendar_reauth_required", resp.StatusCode, body)
	}

	// The tenant chooses to offer slots anyway.
	if code, body := h.manage(http.MethodPatch, "/v1/tenants/t1/settings", map[string]any{"slotsWhenReauthNeeded": true}); code != http.StatusOK {
		t.Fatalf("PATCH settings: %d %s", code, body)
	}
	if got := h.slotStarts("t1", "anna", day); len(got) == 0 {
		t.Fatal("slotsWhenReauthNeeded=true: still no slots")
	}
	if hc := h.health("t1", "anna", conn); hc.Slots != health.SlotsUnchecked {
		t.Fatalf("slotsWhenReauthNeeded=true: health.slots = %q", hc.Slots)
	}
	if resp, body := h.public("POST", h.Stack.Function("Book")+"/", bookBody("t1", "anna", start, 30)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("Book with slotsWhenReauthNeeded=true: %d %s", resp.StatusCode, body)
	}

	// Back to the default; reconnecting ends it.
	h.manage(http.MethodPatch, "/v1/tenants/t1/settings", map[string]any{"slotsWhenReauthNeeded": false})
	if got := h.slotStarts("t1", "anna", day); len(got) != 0 {
		t.Fatalf("setting off again: %d slots offered", len(got))
	}
	mustConnect(t, h, "t1", "anna", "anna@example.com")
	if got := h.slotStarts("t1", "anna", day); len(got) == 0 {
		t.Fatal("after reconnecting: no slots")
	}
	if hc := h.health("t1", "anna", conn); hc.Slots != health.SlotsOffered {
		t.Fatalf("after reconnecting: health.slots = %q", hc.Slots)
	}
}
