package store

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
)

// Reader reads documents and runs the store's queries, either plainly or inside a
// transaction (then every document and query it reads joins the transaction's read set).
// It is how code outside store reads several documents at once without the Firestore
// client: shared/slotquery loads slots data through it, for Slots and inside Book.
type Reader struct {
	s  *Store
	tx *firestore.Transaction
}

// Reader reads outside any transaction.
func (s *Store) Reader() Reader { return Reader{s: s} }

// TxReader reads inside tx.
func (s *Store) TxReader(tx *firestore.Transaction) Reader { return Reader{s: s, tx: tx} }

// Concurrent reports whether the reader's reads may run at the same time (a transaction
// is not safe for concurrent use).
func (r Reader) Concurrent() bool { return r.tx == nil }

// Get reads one document.
func (r Reader) Get(ctx context.Context, ref *firestore.DocumentRef) (*firestore.DocumentSnapshot, error) {
	if r.tx != nil {
		return r.tx.Get(ref)
	}
	return ref.Get(ctx)
}

// GetAll reads several documents in one round trip, in the order of refs.
func (r Reader) GetAll(ctx context.Context, refs []*firestore.DocumentRef) ([]*firestore.DocumentSnapshot, error) {
	if r.tx != nil {
		return r.tx.GetAll(refs)
	}
	return r.s.FS.GetAll(ctx, refs)
}

func (r Reader) query(ctx context.Context, q firestore.Query) ([]*firestore.DocumentSnapshot, error) {
	if r.tx != nil {
		return r.tx.Documents(q).GetAll()
	}
	return q.Documents(ctx).GetAll()
}

// ConnectionStatus is a connection's id and status.
type ConnectionStatus struct{ ID, Status string }

// ConnectionStatuses lists a staff member's connections projected to their status (one
// read per connection; a query that finds none is billed one read).
func (r Reader) ConnectionStatuses(ctx context.Context, tenant, staff string) ([]ConnectionStatus, error) {
	snaps, err := r.query(ctx, r.s.Connections(tenant, staff).Select("status"))
	if err != nil {
		return nil, err
	}
	out := make([]ConnectionStatus, len(snaps))
	for i, sn := range snaps {
		out[i] = ConnectionStatus{ID: sn.Ref.ID, Status: stringAt(sn, "status")}
	}
	return out, nil
}

// SelectedCalendars lists the document ids of a connection's selected calendars
// (projected: nothing but the ids is read).
func (r Reader) SelectedCalendars(ctx context.Context, tenant, staff, conn string) ([]string, error) {
	return r.ids(ctx, r.s.Calendars(tenant, staff, conn).Where("selected", "==", true))
}

// CalendarIDs lists the document ids of all of a connection's calendars (projected:
// nothing but the ids is read); shared/connect reads them in the transaction that saves
// a connection's calendar list.
func (r Reader) CalendarIDs(ctx context.Context, tenant, staff, conn string) ([]string, error) {
	return r.ids(ctx, r.s.Calendars(tenant, staff, conn).Query)
}

// ids runs q projected to nothing and lists the document ids it found.
func (r Reader) ids(ctx context.Context, q firestore.Query) ([]string, error) {
	snaps, err := r.query(ctx, q.Select())
	if err != nil {
		return nil, err
	}
	out := make([]string, len(snaps))
	for i, sn := range snaps {
		out[i] = sn.Ref.ID
	}
	return out, nil
}

// BookingsStartingIn reads the staff member's bookings (any status) whose start lies in
// [from, to), in no particular order, each with its id.
func (r Reader) BookingsStartingIn(ctx context.Context, tenant, staff string, from, to time.Time) ([]*Booking, error) {
	snaps, err := r.query(ctx, r.s.bookingsStartingIn(tenant, staff, from, to))
	if err != nil {
		return nil, err
	}
	return decodeBookings(snaps)
}

// ListBookings reads up to limit of the staff member's bookings (any status) whose start
// lies in [from, to), by start.
func (s *Store) ListBookings(ctx context.Context, tenant, staff string, from, to time.Time, limit int) ([]*Booking, error) {
	snaps, err := s.bookingsStartingIn(tenant, staff, from, to).OrderBy("start", firestore.Asc).Limit(limit).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("list bookings of %s/%s: %w", tenant, staff, err)
	}
	return decodeBookings(snaps)
}

func (s *Store) bookingsStartingIn(tenant, staff string, from, to time.Time) firestore.Query {
	return s.Bookings(tenant, staff).Where("start", ">=", from).Where("start", "<", to)
}

// decodeBookings decodes booking documents, each with its id.
func decodeBookings(snaps []*firestore.DocumentSnapshot) ([]*Booking, error) {
	return decodeAll(snaps, "booking", func(b *Booking, id string) { b.ID = id })
}
