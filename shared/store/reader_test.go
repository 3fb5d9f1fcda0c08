package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/testenv"
)

// TestReader runs against the Firestore emulator: the plain and the transactional reader
// answer the same, and ListBookings orders by start and stops at its limit.
func TestReader(t *testing.T) {
	t.Parallel()
	fs, _ := testenv.Firestore(t)
	s := New(fs)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i, id := range []string{"b3", "b1", "b2", "b0"} { // start t0 + i h; b0 starts at t0+3h
		b := Booking{Start: t0.Add(time.Duration(i) * time.Hour), End: t0.Add(time.Duration(i)*time.Hour + 30*time.Minute), Status: BookingConfirmed}
		if _, err := s.Bookings("t1", "anna").Doc(id).Set(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	for id, st := range map[string]string{"g1": StatusActive, "g2": StatusReauthRequired} {
		if _, err := s.Connection("t1", "anna", id).Set(ctx, Connection{Status: st, Email: "secret@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	for cal, sel := range map[string]bool{"ca": true, "cb": false, "cc": true} {
		if _, err := s.Calendar("t1", "anna", "g1", cal).Set(ctx, Calendar{Name: cal, Selected: sel}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(r Reader) string {
		books, err := r.BookingsStartingIn(ctx, "t1", "anna", t0.Add(time.Hour), t0.Add(3*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, b := range books {
			ids[b.ID] = true
		}
		conns, err := r.ConnectionStatuses(ctx, "t1", "anna")
		if err != nil {
			t.Fatal(err)
		}
		cals, err := r.SelectedCalendars(ctx, "t1", "anna", "g1")
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(ids, conns, cals)
	}
	want := "map[b1:true b2:true] [{g1 active} {g2 reauth_required}] [ca cc]"
	if got := read(s.Reader()); got != want || !s.Reader().Concurrent() {
		t.Errorf("plain reader: %s, want %s", got, want)
	}
	err := s.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		if got := read(s.TxReader(tx)); got != want || s.TxReader(tx).Concurrent() {
			t.Errorf("transactional reader: %s, want %s", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.ListBookings(ctx, "t1", "anna", t0, t0.Add(24*time.Hour), 3)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, b := range list {
		ids = append(ids, b.ID)
	}
	if got := fmt.Sprint(ids); got != "[b3 b1 b2]" {
		t.Errorf("ListBookings: %s, want [b3 b1 b2]", got)
	}
}

// TestCalendarIDs runs against the Firestore emulator: CalendarIDs lists every calendar
// of the connection (selected or not, and no other connection's), plainly and inside a
// transaction, and CalendarDocs reads the same documents whole.
func TestCalendarIDs(t *testing.T) {
	t.Parallel()
	fs, _ := testenv.Firestore(t)
	s := New(fs)
	ctx := context.Background()
	for _, c := range []struct {
		conn, cal string
		sel       bool
	}{{"g1", "ca", true}, {"g1", "cb", false}, {"g2", "cc", true}} {
		if _, err := s.Calendar("t1", "anna", c.conn, c.cal).Set(ctx, Calendar{Name: "n-" + c.cal, Selected: c.sel}); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := s.Reader().CalendarIDs(ctx, "t1", "anna", "g1")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(ids); got != "[ca cb]" {
		t.Errorf("CalendarIDs: %s, want [ca cb]", got)
	}
	err = s.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		ids, err := s.TxReader(tx).CalendarIDs(ctx, "t1", "anna", "g1")
		if got := fmt.Sprint(ids); err != nil || got != "[ca cb]" {
			t.Errorf("CalendarIDs in a transaction: %s %v, want [ca cb]", got, err)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := s.Reader().CalendarIDs(ctx, "t1", "anna", "g9"); err != nil || len(ids) != 0 {
		t.Errorf("CalendarIDs of a connection without calendars: %v %v", ids, err)
	}
	snaps, err := s.CalendarDocs(ctx, "t1", "anna", "g1")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sn := range snaps {
		n, _ := sn.DataAt("name")
		names = append(names, fmt.Sprint(sn.Ref.ID, "=", n))
	}
	if got := fmt.Sprint(names); got != "[ca=n-ca cb=n-cb]" {
		t.Errorf("CalendarDocs: %s, want [ca=n-ca cb=n-cb]", got)
	}
}
