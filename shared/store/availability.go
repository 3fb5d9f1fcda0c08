package store

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/availability"
)

// Availability reads a staff member's availability rules from the staff document;
// ErrNotFound when there is no staff document or it holds no rules.
func (s *Store) Availability(ctx context.Context, tenant, staff string) (availability.Rules, error) {
	snap, err := s.Staff(tenant, staff).Get(ctx)
	if NotFound(err) {
		return availability.Rules{}, ErrNotFound
	}
	if err != nil {
		return availability.Rules{}, fmt.Errorf("read staff %s: %w", staff, err)
	}
	var st Staff
	if err := snap.DataTo(&st); err != nil {
		return availability.Rules{}, fmt.Errorf("decode staff %s: %w", staff, err)
	}
	if st.Availability == nil {
		return availability.Rules{}, ErrNotFound
	}
	return *st.Availability, nil
}

// SetAvailability replaces a staff member's availability rules (already validated),
// creating the staff document if need be; the document's other fields are kept.
func (s *Store) SetAvailability(ctx context.Context, tenant, staff string, rules availability.Rules, now time.Time) error {
	_, err := s.Staff(tenant, staff).Set(ctx, map[string]any{"availability": rules, "updatedAt": now}, firestore.MergeAll)
	if err != nil {
		return fmt.Errorf("write availability of %s: %w", staff, err)
	}
	return nil
}
