package renewal

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/testenv"
	"github.com/belbo/calsync/shared/topology"
)

// TestTickRequeuesStalledExports: a booking whose export message was lost (still pending
// after ExportStall) is enqueued again by the tick; fresh and finished ones are not.
func TestTickRequeuesStalledExports(t *testing.T) {
	t.Parallel()
	fs, _ := testenv.Firestore(t)
	st := store.New(fs)
	ctx := context.Background()
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	for id, b := range map[string]store.Booking{
		"lost":     {Tenant: "t1", Staff: "anna", ExportState: "pending", UpdatedAt: now.Add(-10 * time.Minute)},
		"fresh":    {Tenant: "t1", Staff: "anna", ExportState: "pending", UpdatedAt: now.Add(-time.Minute)},
		"exported": {Tenant: "t1", Staff: "anna", ExportState: "exported", UpdatedAt: now.Add(-time.Hour)},
		"other":    {Tenant: "t2", Staff: "ben", ExportState: "pending", UpdatedAt: now.Add(-time.Hour)},
	} {
		if _, err := st.Bookings(b.Tenant, b.Staff).Doc(id).Set(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var got []messages.Export
	r := &Renewer{Store: st, Publish: func(_ context.Context, topic string, v any) error {
		if m, ok := v.(messages.Export); ok && topic == topology.CalendarExport {
			mu.Lock()
			got = append(got, m)
			mu.Unlock()
		}
		return nil
	}}
	stats, err := r.Scan(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]messages.Export{
		"lost":  {Tenant: "t1", Staff: "anna", Booking: "lost", Op: "upsert"},
		"other": {Tenant: "t2", Staff: "ben", Booking: "other", Op: "upsert"},
	}
	if len(got) != len(want) || stats.Exports != len(want) {
		t.Fatalf("requeued %v (stats %d), want %v", got, stats.Exports, want)
	}
	for _, m := range got {
		if want[m.Booking] != m {
			t.Errorf("unexpected export message %+v", m)
		}
	}
}
