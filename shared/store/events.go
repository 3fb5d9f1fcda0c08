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
