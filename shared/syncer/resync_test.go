package syncer

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/testenv"
	"github.com/belbo/calsync/shared/topology"
)

// TestResync runs against the Firestore emulator: one message per selected calendar (or
// the one named), the reason, and the refusals for inactive connections and unknown or
// unselected calendars.
func TestResync(t *testing.T) {
	t.Parallel()
	fs, _ := testenv.Firestore(t)
	st := store.New(fs)
	ctx := context.Background()
	conn := &store.Connection{ID: "g1", Tenant: "t1", Staff: "anna", Status: store.StatusActive}
	for _, c := range []store.Calendar{{GoogleID: "a@x", Selected: true}, {GoogleID: "b@x", Selected: true}, {GoogleID: "off@x"}} {
		ref := store.CalRef{Tenant: "t1", Staff: "anna", Connection: "g1", Calendar: store.CalendarDocID(c.GoogleID)}
		if _, err := st.Doc(ref).Set(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	var sent []messages.Sync
	publish := func(_ context.Context, topic string, v any) error {
		if topic != topology.CalendarSync {
			t.Errorf("published to %s", topic)
		}
		sent = append(sent, v.(messages.Sync))
		return nil
	}
	for _, c := range []struct {
		name       string
		status     string
		calendar   string
		full       bool
		wantN      int
		wantReason string
		wantErr    error
	}{
		{"all selected", store.StatusActive, "", false, 2, "safety", nil},
		{"one, full", store.StatusActive, "b@x", true, 1, "full", nil},
		{"unknown calendar", store.StatusActive, "nope@x", false, 0, "", ErrNoCalendar},
		{"unselected calendar", store.StatusActive, "off@x", false, 0, "", ErrNotSelected},
		{"reauth required", store.StatusReauthRequired, "", false, 0, "", ErrConnectionInactive},
	} {
		sent = nil
		c2 := *conn
		c2.Status = c.status
		n, reason, err := Resync(ctx, st, publish, &c2, c.calendar, c.full)
		if n != c.wantN || reason != c.wantReason || !errors.Is(err, c.wantErr) || len(sent) != c.wantN {
			t.Errorf("%s: %d %q %v (sent %d), want %d %q %v", c.name, n, reason, err, len(sent), c.wantN, c.wantReason, c.wantErr)
		}
		if c.calendar == "b@x" && len(sent) == 1 && fmt.Sprint(sent[0]) != fmt.Sprint(messages.Sync{Tenant: "t1", Staff: "anna", Connection: "g1", Calendar: store.CalendarDocID("b@x"), Reason: "full"}) {
			t.Errorf("sent %+v", sent[0])
		}
	}
	failing := func(context.Context, string, any) error { return errors.New("pubsub down") }
	if _, _, err := Resync(ctx, st, failing, conn, "", false); err == nil {
		t.Error("a failed publish is not reported")
	}
}
