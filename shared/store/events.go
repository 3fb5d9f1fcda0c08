package store

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
)

// Events is a calendar's events collection (…/calendars/{cal}/events).
func (s *Store) Events(c CalRef) *firestore.CollectionRef {
	return s.Doc(c).Collection("events")
}

// EventsStartingIn reads the events of one calendar whose start lies in [from, to), sorted
// by start. Documents that do not decode are skipped (as the listing always did).
func (s *Store) EventsStartingIn(ctx context.Context, c CalRef, from, to time.Time) ([]*Event, error) {
	snaps, err := s.Events(c).Where("start", ">=", from).Where("start", "<", to).
		OrderBy("start", firestore.Asc).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("list events of %s: %w", c, err)
	}
	out := make([]*Event, 0, len(snaps))
	for _, snap := range snaps {
		var e Event
		if err := snap.DataTo(&e); err != nil {
			continue
		}
		e.ID = snap.Ref.ID
		out = append(out, &e)
	}
	return out, nil
}

// CalendarBusy is the query for the busy documents of one calendar (ids start with
// BusyDocID(conn, cal, "")).
func (s *Store) CalendarBusy(c CalRef) firestore.Query {
	busy := s.Busy(c.Tenant, c.Staff)
	prefix := BusyDocID(c.Connection, c.Calendar, "")
	return busy.Where(firestore.DocumentID, ">=", busy.Doc(prefix)).
		Where(firestore.DocumentID, "<", busy.Doc(prefix+"\uf8ff"))
}

// EventMonths reads the id and stored months (field "months") of every event of c,
// projected: no event data is read.
func (s *Store) EventMonths(ctx context.Context, c CalRef) ([]*firestore.DocumentSnapshot, error) {
	return s.Events(c).Select("months").Documents(ctx).GetAll()
}

// CalendarBusyMonths reads and decodes the busy month documents of c.
func (s *Store) CalendarBusyMonths(ctx context.Context, c CalRef) ([]BusyMonth, error) {
	snaps, err := s.CalendarBusy(c).Documents(ctx).GetAll()
	if err != nil {
		return nil, err
	}
	out := make([]BusyMonth, len(snaps))
	for i, snap := range snaps {
		if err := snap.DataTo(&out[i]); err != nil {
			return nil, fmt.Errorf("decode busy %s: %w", snap.Ref.ID, err)
		}
	}
	return out, nil
}
