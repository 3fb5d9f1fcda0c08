package booking

// Reading bookings: List, Get, and the staff check before a booking.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/belbo/calsync/shared/store"
)

// MaxList bounds GET /bookings.
const MaxList = 1000

// MaxListSpan bounds the range GET /bookings may ask for.
const MaxListSpan = 366 * 24 * time.Hour

// ErrInvalidRange: the range to list is empty, reversed or longer than MaxListSpan.
var ErrInvalidRange = errors.New("from must be before to, at most 366 days apart")

// List returns the bookings (any status) whose start lies in [from, to), by start, at
// most MaxList of them.
func (s *Service) List(ctx context.Context, tenant, staff string, from, to time.Time) ([]*store.Booking, error) {
	if !to.After(from) || to.Sub(from) > MaxListSpan {
		return nil, ErrInvalidRange
	}
	return s.Store.ListBookings(ctx, tenant, staff, from, to, MaxList)
}

// Get reads one booking.
func Get(ctx context.Context, st *store.Store, tenant, staff, id string) (*store.Booking, error) {
	snap, err := st.Bookings(tenant, staff).Doc(id).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get booking %s: %w", id, err)
	}
	var b store.Booking
	if err := snap.DataTo(&b); err != nil {
		return nil, fmt.Errorf("decode booking %s: %w", id, err)
	}
	b.ID = id
	return &b, nil
}

// txGet reads ref inside tx into v; a missing document is notFound.
func txGet(tx *firestore.Transaction, ref *firestore.DocumentRef, notFound error, v any) (*firestore.DocumentSnapshot, error) {
	snap, err := tx.Get(ref)
	if status.Code(err) == codes.NotFound {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if err := snap.DataTo(v); err != nil {
		return nil, err
	}
	return snap, nil
}

// checkStaff reads the staff document outside any transaction: ErrNotBookable when it
// does not exist or has no availability rules.
func (s *Service) checkStaff(ctx context.Context, tenant, staff string) error {
	snap, err := s.Store.Staff(tenant, staff).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return ErrNotBookable
	}
	if err != nil {
		return fmt.Errorf("read staff %s: %w", staff, err)
	}
	if av, err := snap.DataAt("availability"); err != nil || av == nil {
		return ErrNotBookable
	}
	return nil
}
