package webui

import (
	"context"
	"fmt"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/store"
)

// DemoTenant is the demo tenant of `make run` and the browser test.
const DemoTenant = "demo"

// DemoStaff are the two staff members with working hours.
var DemoStaff = []string{"anna", "ben"}

// SeedDemo creates the demo Google account (fakegoogle.SeedDemo: three calendars with a
// recurring series and an all-day event) when fg is not nil, and the staff members'
// working hours in Firestore: anna Mon–Fri 09:00–17:00, ben Tue/Thu 10–13 and 14–19 and
// Sat 09–14 with a 10-minute buffer after each appointment (both Europe/Berlin).
func SeedDemo(ctx context.Context, p *platform.Platform, fg *fakegoogle.Server) error {
	if fg != nil {
		if err := fg.SeedDemo(); err != nil {
			return err
		}
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
	return nil
}
