package booking

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
)

// Cancel cancels a booking with the customer's cancel token. A wrong token is
// ErrNotFound (it does not reveal whether the booking exists). Cancelling twice is fine.
func (s *Service) Cancel(ctx context.Context, id, token string, now time.Time) error {
	tenant, staff, err := ParseCancelToken(token)
	if err != nil || !messages.ValidID(id) {
		return ErrNotFound
	}
	return s.cancel(ctx, tenant, staff, id, token, now)
}

// CancelByStaff cancels a booking from the management API.
func (s *Service) CancelByStaff(ctx context.Context, tenant, staff, id string, now time.Time) error {
	return s.cancel(ctx, tenant, staff, id, "", now)
}

func (s *Service) cancel(ctx context.Context, tenant, staff, id, token string, now time.Time) error {
	ref := s.Store.Bookings(tenant, staff).Doc(id)
	settings, err := s.Store.TenantSettings(ctx, tenant)
	if err != nil {
		return fmt.Errorf("cancel %s: %w", id, err)
	}
	err = s.Store.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		var b store.Booking
		if _, err := txGet(tx, ref, ErrNotFound, &b); err != nil {
			return err
		}
		if token != "" && subtle.ConstantTimeCompare([]byte(store.HashToken(token)), []byte(b.CancelTokenHash)) != 1 {
			return ErrNotFound
		}
		if b.Status == store.BookingCancelled {
			return nil
		}
		b.ID = id
		if err := s.index(tx, &b, firestore.Delete); err != nil {
			return err
		}
		ups := []firestore.Update{{Path: "status", Value: store.BookingCancelled}, {Path: "updatedAt", Value: now}}
		// A cancelled appointment needs the customer's data for less long.
		if b.ScrubbedAt.IsZero() {
			ups = append(ups, firestore.Update{Path: "scrubAt", Value: settings.Retention.CancelledScrubAt(b.End, now)})
		}
		return tx.Update(ref, ups)
	})
	if err != nil {
		return err
	}
	logging.Event(ctx, logging.FromContext(ctx), "booking.cancelled",
		slog.String("tenant", tenant), slog.String("staff", staff), slog.String("booking", id))
	s.publish(ctx, messages.Export{Tenant: tenant, Staff: staff, Booking: id, Op: "delete"})
	return nil
}
