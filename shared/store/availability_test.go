package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/testenv"
)

// TestAvailability runs against the Firestore emulator: no staff document and a staff
// document without rules are both ErrNotFound; rules written are read back.
func TestAvailability(t *testing.T) {
	t.Parallel()
	fs, _ := testenv.Firestore(t)
	s := New(fs)
	ctx := context.Background()
	if _, err := s.Availability(ctx, "t1", "anna"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no staff document: %v", err)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	if _, err := s.Staff("t1", "anna").Set(ctx, Staff{UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Availability(ctx, "t1", "anna"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no rules: %v", err)
	}
	want := availability.Default()
	if err := s.SetAvailability(ctx, "t1", "anna", want, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Availability(ctx, "t1", "anna")
	if err != nil || got.TimeZone != want.TimeZone || len(got.Weekly["mon"]) != 1 || got.StepMin != want.StepMin {
		t.Fatalf("read back %+v %v", got, err)
	}
}
