package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Store wraps the Firestore client with the project's paths.
type Store struct {
	FS *firestore.Client
}

// New wraps a Firestore client.
func New(fs *firestore.Client) *Store { return &Store{FS: fs} }

// ErrNotFound is returned when a document does not exist.
var ErrNotFound = errors.New("not found")

// NotFound reports whether err is a Firestore NotFound.
func NotFound(err error) bool {
	return errors.Is(err, ErrNotFound) || status.Code(err) == codes.NotFound
}

// Staff is tenants/{t}/staff/{s}.
func (s *Store) Staff(tenant, staff string) *firestore.DocumentRef {
	return s.StaffMembers(tenant).Doc(staff)
}

// Connections is the collection of a staff member's connections.
func (s *Store) Connections(tenant, staff string) *firestore.CollectionRef {
	return s.Staff(tenant, staff).Collection("connections")
}

// Connection is one connection document.
func (s *Store) Connection(tenant, staff, conn string) *firestore.DocumentRef {
	return s.Connections(tenant, staff).Doc(conn)
}

// Calendars is a connection's calendars.
func (s *Store) Calendars(tenant, staff, conn string) *firestore.CollectionRef {
	return s.Connection(tenant, staff, conn).Collection("calendars")
}

// Calendar is one calendar document (doc id from CalendarDocID).
func (s *Store) Calendar(tenant, staff, conn, calDoc string) *firestore.DocumentRef {
	return s.Calendars(tenant, staff, conn).Doc(calDoc)
}

// Busy is the staff member's busy index collection.
func (s *Store) Busy(tenant, staff string) *firestore.CollectionRef {
	return s.Staff(tenant, staff).Collection("busy")
}

// BusyDocID names the busy document of one calendar and month.
func BusyDocID(conn, calDoc, month string) string { return conn + "_" + calDoc + "_" + month }

// BookingIndexDocID names the busy-collection document that indexes the staff member's
// confirmed bookings of one UTC month (items: booking id → {s, e}; instants only). It is
// written in the same transaction as the booking, so Slots reads bookings with the busy
// documents in one GetAll instead of a query.
func BookingIndexDocID(month string) string { return BookingIndexPrefix + month }

// BookingIndexPrefix starts every booking index document id (connection ids start with "g").
const BookingIndexPrefix = "bookings_"

// Bookings is the staff member's bookings.
func (s *Store) Bookings(tenant, staff string) *firestore.CollectionRef {
	return s.Staff(tenant, staff).Collection("bookings")
}

// Channel is the channels/{id} lookup document.
func (s *Store) Channel(id string) *firestore.DocumentRef { return s.FS.Collection("channels").Doc(id) }

// OAuthState is oauthStates/{id}.
func (s *Store) OAuthState(id string) *firestore.DocumentRef {
	return s.FS.Collection("oauthStates").Doc(id)
}

// AccountLink is tenants/{t}/accounts/{conn}.
func (s *Store) AccountLink(tenant, conn string) *firestore.DocumentRef {
	return s.FS.Collection("tenants").Doc(tenant).Collection("accounts").Doc(conn)
}

// CalRef identifies one calendar of one connection.
type CalRef struct {
	Tenant, Staff, Connection, Calendar string // Calendar is the doc id
}

// Doc returns the calendar document.
func (s *Store) Doc(c CalRef) *firestore.DocumentRef {
	return s.Calendar(c.Tenant, c.Staff, c.Connection, c.Calendar)
}

// String is a log-safe identifier (ids only).
func (c CalRef) String() string {
	return c.Tenant + "/" + c.Staff + "/" + c.Connection + "/" + c.Calendar
}

// GetConnection reads one connection.
func (s *Store) GetConnection(ctx context.Context, tenant, staff, conn string) (*Connection, error) {
	snap, err := s.Connection(tenant, staff, conn).Get(ctx)
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("get connection %s: %w", conn, err)
	}
	var c Connection
	if err := snap.DataTo(&c); err != nil {
		return nil, fmt.Errorf("decode connection %s: %w", conn, err)
	}
	c.ID = snap.Ref.ID
	return &c, nil
}

// ListConnections reads a staff member's connections.
func (s *Store) ListConnections(ctx context.Context, tenant, staff string) ([]*Connection, error) {
	snaps, err := s.Connections(tenant, staff).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("list connections %s/%s: %w", tenant, staff, err)
	}
	return decodeConnections(snaps)
}

// decodeConnections decodes connection documents, each with its id.
func decodeConnections(snaps []*firestore.DocumentSnapshot) ([]*Connection, error) {
	return decodeAll(snaps, "connection", func(c *Connection, id string) { c.ID = id })
}

// decodeAll decodes every document into a new T and hands it its document id; what
// names the kind of document in the error.
func decodeAll[T any](snaps []*firestore.DocumentSnapshot, what string, withID func(*T, string)) ([]*T, error) {
	out := make([]*T, 0, len(snaps))
	for _, snap := range snaps {
		v := new(T)
		if err := snap.DataTo(v); err != nil {
			return nil, fmt.Errorf("decode %s %s: %w", what, snap.Ref.ID, err)
		}
		withID(v, snap.Ref.ID)
		out = append(out, v)
	}
	return out, nil
}

