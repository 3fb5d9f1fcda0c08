package slotquery

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/testenv"
)

// TestIndexRemembersTenantAndAnyStaff: within the TTL the tenant's settings and the
// staff=any roster cost no reads and give the same answer; past the TTL a change made in
// the meantime (a setting, a new staff member) is seen.
func TestIndexRemembersTenantAndAnyStaff(t *testing.T) {
	fs, _ := testenv.Firestore(t)
	st := store.New(fs)
	ctx := context.Background()
	for i := range 3 {
		if _, err := st.Staff("t1", fmt.Sprintf("s%d", i)).Set(ctx, map[string]any{"availability": availability.Default()}); err != nil {
			t.Fatal(err)
		}
	}
	clock := time.Now()
	idx := &CalendarIndex{TTL: time.Minute, Now: func() time.Time { return clock }}

	cfg, reads, err := idx.TenantConfig(ctx, st, "t1")
	if err != nil || reads != 1 || cfg.Settings.FreeFormBooking {
		t.Fatalf("first read: %+v reads %d err %v", cfg.Settings, reads, err)
	}
	if _, err := st.PatchTenantSettings(ctx, "t1", []byte(`{"freeFormBooking":true}`), clock); err != nil {
		t.Fatal(err)
	}
	if cfg, reads, _ = idx.TenantConfig(ctx, st, "t1"); reads != 0 || cfg.Settings.FreeFormBooking {
		t.Fatalf("within the TTL: reads %d, freeForm %v (want the remembered config, no read)", reads, cfg.Settings.FreeFormBooking)
	}

	from := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	q := Query{Tenant: "t1", Any: true, Duration: 30 * time.Minute, From: from, To: from.Add(7 * 24 * time.Hour)}
	first, err := SlotsWithIndex(ctx, st, idx, q, from)
	if err != nil {
		t.Fatal(err)
	}
	warm, err := SlotsWithIndex(ctx, st, idx, q, from)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Slots) == 0 || len(warm.Slots) != len(first.Slots) {
		t.Fatalf("warm staff=any answer differs: %d slots, first %d", len(warm.Slots), len(first.Slots))
	}
	if warm.Reads > first.Reads {
		t.Fatalf("warm staff=any read %d documents, first %d", warm.Reads, first.Reads)
	}
	if _, err := st.Staff("t1", "s3").Set(ctx, map[string]any{"availability": availability.Default()}); err != nil {
		t.Fatal(err)
	}
	staffOf := func(r Result) map[string]bool {
		m := map[string]bool{}
		for _, s := range r.Slots {
			m[s.Staff] = true
		}
		return m
	}
	if r, _ := SlotsWithIndex(ctx, st, idx, q, from); staffOf(r)["s3"] {
		t.Fatal("a staff member added within the TTL was seen: the roster was re-read")
	}
	clock = clock.Add(2 * time.Minute)
	if cfg, reads, _ = idx.TenantConfig(ctx, st, "t1"); reads != 1 || !cfg.Settings.FreeFormBooking {
		t.Fatalf("past the TTL: reads %d, freeForm %v (want a fresh read)", reads, cfg.Settings.FreeFormBooking)
	}
	if r, _ := SlotsWithIndex(ctx, st, idx, q, from); !staffOf(r)["s3"] || len(staffOf(r)) != 4 {
		t.Fatalf("past the TTL the new staff member is missing: %v", staffOf(r))
	}
}
