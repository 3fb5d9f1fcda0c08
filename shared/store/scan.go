package store

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
)

// The scans of the renewal tick (shared/renewal): index-backed collection-group queries
// projected to the field they are ordered by, read in pages. Each calls fn once per
// document found.

// ConnKey identifies one connection.
type ConnKey struct{ Tenant, Staff, Connection string }

// Pager reads a scan in pages of Size documents, ordered by the scan's field and then
// the document id, each page starting after the last document of the one before. OnPage,
// when set, is called after every page with the number of documents it held.
type Pager struct {
	Size   int
	OnPage func(docs int)
}

// CalendarsDue scans the selected calendars whose field (a timestamp: channelExpiry,
// lastSyncAt, lastFullSyncAt) is before before, handing fn the connection of each (ok
// false for a calendars document outside a connection). Index: calendars (selected,
// field).
func (s *Store) CalendarsDue(ctx context.Context, p Pager, field string, before time.Time, fn func(k ConnKey, ok bool)) error {
	q := s.AllCalendars().Where("selected", "==", true).Where(field, "<", before).Select(field)
	return p.run(ctx, q, field, func(snap *firestore.DocumentSnapshot) { fn(connOfCalendar(snap.Ref)) })
}

// PollDue scans the selected calendars in polling mode whose last sync is before
// before, like CalendarsDue. Index: calendars (selected, syncMode, lastSyncAt).
func (s *Store) PollDue(ctx context.Context, p Pager, before time.Time, fn func(k ConnKey, ok bool)) error {
	q := s.AllCalendars().Where("selected", "==", true).Where("syncMode", "==", SyncModePoll).
		Where("lastSyncAt", "<", before).Select("lastSyncAt")
	return p.run(ctx, q, "lastSyncAt", func(snap *firestore.DocumentSnapshot) { fn(connOfCalendar(snap.Ref)) })
}

// ConnectionsListDue scans the active connections whose calendar list was last read
// before before. Index: connections (status, lastListSyncAt).
func (s *Store) ConnectionsListDue(ctx context.Context, p Pager, before time.Time, fn func(k ConnKey, ok bool)) error {
	q := s.AllConnections().Where("status", "==", StatusActive).Where("lastListSyncAt", "<", before).Select("lastListSyncAt")
	return p.run(ctx, q, "lastListSyncAt", func(snap *firestore.DocumentSnapshot) { fn(connOfConnection(snap.Ref)) })
}

// PendingExports scans the bookings (any tenant) still waiting for their export whose
// last update is before before; each key's tenant and staff are the booking's own fields
// (not validated here). Index: bookings (exportState, updatedAt).
func (s *Store) PendingExports(ctx context.Context, p Pager, before time.Time, fn func(BookingKey)) error {
	q := s.AllBookings().Where("exportState", "==", "pending").Where("updatedAt", "<", before).Select("updatedAt", "tenant", "staff")
	return p.run(ctx, q, "updatedAt", func(snap *firestore.DocumentSnapshot) {
		tenant, _ := snap.DataAt("tenant")
		staff, _ := snap.DataAt("staff")
		t, _ := tenant.(string)
		sf, _ := staff.(string)
		fn(BookingKey{Tenant: t, Staff: sf, ID: snap.Ref.ID})
	})
}

// ConnectionStatusesOf reads the connections of keys in one round trip (one read per
// key, whole documents) and returns the status of each, in the order of keys: "" for a
// connection that does not exist. The renewal tick checks the connections it found only
// through their calendars with it.
func (s *Store) ConnectionStatusesOf(ctx context.Context, keys []ConnKey) ([]string, error) {
	refs := make([]*firestore.DocumentRef, len(keys))
	for i, k := range keys {
		refs[i] = s.Connection(k.Tenant, k.Staff, k.Connection)
	}
	snaps, err := s.FS.GetAll(ctx, refs)
	if err != nil {
		return nil, fmt.Errorf("read connections: %w", err)
	}
	out := make([]string, len(snaps))
	for i, sn := range snaps {
		out[i] = stringAt(sn, "status") // "" for a missing document: DataAt fails
	}
	return out, nil
}

// run reads q ordered by field in pages (cursor = last document), calling fn per document.
func (p Pager) run(ctx context.Context, q firestore.Query, field string, fn func(*firestore.DocumentSnapshot)) error {
	q = q.OrderBy(field, firestore.Asc).OrderBy(firestore.DocumentID, firestore.Asc).Limit(p.Size)
	var last *firestore.DocumentSnapshot
	for {
		pq := q
		if last != nil {
			pq = q.StartAfter(last)
		}
		n := 0
		for snap, err := range Docs(ctx, pq) {
			if err != nil {
				return err
			}
			n++
			last = snap
			fn(snap)
		}
		if p.OnPage != nil {
			p.OnPage(n)
		}
		if n < p.Size {
			return nil
		}
	}
}

// connOfCalendar extracts the connection of a calendar document path
// tenants/{t}/staff/{s}/connections/{c}/calendars/{cal}.
func connOfCalendar(ref *firestore.DocumentRef) (ConnKey, bool) {
	c := ref.Parent.Parent
	if c == nil {
		return ConnKey{}, false
	}
	return connOfConnection(c)
}

// connOfConnection extracts the key of a connection document path
// tenants/{t}/staff/{s}/connections/{c}.
func connOfConnection(c *firestore.DocumentRef) (ConnKey, bool) {
	t, s, id, ok := StaffDocPath(c, "connections")
	return ConnKey{t, s, id}, ok
}
