package main

import (
	"context"
	"fmt"
	"time"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/store"
)

// Demo tenant and staff of `make run`.
const (
	DemoTenant = "demo"
)

// DemoStaff are the two staff members with working hours.
var DemoStaff = []string{"anna", "ben"}

// seedDemo creates the demo Google account (calendars with a recurring series and an
// all-day event) in the fake Google and the staff members' availability in Firestore.
func seedDemo(ctx context.Context, p *platform.Platform, fg *fakegoogle.Server) error {
	if err := fg.SeedDemo(); err != nil {
		return err
	}
	now, err := p.Now(ctx)
	if err != nil {
		return err
	}
	for i, s := range DemoStaff {
		r := availability.Default()
		if i == 1 {
			r.Weekly = map[string][]availability.Range{
				"tue": {{Start: "10:00", End: "13:00"}, {Start: "14:00", End: "19:00"}},
				"thu": {{Start: "10:00", End: "13:00"}, {Start: "14:00", End: "19:00"}},
				"sat": {{Start: "09:00", End: "14:00"}},
			}
			r.BufferAfterMin = 10
		}
		if err := r.Validate(); err != nil {
			return fmt.Errorf("demo rules: %w", err)
		}
		if _, err := p.Store.Staff(DemoTenant, s).Set(ctx, store.Staff{Availability: &r, UpdatedAt: now}); err != nil {
			return fmt.Errorf("seed staff %s: %w", s, err)
		}
	}
	_ = time.Now
	return nil
}
