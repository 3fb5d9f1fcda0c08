package store

import (
	"context"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/tenant"
	"github.com/belbo/calsync/shared/testenv"
)

// TestTenantSettings runs against the Firestore emulator: a tenant without settings reads
// the defaults; a patch changes only what it names and persists; an invalid patch changes
// nothing; a stored document missing a field reads that field's default.
func TestTenantSettings(t *testing.T) {
	t.Parallel()
	fs, _ := testenv.Firestore(t)
	s := New(fs)
	ctx := context.Background()
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

	got, err := s.TenantSettings(ctx, "fresh")
	if err != nil || got != tenant.Defaults() {
		t.Fatalf("fresh tenant: %+v, %v; want the defaults", got, err)
	}
	if _, err := s.PatchTenantSettings(ctx, "t1", []byte(`{"freeFormBooking":true,"limits":{"perIp":{"hour":3}}}`), now); err != nil {
		t.Fatal(err)
	}
	got, err = s.TenantSettings(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	want := tenant.Defaults()
	want.FreeFormBooking, want.Limits.PerIP.Hour = true, 3
	if got != want {
		t.Fatalf("after patch: %+v\nwant %+v", got, want)
	}
	if _, err := s.PatchTenantSettings(ctx, "t1", []byte(`{"limits":{"perIp":{"hour":0}}}`), now); err == nil {
		t.Fatal("an invalid patch must be refused")
	}
	if again, _ := s.TenantSettings(ctx, "t1"); again != want {
		t.Fatalf("an invalid patch changed the settings: %+v", again)
	}
	// A document written before a field existed: the field reads its default.
	if _, err := s.Tenant("old").Set(ctx, map[string]any{"settings": map[string]any{"freeFormBooking": true}}); err != nil {
		t.Fatal(err)
	}
	old, err := s.TenantSettings(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	if !old.FreeFormBooking || old.Retention != tenant.Defaults().Retention || old.Limits != tenant.Defaults().Limits {
		t.Fatalf("missing fields must read their defaults: %+v", old)
	}
}
