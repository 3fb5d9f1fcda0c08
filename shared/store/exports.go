package store

import (
	"context"
	"fmt"
	"time"
)

// ExportStatus is a booking's id and export state (Booking.ExportState).
type ExportStatus struct{ ID, State string }

// UpcomingExportStates lists the staff member's bookings (any status) that end after
// after, projected to their export state, in no particular order; shared/connect asks
// for those that could not reach Google again when a connection becomes active.
func (s *Store) UpcomingExportStates(ctx context.Context, tenant, staff string, after time.Time) ([]ExportStatus, error) {
	snaps, err := s.Bookings(tenant, staff).Where("end", ">", after).Select("exportState").Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("list upcoming bookings of %s/%s: %w", tenant, staff, err)
	}
	out := make([]ExportStatus, len(snaps))
	for i, sn := range snaps {
		out[i] = ExportStatus{ID: sn.Ref.ID, State: stringAt(sn, "exportState")}
	}
	return out, nil
}
