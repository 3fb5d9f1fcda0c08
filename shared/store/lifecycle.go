package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Data lifecycle: what shared/retention and shared/erasure read and delete. Every
// operation here is idempotent: running it again after a crash finishes the job.

// BookingKey identifies one booking.
type BookingKey struct{ Tenant, Staff, ID string }

func (k BookingKey) String() string { return k.Tenant + "/" + k.Staff + "/" + k.ID }

// bookingKeyOf extracts the key of tenants/{t}/staff/{s}/bookings/{b}.
func bookingKeyOf(ref *firestore.DocumentRef) (BookingKey, bool) {
	t, s, id, ok := StaffDocPath(ref, "bookings")
	return BookingKey{t, s, id}, ok
}

// BookingsDueScrub returns up to limit bookings (any tenant) whose scrubAt has come.
func (s *Store) BookingsDueScrub(ctx context.Context, now time.Time, limit int) ([]BookingKey, error) {
	snaps, err := s.FS.CollectionGroup("bookings").Where("scrubAt", "<=", now).
		OrderBy("scrubAt", firestore.Asc).Limit(limit).Select().Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("query bookings due a scrub: %w", err)
	}
	var out []BookingKey
	for _, sn := range snaps {
		if k, ok := bookingKeyOf(sn.Ref); ok {
			out = append(out, k)
		}
	}
	return out, nil
}

// BookingsByEmailHash returns the tenant's bookings (every staff member) whose
// customerEmailHash is hash.
func (s *Store) BookingsByEmailHash(ctx context.Context, tenant, hash string) ([]*Booking, error) {
	if hash == "" {
		return nil, nil
	}
	snaps, err := s.FS.CollectionGroup("bookings").Where("customerEmailHash", "==", hash).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("query bookings by customer: %w", err)
	}
	var out []*Booking
	for _, sn := range snaps {
		k, ok := bookingKeyOf(sn.Ref)
		if !ok || k.Tenant != tenant {
			continue // the hash includes the tenant; this is belt and braces
		}
		var b Booking
		if err := sn.DataTo(&b); err != nil {
			return nil, fmt.Errorf("decode booking %s: %w", k, err)
		}
		b.ID, b.Tenant, b.Staff = k.ID, k.Tenant, k.Staff
		out = append(out, &b)
	}
	return out, nil
}

// ScrubBooking removes the customer's name, e-mail, e-mail hash and the cancel-token hash
// from a booking and records when. What the business keeps: staff, start, end, service,
// status, source, export bookkeeping, created/updated. It reports whether anything was
// left to remove (false for a booking already scrubbed or gone).
func (s *Store) ScrubBooking(ctx context.Context, k BookingKey, now time.Time) (bool, error) {
	ref := s.Bookings(k.Tenant, k.Staff).Doc(k.ID)
	scrubbed := false
	err := s.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		scrubbed = false
		snap, err := tx.Get(ref)
		if status.Code(err) == codes.NotFound {
			return nil
		}
		if err != nil {
			return err
		}
		var b Booking
		if err := snap.DataTo(&b); err != nil {
			return err
		}
		_, hasScrubAt := snap.Data()["scrubAt"]
		if b.CustomerName == "" && b.CustomerEmail == "" && b.CustomerEmailHash == "" && b.CancelTokenHash == "" && !hasScrubAt {
			return nil
		}
		scrubbed = true
		return tx.Update(ref, []firestore.Update{
			{Path: "customerName", Value: ""}, {Path: "customerEmail", Value: ""},
			{Path: "customerEmailHash", Value: ""}, {Path: "cancelTokenHash", Value: ""},
			{Path: "scrubAt", Value: firestore.Delete}, {Path: "scrubbedAt", Value: now},
		})
	})
	if err != nil {
		return false, fmt.Errorf("scrub booking %s: %w", k, err)
	}
	return scrubbed, nil
}

// ScrubBookingEvents blanks title and details of the synced copies (events with this
// bookingId) of a booking's exported Google event, in every calendar of the staff
// member. It returns how many it changed.
func (s *Store) ScrubBookingEvents(ctx context.Context, k BookingKey) (int, error) {
	conns, err := s.Connections(k.Tenant, k.Staff).DocumentRefs(ctx).GetAll()
	if err != nil {
		return 0, fmt.Errorf("list connections of %s/%s: %w", k.Tenant, k.Staff, err)
	}
	n := 0
	for _, c := range conns {
		cals, err := c.Collection("calendars").DocumentRefs(ctx).GetAll()
		if err != nil {
			return n, fmt.Errorf("list calendars of %s: %w", c.ID, err)
		}
		for _, cal := range cals {
			snaps, err := cal.Collection("events").Where("bookingId", "==", k.ID).Documents(ctx).GetAll()
			if err != nil {
				return n, fmt.Errorf("find events of booking %s: %w", k, err)
			}
			for _, sn := range snaps {
				t, _ := sn.DataAt("title")
				d, _ := sn.DataAt("details")
				if t == "" && d == "" {
					continue
				}
				if _, err := sn.Ref.Update(ctx, []firestore.Update{{Path: "title", Value: ""}, {Path: "details", Value: ""}}); err != nil && !NotFound(err) {
					return n, fmt.Errorf("scrub event of booking %s: %w", k, err)
				}
				n++
			}
		}
	}
	return n, nil
}

// ConnectionsWithStatus returns every connection (any tenant) with that status.
func (s *Store) ConnectionsWithStatus(ctx context.Context, st string) ([]*Connection, error) {
	snaps, err := s.FS.CollectionGroup("connections").Where("status", "==", st).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("query connections by status: %w", err)
	}
	return decodeConnections(snaps)
}

