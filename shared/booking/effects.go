package booking

// What a booking change does besides writing the booking: the month index documents
// and the export message.

import (
	"context"
	"fmt"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/topology"
)

// index sets (item) or removes (firestore.Delete) a booking in the booking index
// documents of the UTC months it spans (see store.BookingIndexDocID).
func (s *Service) index(tx *firestore.Transaction, b *store.Booking, item any) error {
	for _, m := range store.MonthsSpanned(b.Start, b.End) {
		ref := s.Store.Busy(b.Tenant, b.Staff).Doc(store.BookingIndexDocID(m))
		if err := tx.Set(ref, map[string]any{"month": m, "items": map[string]any{b.ID: item}}, firestore.MergeAll); err != nil {
			return fmt.Errorf("index booking %s: %w", b.ID, err)
		}
	}
	return nil
}

func (s *Service) publish(ctx context.Context, m messages.Export) {
	if s.Publish == nil {
		return
	}
	// The booking stands even if the message is lost: exportState stays pending and is
	// visible through the management API.
	if err := s.Publish(context.WithoutCancel(ctx), topology.CalendarExport, m); err != nil {
		logging.FromContext(ctx).ErrorContext(ctx, "booking: publish export failed", "tenant", m.Tenant, "staff", m.Staff, "booking", m.Booking, "op", m.Op, "error", err.Error())
	}
}
