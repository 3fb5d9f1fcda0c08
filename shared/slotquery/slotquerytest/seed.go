// Package slotquerytest seeds Firestore with what a Slots request reads — a staff member
// with default availability, one active connection, four selected calendars and one not,
// and nEvents busy items spread evenly over 13 months of busy docs, as the syncer writes
// them — for slotquery's tests and the local stack's benchmarks. Test code only.
package slotquerytest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/store"
)

// SeedBusy writes tenant t1, staff s1, connection g1 with calendars c0–c4 (c0–c3
// selected) and nEvents busy items.
func SeedBusy(t testing.TB, st *store.Store, nEvents int) {
	t.Helper()
	ctx := context.Background()
	r := availability.Default()
	if _, err := st.Staff("t1", "s1").Set(ctx, map[string]any{"availability": r}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Connection("t1", "s1", "g1").Set(ctx, map[string]any{"status": "active"}); err != nil {
		t.Fatal(err)
	}
	for c := range 5 {
		if _, err := st.Calendar("t1", "s1", "g1", fmt.Sprintf("c%d", c)).Set(ctx, map[string]any{"selected": c < 4}); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	docs := map[string]map[string]store.BusyItem{}
	for i := range nEvents {
		cal := fmt.Sprintf("c%d", i%4)
		// Spread evenly over 13 months, so every month holds a share whatever n is.
		s := base.Add(time.Duration(i) * (13 * 30 * 24 * time.Hour / time.Duration(nEvents))).Truncate(time.Minute)
		id := store.BusyDocID("g1", cal, store.MonthKey(s))
		if docs[id] == nil {
			docs[id] = map[string]store.BusyItem{}
		}
		docs[id][fmt.Sprintf("e%d", i)] = store.BusyItem{Start: s, End: s.Add(30 * time.Minute)}
	}
	bw := st.BulkWriter(ctx)
	var jobs []*firestore.BulkWriterJob
	for id, items := range docs {
		j, err := bw.Set(st.Busy("t1", "s1").Doc(id), store.BusyMonth{Month: id[len(id)-7:], Items: items})
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	bw.End()
	for _, j := range jobs {
		if _, err := j.Results(); err != nil {
			t.Fatalf("seed busy doc: %v", err)
		}
	}
}
