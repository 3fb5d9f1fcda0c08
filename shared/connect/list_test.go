package connect

import (
	"context"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/health"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/testenv"
)

// TestList runs against the Firestore emulator with connections that need no Google call
// (not active: no picture is fetched): each comes with its health, the tenant's slots
// policy applied, and the date it is deleted unless reconnected.
func TestList(t *testing.T) {
	t.Parallel()
	fs, _ := testenv.Firestore(t)
	st := store.New(fs)
	ctx := context.Background()
	changed := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for id, status := range map[string]string{"g1": store.StatusReauthRequired, "g2": store.StatusRevoked} {
		c := store.Connection{Tenant: "t1", Staff: "anna", Email: id + "@x", Status: status, StatusChangedAt: changed}
		if _, err := st.Connection("t1", "anna", id).Set(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Calendar("t1", "anna", "g1", "c1").Set(ctx, store.Calendar{GoogleID: "a@x", Selected: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PatchTenantSettings(ctx, "t1", []byte(`{"slotsWhenReauthNeeded":true}`), changed); err != nil {
		t.Fatal(err)
	}
	list, err := (&Service{Store: st}).List(ctx, "t1", "anna", changed.Add(time.Hour))
	if err != nil || len(list) != 2 {
		t.Fatalf("%d listed, %v", len(list), err)
	}
	for _, l := range list {
		if l.Picture != "" || l.Health == nil || l.Health.State != health.PausedReauth || l.Health.Slots != health.SlotsUnchecked {
			t.Errorf("%s: picture %q, health %+v", l.ID, l.Picture, l.Health)
		}
		switch {
		case l.ID == "g1" && (l.DeleteAfter == nil || !l.DeleteAfter.Equal(changed.AddDate(0, 0, 30))):
			t.Errorf("g1 (reauth_required) deleted after %v", l.DeleteAfter)
		case l.ID == "g2" && l.DeleteAfter != nil:
			t.Errorf("g2 (revoked) deleted after %v", l.DeleteAfter)
		}
	}
	if len(list[0].Health.Calendars)+len(list[1].Health.Calendars) != 1 {
		t.Errorf("calendars in health: %+v / %+v", list[0].Health.Calendars, list[1].Health.Calendars)
	}
}
