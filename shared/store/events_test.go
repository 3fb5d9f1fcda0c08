package store

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/testenv"
)

// TestSweepReads runs against the Firestore emulator: EventMonths returns every event of
// one calendar with its months and nothing else of it; CalendarBusyMonths returns the busy
// months of that calendar only — not of another calendar of the same staff member (whose
// doc ids share a prefix), nor the booking index.
func TestSweepReads(t *testing.T) {
	t.Parallel()
	fs, _ := testenv.Firestore(t)
	s := New(fs)
	ctx := context.Background()
	c := CalRef{Tenant: "t1", Staff: "anna", Connection: "g1", Calendar: "c1"}
	other := CalRef{Tenant: "t1", Staff: "anna", Connection: "g1", Calendar: "c10"}
	for id, months := range map[string][]string{"e1": {"2026-03"}, "e2": {"2026-03", "2026-04"}} {
		if _, err := s.Events(c).Doc(id).Set(ctx, map[string]any{"months": months, "summary": "kept out of the projection"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Events(other).Doc("x").Set(ctx, map[string]any{"months": []string{"2026-03"}}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, w := range []struct {
		id, month string
	}{{BusyDocID("g1", "c1", "2026-03"), "2026-03"}, {BusyDocID("g1", "c1", "2026-04"), "2026-04"}, {BusyDocID("g1", "c10", "2026-03"), "2026-03"}, {BookingIndexDocID("2026-03"), "2026-03"}} {
		if _, err := s.Busy("t1", "anna").Doc(w.id).Set(ctx, BusyMonth{Month: w.month, Items: map[string]BusyItem{w.id: {Start: at, End: at.Add(time.Hour)}}}); err != nil {
			t.Fatal(err)
		}
	}
	snaps, err := s.EventMonths(ctx, c)
	if err != nil || len(snaps) != 2 {
		t.Fatalf("EventMonths: %d docs, %v", len(snaps), err)
	}
	for _, snap := range snaps {
		if _, err := snap.DataAt("summary"); err == nil {
			t.Errorf("%s: the projection read more than the months", snap.Ref.ID)
		}
		if m, err := snap.DataAt("months"); err != nil || m == nil {
			t.Errorf("%s: no months (%v)", snap.Ref.ID, err)
		}
	}
	months, err := s.CalendarBusyMonths(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, bm := range months {
		for id := range bm.Items {
			got = append(got, id)
		}
	}
	sort.Strings(got)
	if len(got) != 2 || got[0] != BusyDocID("g1", "c1", "2026-03") || got[1] != BusyDocID("g1", "c1", "2026-04") {
		t.Fatalf("CalendarBusyMonths: %v", got)
	}
}
