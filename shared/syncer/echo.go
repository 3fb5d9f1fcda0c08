package syncer

import (
	"context"

	"github.com/belbo/calsync/shared/booking"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/store"
)

// checkEchoes reports Google-side moves and deletions of the product's own events on
// their bookings (booking.CheckEcho flags, never changes, the booking). A failure is
// logged, not returned: the events are already stored and the next sync checks again.
func (r *run) checkEchoes(ctx context.Context, order []string, byID map[string]*change, gone map[string]bool) {
	for _, id := range order {
		c := byID[id]
		var ev store.Event
		switch {
		case gone[id]:
			ev = store.Event{ID: id, Status: "cancelled"}
		case !c.del && c.ev.BookingID != "":
			ev = c.ev
		default:
			continue
		}
		if err := booking.CheckEcho(ctx, r.s.Store, r.ref.Tenant, r.ref.Staff, ev); err != nil {
			logging.FromContext(ctx).WarnContext(ctx, "sync: booking echo check failed", "calendar", r.ref.String(), "event", id, "error", err.Error())
		}
	}
}
