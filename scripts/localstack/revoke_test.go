package localstack

import (
	"net/http"
	"testing"

	"github.com/belbo/calsync/shared/fakegoogle"
)

func revokedFor(h *harness, email string) int {
	n := 0
	for _, g := range h.FG.RevokedGrants() {
		if g.Email == email {
			n++
		}
	}
	return n
}

// TestRevokeOnlyWhatNoLiveConnectionUses: revoking any token ends the account's whole
// grant to our client (Google's semantics, modelled by the fake), so
//   - a callback that fails after the code exchange revokes its fresh grant when the
//     account has no live connection;
//   - the same failure while the account is connected in another tenant revokes nothing,
//     and that connection keeps working;
//   - disconnecting one of two live connections of an account revokes nothing; the other
//     keeps working; disconnecting the last one revokes.
func TestRevokeOnlyWhatNoLiveConnectionUses(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	const email = "rita.revoke@example.com"
	h.addAccount(email)
	untick := fakegoogle.ConsentOptions{Untick: []string{"https://www.googleapis.com/auth/calendar.events"}}

	// 1. No live connection anywhere: the failed callback's grant is revoked.
	if _, loc := h.connect("t1", "rita", email, untick); loc.Query().Get("reason") != "missing_scopes" {
		t.Fatalf("unticked scope → %v", loc)
	}
	if got := revokedFor(h, email); got == 0 {
		t.Fatal("the grant of a failed callback was not revoked")
	}
	mustFault(h, fakegoogle.Fault{NoRefreshToken: true})
	before := revokedFor(h, email)
	if _, loc := h.connect("t1", "rita", email, fakegoogle.ConsentOptions{}); loc.Query().Get("reason") != "no_refresh_token" {
		t.Fatalf("no refresh token → %v", loc)
	}
	if revokedFor(h, email) == before {
		t.Fatal("the grant of a callback without refresh token was not revoked")
	}

	// 2. Live in tenant t2: a failed callback in t1 revokes nothing.
	live := mustConnect(t, h, "t2", "rita", email)
	before = revokedFor(h, email)
	// (An unticked scope would not fail here: include_granted_scopes adds the scopes the
	// account already granted. Google omitting the refresh token is the realistic case.)
	mustFault(h, fakegoogle.Fault{NoRefreshToken: true})
	if _, loc := h.connect("t1", "rita", email, fakegoogle.ConsentOptions{}); loc.Query().Get("reason") != "no_refresh_token" {
		t.Fatalf("no refresh token → %v", loc)
	}
	if revokedFor(h, email) != before {
		t.Fatal("a failed callback revoked the grant a live connection in another tenant uses")
	}
	if !h.calendarsFresh("t2", "rita", live) {
		t.Fatal("the live connection stopped working")
	}

	// 3. Two live connections; disconnecting one revokes nothing, the last one revokes.
	other := mustConnect(t, h, "t1", "rita", email)
	if code, body := h.manage("DELETE", staffPath("t1", "rita")+"/connections/"+other, nil); code != http.StatusNoContent {
		t.Fatalf("disconnect: %d %s", code, body)
	}
	if revokedFor(h, email) != before {
		t.Fatal("disconnecting one connection revoked the grant the other tenant's connection uses")
	}
	if !h.calendarsFresh("t2", "rita", live) {
		t.Fatal("the other tenant's connection stopped working after a disconnect")
	}
	if code, body := h.manage("DELETE", staffPath("t2", "rita")+"/connections/"+live, nil); code != http.StatusNoContent {
		t.Fatalf("disconnect: %d %s", code, body)
	}
	if revokedFor(h, email) == before {
		t.Fatal("disconnecting the last connection did not revoke the grant")
	}
}