// GetCalendar reads one calendar document.
func (s *Store) GetCalendar(ctx context.Context, c CalRef) (*Calendar, error) {
	snap, err := s.Doc(c).Get(ctx)
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("get calendar %s: %w", c, err)
	}
	return decodeCalendar(snap)
}

func decodeCalendar(snap *firestore.DocumentSnapshot) (*Calendar, error) {
	var cal Calendar
	if err := snap.DataTo(&cal); err != nil {
		return nil, fmt.Errorf("decode calendar %s: %w", snap.Ref.ID, err)
	}
	cal.DocID = snap.Ref.ID
	return &cal, nil
}

// ListCalendars reads a connection's calendars.
func (s *Store) ListCalendars(ctx context.Context, tenant, staff, conn string) ([]*Calendar, error) {
	snaps, err := s.CalendarDocs(ctx, tenant, staff, conn)
	if err != nil {
		return nil, err
	}
	out := make([]*Calendar, 0, len(snaps))
	for _, snap := range snaps {
		cal, err := decodeCalendar(snap)
		if err != nil {
			return nil, err
		}
		out = append(out, cal)
	}
	return out, nil
}

// CalendarDocs reads a connection's calendar documents undecoded, for a caller that
// decodes them into its own type (shared/renewal adds the calendar's "renewal" map);
// ListCalendars decodes them into Calendar.
func (s *Store) CalendarDocs(ctx context.Context, tenant, staff, conn string) ([]*firestore.DocumentSnapshot, error) {
	snaps, err := s.Calendars(tenant, staff, conn).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("list calendars of %s: %w", conn, err)
	}
	return snaps, nil
}

// DeleteCalendarData deletes a calendar's events and its busy documents (not the calendar
// document itself) — used on deselect, calendar removal and disconnect.
func (s *Store) DeleteCalendarData(ctx context.Context, c CalRef) error {
	if err := s.deleteQuery(ctx, s.Events(c).Query); err != nil {
		return fmt.Errorf("delete events of %s: %w", c, err)
	}
	if err := s.deleteQuery(ctx, s.CalendarBusy(c)); err != nil {
		return fmt.Errorf("delete busy of %s: %w", c, err)
	}
	return nil
}

// DeleteConnectionData deletes everything held for a connection: its calendars with their
// events and busy documents, the connection, and the tenant's account link.
func (s *Store) DeleteConnectionData(ctx context.Context, tenant, staff, conn string) error {
	cals, err := s.ListCalendars(ctx, tenant, staff, conn)
	if err != nil {
		return err
	}
	for _, cal := range cals {
		ref := CalRef{tenant, staff, conn, cal.DocID}
		if err := s.DeleteCalendarData(ctx, ref); err != nil {
			return err
		}
		if cal.Channel != nil {
			if _, err := s.Channel(cal.Channel.ID).Delete(ctx); err != nil && !NotFound(err) {
				return fmt.Errorf("delete channel lookup %s: %w", cal.Channel.ID, err)
			}
		}
		if _, err := s.Doc(ref).Delete(ctx); err != nil {
			return fmt.Errorf("delete calendar %s: %w", ref, err)
		}
	}
	// The link only points at this staff member if it still does (a move may have re-linked it).
	err = s.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(s.AccountLink(tenant, conn))
		if err != nil {
			if status.Code(err) == codes.NotFound {
				return nil
			}
			return err
		}
		var l AccountLink
		if err := snap.DataTo(&l); err != nil {
			return err
		}
		if l.Staff == staff {
			return tx.Delete(snap.Ref)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete account link %s: %w", conn, err)
	}
	if _, err := s.Connection(tenant, staff, conn).Delete(ctx); err != nil {
		return fmt.Errorf("delete connection %s: %w", conn, err)
	}
	return nil
}

// deleteQuery deletes every document a query returns with a BulkWriter and reports the
// first failed deletion.
func (s *Store) deleteQuery(ctx context.Context, q firestore.Query) error {
	bw := s.FS.BulkWriter(ctx)
	var jobs []*firestore.BulkWriterJob
	for snap, err := range Docs(ctx, q.Select()) {
		if err != nil {
			bw.End()
			return err
		}
		job, err := bw.Delete(snap.Ref)
		if err != nil {
			bw.End()
			return err
		}
		jobs = append(jobs, job)
	}
	bw.End()
	for _, j := range jobs {
		if _, err := j.Results(); err != nil && status.Code(err) != codes.NotFound {
			return err
		}
	}
	return nil
}

// MonthKey is the busy-index month of an instant in UTC ("2026-03").
func MonthKey(t time.Time) string { return t.UTC().Format("2006-01") }

// MonthsSpanned lists the UTC months an interval [start, end) touches (at least one).
func MonthsSpanned(start, end time.Time) []string {
	start, end = start.UTC(), end.UTC()
	if !end.After(start) {
		return []string{MonthKey(start)}
	}
	var out []string
	m := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC)
	for m.Before(end) {
		out = append(out, m.Format("2006-01"))
		m = m.AddDate(0, 1, 0)
	}
	return out
}
