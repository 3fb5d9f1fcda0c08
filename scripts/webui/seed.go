package webui

import (
	"context"
	"fmt"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/tenant"
)

// DemoTenant is the demo tenant of `make run` and the browser test.
const DemoTenant = "demo"

// DemoServices are the demo tenant's service catalogue: the widget offers these, and
// Slots and Book take duration and title from them.
var DemoServices = []tenant.Service{
	{ID: "consultation", Name: "Consultation", DurationMin: 30, Staff: []string{"anna", "ben"}},
	{ID: "treatment", Name: "Treatment", DurationMin: 60, BufferAfterMin: 10, Staff: []string{"anna", "ben"}},
	{ID: "quick-check", Name: "Quick check", DurationMin: 15, Staff: []string{"anna"}},
	{ID: "extended", Name: "Extended session", DurationMin: 90, Staff: []string{"ben"}},
}

// DemoStaff are the two staff members with working hours.
var DemoStaff = []string{"anna", "ben"}

// SeedDemo creates the demo Google account (fakegoogle.SeedDemo: three calendars with a
// recurring series and an all-day event) when fg is not nil, the service catalogue
// (DemoServices), and the staff members'
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
	for _, sv := range DemoServices {
		if err := sv.Validate(); err != nil {
			return fmt.Errorf("demo service %s: %w", sv.ID, err)
		}
		if _, err := p.Store.PutService(ctx, DemoTenant, sv, now); err != nil {
			return fmt.Errorf("seed service %s: %w", sv.ID, err)
		}
	}
	return nil
}
