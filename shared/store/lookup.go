package store

import (
	"context"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// LookupChannel reads channels/{id}: one document read. An unknown channel, and a lookup
// that does not decode, are (nil, nil): no channel of ours.
func (s *Store) LookupChannel(ctx context.Context, id string) (*ChannelLookup, error) {
	snap, err := s.Channel(id).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var l ChannelLookup
	if err := snap.DataTo(&l); err != nil {
		return nil, nil
	}
	return &l, nil
}

// StaffMembers is tenants/{t}/staff.
func (s *Store) StaffMembers(tenant string) *firestore.CollectionRef {
	return s.FS.Collection("tenants").Doc(tenant).Collection("staff")
}

// FirstStaff reads up to limit staff documents of a tenant, whole, in id order.
func (s *Store) FirstStaff(ctx context.Context, tenant string, limit int) ([]*firestore.DocumentSnapshot, error) {
	return s.StaffMembers(tenant).OrderBy(firestore.DocumentID, firestore.Asc).Limit(limit).Documents(ctx).GetAll()
}

// BookingLock is tenants/{t}/staff/{s}/bookingLocks/{yyyy-mm-dd}: the lock document of one
// UTC day that booking transactions read and write to serialise (see booking).
func (s *Store) BookingLock(tenant, staff string, day time.Time) *firestore.DocumentRef {
	return s.Staff(tenant, staff).Collection("bookingLocks").Doc(day.UTC().Format("2006-01-02"))
}
