package store

import (
	"context"

	"cloud.google.com/go/firestore"
)

// The helpers below are how code outside store composes several reads and writes: it
// builds the document references with Store's path methods and runs them here, so the
// Firestore client itself stays inside this package.

// RunTransaction runs f in a Firestore transaction.
func (s *Store) RunTransaction(ctx context.Context, f func(context.Context, *firestore.Transaction) error, opts ...firestore.TransactionOption) error {
	return s.FS.RunTransaction(ctx, f, opts...)
}

// GetAll reads several documents in one round trip, in the order of refs.
func (s *Store) GetAll(ctx context.Context, refs []*firestore.DocumentRef) ([]*firestore.DocumentSnapshot, error) {
	return s.FS.GetAll(ctx, refs)
}

// BulkWriter starts a bulk writer (callers End it).
func (s *Store) BulkWriter(ctx context.Context) *firestore.BulkWriter { return s.FS.BulkWriter(ctx) }

// Close closes the Firestore client.
func (s *Store) Close() error { return s.FS.Close() }

// AllCalendars is the collection group of every calendar document.
func (s *Store) AllCalendars() *firestore.CollectionGroupRef {
	return s.FS.CollectionGroup("calendars")
}

// AllConnections is the collection group of every connection document.
func (s *Store) AllConnections() *firestore.CollectionGroupRef {
	return s.FS.CollectionGroup("connections")
}

// AllBookings is the collection group of every booking document.
func (s *Store) AllBookings() *firestore.CollectionGroupRef { return s.FS.CollectionGroup("bookings") }
