package booking

import (
	"context"
	"errors"
	"log/slog"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/store"
)

// CheckEcho is called by the inbound sync for every event it stores or deletes that is
// (or may be) the product's own: ev.BookingID set (from the private property), or an id
// produced by EventID (a deleted item carries only its id; pass store.Event{ID: id,
// Status: "cancelled"}). It never changes the booking itself; it only sets
// booking.conflict:
//
//   - the event is cancelled/deleted while the booking is confirmed → "deleted_in_google"
//   - the event's start or end differs from the booking's → "moved_in_google"
//   - the event matches the booking again → the flag is cleared
//
// Events that are not the product's, and bookings that are cancelled (our own delete
// echoing back), are ignored. It is cheap: one document read, a write only on change.
func CheckEcho(ctx context.Context, st *store.Store, tenant, staff string, ev store.Event) error {
	id := ev.BookingID
	if id == "" {
		var ok bool
		if id, ok = BookingIDFromEventID(ev.ID); !ok {
			return nil
		}
	}
	b, err := Get(ctx, st, tenant, staff, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if b.Status != store.BookingConfirmed {
		return nil
	}
	want := ""
	switch {
	case ev.Status == "cancelled":
		want = ConflictDeleted
	case !ev.Start.Equal(b.Start) || !ev.End.Equal(b.End):
		want = ConflictMoved
	}
	if want == b.Conflict {
		return nil
	}
	if _, err := st.Bookings(tenant, staff).Doc(id).Update(ctx, []firestore.Update{{Path: "conflict", Value: want}}); err != nil {
		return err
	}
	if want != "" {
		logging.Event(ctx, logging.FromContext(ctx), "booking.conflict",
			slog.String("tenant", tenant), slog.String("staff", staff), slog.String("booking", id), slog.String("conflict", want))
	}
	return nil
}