// LiveConnectionsOfSubject counts the connections (any tenant, any staff member) of one
// Google account that hold a usable grant (status active), other than except (a
// connection path "tenant/staff/conn", or "").
func (s *Store) LiveConnectionsOfSubject(ctx context.Context, subject, except string) (int, error) {
	if subject == "" {
		return 0, nil
	}
	snaps, err := s.FS.CollectionGroup("connections").Where("subject", "==", subject).Select("status", "tenant", "staff").Documents(ctx).GetAll()
	if err != nil {
		return 0, fmt.Errorf("query connections of an account: %w", err)
	}
	n := 0
	for _, sn := range snaps {
		st, _ := sn.DataAt("status")
		t, _ := sn.DataAt("tenant")
		sf, _ := sn.DataAt("staff")
		if st != StatusActive || fmt.Sprint(t, "/", sf, "/", sn.Ref.ID) == except {
			continue
		}
		n++
	}
	return n, nil
}

// ClearExportsOf forgets where a staff member's bookings were exported through conn
// (calendar ids are often the account's e-mail address). It returns how many changed.
func (s *Store) ClearExportsOf(ctx context.Context, tenant, staff, conn string) (int, error) {
	snaps, err := s.Bookings(tenant, staff).Where("exportConnection", "==", conn).Select().Documents(ctx).GetAll()
	if err != nil {
		return 0, fmt.Errorf("find bookings exported through %s: %w", conn, err)
	}
	for _, b := range snaps {
		if _, err := b.Ref.Update(ctx, []firestore.Update{{Path: "exportCalendar", Value: ""}, {Path: "exportConnection", Value: ""}}); err != nil && !NotFound(err) {
			return 0, fmt.Errorf("clear export of booking %s: %w", b.Ref.ID, err)
		}
	}
	return len(snaps), nil
}

// StaffIDs lists a tenant's staff members: those with a staff document and those that
// only have subcollections (connections, bookings) under a missing one.
func (s *Store) StaffIDs(ctx context.Context, tenant string) ([]string, error) {
	refs, err := s.Tenant(tenant).Collection("staff").DocumentRefs(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("list staff of %s: %w", tenant, err)
	}
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.ID)
	}
	return out, nil
}

// DeleteTree deletes a document and, first, every document below it, depth first; it
// returns how many documents it deleted per collection id. Safe to run again after a
// crash: what is gone stays gone, the rest is found again.
func (s *Store) DeleteTree(ctx context.Context, ref *firestore.DocumentRef, counts map[string]int) error {
	it := ref.Collections(ctx)
	for {
		col, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return fmt.Errorf("list subcollections of %s: %w", ref.ID, err)
		}
		refs, err := col.DocumentRefs(ctx).GetAll()
		if err != nil {
			return fmt.Errorf("list %s of %s: %w", col.ID, ref.ID, err)
		}
		for _, d := range refs {
			if err := s.DeleteTree(ctx, d, counts); err != nil {
				return err
			}
		}
	}
	snap, err := ref.Get(ctx)
	if err != nil && !NotFound(err) {
		return fmt.Errorf("read %s: %w", ref.ID, err)
	}
	if err == nil && snap.Exists() {
		if _, err := ref.Delete(ctx); err != nil && !NotFound(err) {
			return fmt.Errorf("delete %s: %w", ref.ID, err)
		}
		counts[ref.Parent.ID]++
	}
	return nil
}

// DeleteStaffTree deletes tenants/{t}/staff/{s} with everything below it.
func (s *Store) DeleteStaffTree(ctx context.Context, tenant, staff string, counts map[string]int) error {
	return s.DeleteTree(ctx, s.Staff(tenant, staff), counts)
}

// DeleteTenantTree deletes tenants/{t} with everything below it.
func (s *Store) DeleteTenantTree(ctx context.Context, tenant string, counts map[string]int) error {
	return s.DeleteTree(ctx, s.Tenant(tenant), counts)
}

// DeleteAccountLinksOf deletes the tenant's account links that point at staff ("" = all).
func (s *Store) DeleteAccountLinksOf(ctx context.Context, tenant, staff string, counts map[string]int) error {
	q := s.Tenant(tenant).Collection("accounts").Query
	if staff != "" {
		q = q.Where("staff", "==", staff)
	}
	return s.deleteCounted(ctx, q, "accounts", counts)
}

// DeleteOAuthStatesOf deletes pending connection flows of a tenant (and staff member, or
// all staff when staff is "").
func (s *Store) DeleteOAuthStatesOf(ctx context.Context, tenant, staff string, counts map[string]int) error {
	q := s.FS.Collection("oauthStates").Where("tenant", "==", tenant)
	if staff != "" {
		q = q.Where("staff", "==", staff)
	}
	return s.deleteCounted(ctx, q, "oauthStates", counts)
}

// DeleteChannelLookupsOf deletes the channel lookups of a tenant (and staff member).
func (s *Store) DeleteChannelLookupsOf(ctx context.Context, tenant, staff string, counts map[string]int) error {
	q := s.FS.Collection("channels").Where("tenant", "==", tenant)
	if staff != "" {
		q = q.Where("staff", "==", staff)
	}
	return s.deleteCounted(ctx, q, "channels", counts)
}

func (s *Store) deleteCounted(ctx context.Context, q firestore.Query, name string, counts map[string]int) error {
	snaps, err := q.Select().Documents(ctx).GetAll()
	if err != nil {
		return fmt.Errorf("find %s to delete: %w", name, err)
	}
	for _, sn := range snaps {
		if _, err := sn.Ref.Delete(ctx); err != nil && !NotFound(err) {
			return fmt.Errorf("delete %s %s: %w", name, sn.Ref.ID, err)
		}
		counts[name]++
	}
	return nil
}
