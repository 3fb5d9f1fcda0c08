// Package retention removes what calsync no longer needs, on the tenant's schedule
// (tenant.Retention):
//
//   - a booking's customer name and e-mail (and the hashes that lead back to them)
//     CustomerDataDays after the appointment ends, CancelledCustomerDataDays after a
//     cancellation; the synced copy of its exported event loses title and details with
//     them. The booking keeps staff, start, end, service, status, source and export
//     bookkeeping — the business's record of the appointment;
//   - a reauth_required connection (e-mail, Google subject id, calendar list)
//     ReauthConnectionDays after it turned so, unless the staff member reconnected.
//
// Whole documents that expire on their own (OAuth states, booking lock days) are
// removed by Firestore TTL policies (terraform/firestore.tf); this package handles what
// needs a decision or a field, not a document, to go. Sweep runs on every RenewChannels
// tick (Cloud Scheduler, every 5 minutes); each step is idempotent, so an interrupted
// sweep is finished by the next one.
package retention

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/tenant"
)

// DefaultBatch bounds the bookings one sweep scrubs (the next tick continues).
const DefaultBatch = 500

// Sweeper runs the retention sweep.
type Sweeper struct {
	Store *store.Store
	// Delete removes a connection with everything it holds (connect.Service.Expire).
	Delete func(ctx context.Context, c *store.Connection) error
	Batch  int
}

// Stats is what one sweep did.
type Stats struct {
	BookingsScrubbed   int
	EventsScrubbed     int
	ConnectionsDeleted int
	ConnectionsWaiting int // reauth_required, not yet due
}

// Sweep scrubs the bookings whose time has come and deletes the reauth_required
// connections past their tenant's period.
func (w *Sweeper) Sweep(ctx context.Context, now time.Time) (Stats, error) {
	var st Stats
	batch := w.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	due, err := w.Store.BookingsDueScrub(ctx, now, batch)
	if err != nil {
		return st, fmt.Errorf("retention: %w", err)
	}
	for _, k := range due {
		n, err := w.Store.ScrubBookingEvents(ctx, k)
		st.EventsScrubbed += n
		if err != nil {
			return st, fmt.Errorf("retention: %w", err)
		}
		done, err := w.Store.ScrubBooking(ctx, k, now)
		if err != nil {
			return st, fmt.Errorf("retention: %w", err)
		}
		if done {
			st.BookingsScrubbed++
		}
	}
	conns, err := w.Store.ConnectionsWithStatus(ctx, store.StatusReauthRequired)
	if err != nil {
		return st, fmt.Errorf("retention: %w", err)
	}
	settings := map[string]tenant.Settings{}
	for _, c := range conns {
		s, ok := settings[c.Tenant]
		if !ok {
			if s, err = w.Store.TenantSettings(ctx, c.Tenant); err != nil {
				return st, fmt.Errorf("retention: %w", err)
			}
			settings[c.Tenant] = s
		}
		if now.Before(s.Retention.ReauthDeleteAt(c.StatusChangedAt)) {
			st.ConnectionsWaiting++
			continue
		}
		if err := w.Delete(ctx, c); err != nil {
			return st, fmt.Errorf("retention: delete connection %s: %w", c.ID, err)
		}
		st.ConnectionsDeleted++
	}
	if st.BookingsScrubbed+st.EventsScrubbed+st.ConnectionsDeleted > 0 {
		logging.Event(ctx, logging.FromContext(ctx), "retention.swept",
			slog.Int("bookingsScrubbed", st.BookingsScrubbed), slog.Int("eventsScrubbed", st.EventsScrubbed),
			slog.Int("connectionsDeleted", st.ConnectionsDeleted))
	}
	return st, nil
}
