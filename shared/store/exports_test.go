package store

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/testenv"
)

// TestExports runs against the Firestore emulator: UpcomingExportStates lists the bookings
// that end after the instant with their export state, and ClearExportsOf forgets the
// export of exactly the bookings exported through one connection.
func TestExports(t *testing.T) {
	t.Parallel()
	fs, _ := testenv.Firestore(t)
	s := New(fs)
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for id, b := range map[string]Booking{
		"past":    {End: now.Add(-time.Hour), ExportState: "error", ExportConn: "g1", ExportCalendar: "a@example.com"},
		"ending":  {End: now, ExportState: "error"},
		"waiting": {End: now.Add(time.Hour), ExportState: "skipped_no_connection"},
		"done":    {End: now.Add(2 * time.Hour), ExportState: "exported", ExportConn: "g1", ExportCalendar: "a@example.com"},
		"other":   {End: now.Add(3 * time.Hour), ExportState: "exported", ExportConn: "g2", ExportCalendar: "b@example.com"},
	} {
		if _, err := s.Bookings("t1", "anna").Doc(id).Set(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Bookings("t1", "bo").Doc("elsewhere").Set(ctx, Booking{End: now.Add(time.Hour), ExportConn: "g1"}); err != nil {
		t.Fatal(err)
	}
	states, err := s.UpcomingExportStates(ctx, "t1", "anna", now)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(states, func(i, j int) bool { return states[i].ID < states[j].ID })
	if got, want := fmt.Sprint(states), "[{done exported} {other exported} {waiting skipped_no_connection}]"; got != want {
		t.Errorf("UpcomingExportStates: %s, want %s", got, want)
	}
	n, err := s.ClearExportsOf(ctx, "t1", "anna", "g1")
	if err != nil || n != 2 {
		t.Fatalf("ClearExportsOf = %d %v, want 2", n, err)
	}
	exports := map[string]string{}
	for _, k := range []BookingKey{{"t1", "anna", "past"}, {"t1", "anna", "done"}, {"t1", "anna", "other"}, {"t1", "bo", "elsewhere"}} {
		snap, err := s.Bookings(k.Tenant, k.Staff).Doc(k.ID).Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var b Booking
		if err := snap.DataTo(&b); err != nil {
			t.Fatal(err)
		}
		exports[k.String()] = b.ExportConn + "|" + b.ExportCalendar + "|" + b.ExportState
	}
	want := "map[t1/anna/done:||exported t1/anna/other:g2|b@example.com|exported t1/anna/past:||error t1/bo/elsewhere:g1||]"
	if got := fmt.Sprint(exports); got != want {
		t.Errorf("after ClearExportsOf: %s, want %s", got, want)
	}
}
