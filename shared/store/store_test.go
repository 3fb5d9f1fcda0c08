package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/testenv"
)

func TestMonthsSpanned(t *testing.T) {
	t.Parallel()
	d := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	tests := []struct {
		start, end string
		want       string
	}{
		{"2026-03-10T10:00:00Z", "2026-03-10T11:00:00Z", "2026-03"},
		{"2026-03-31T23:00:00Z", "2026-04-01T01:00:00Z", "2026-03,2026-04"},
		{"2026-03-31T23:00:00Z", "2026-04-01T00:00:00Z", "2026-03"},
		{"2026-12-15T00:00:00Z", "2027-02-01T00:00:01Z", "2026-12,2027-01,2027-02"},
		{"2026-05-01T00:00:00Z", "2026-05-01T00:00:00Z", "2026-05"},
		{"2026-05-01T01:00:00+02:00", "2026-05-01T03:00:00+02:00", "2026-04,2026-05"},
	}
	for _, tc := range tests {
		if got := strings.Join(MonthsSpanned(d(tc.start), d(tc.end)), ","); got != tc.want {
			t.Errorf("MonthsSpanned(%s, %s) = %s, want %s", tc.start, tc.end, got, tc.want)
		}
	}
}

func TestIDs(t *testing.T) {
	t.Parallel()
	first, again := ConnectionID("t1", "sub"), ConnectionID("t1", strings.Clone("sub"))
	if first == ConnectionID("t2", "sub") || first != again {
		t.Fatal("connection ids must be per tenant and deterministic")
	}
	if id := CalendarDocID("a/b#c@group.calendar.google.com"); strings.ContainsAny(id, "/#@") || len(id) != 25 {
		t.Fatalf("calendar doc id %q is not a safe document id", id)
	}
	if HashToken("x") == "x" || len(HashToken("x")) != 64 {
		t.Fatal("HashToken must be a SHA-256 hex digest")
	}
}

// TestDeleteData runs against the Firestore emulator: deleting one calendar's data leaves
// the other calendar's events and busy documents alone; deleting a connection removes all.
func TestDeleteData(t *testing.T) {
	t.Parallel()
	fs, _ := testenv.Firestore(t)
	s := New(fs)
	ctx := context.Background()
	a := CalRef{"t1", "anna", "g1", "ca"}
	b := CalRef{"t1", "anna", "g1", "cb"}
	if _, err := s.Connection("t1", "anna", "g1").Set(ctx, Connection{Tenant: "t1", Staff: "anna", Status: StatusActive}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AccountLink("t1", "g1").Set(ctx, AccountLink{Staff: "anna"}); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []CalRef{a, b} {
		if _, err := s.Doc(ref).Set(ctx, Calendar{GoogleID: ref.Calendar, Selected: true, Channel: &Channel{ID: "ch-" + ref.Calendar}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Channel("ch-"+ref.Calendar).Set(ctx, ChannelLookup{Calendar: ref.Calendar}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if _, err := s.Doc(ref).Collection("events").NewDoc().Set(ctx, Event{Title: "x"}); err != nil {
				t.Fatal(err)
			}
		}
		for _, m := range []string{"2026-01", "2026-02"} {
			if _, err := s.Busy("t1", "anna").Doc(BusyDocID("g1", ref.Calendar, m)).Set(ctx, BusyMonth{Month: m}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A busy doc of another connection whose id shares a prefix must survive.
	if _, err := s.Busy("t1", "anna").Doc(BusyDocID("g10", "ca", "2026-01")).Set(ctx, BusyMonth{}); err != nil {
		t.Fatal(err)
	}
	count := func(ref CalRef) (events, busy int) {
		ev, err := s.Doc(ref).Collection("events").Documents(ctx).GetAll()
		if err != nil {
			t.Fatal(err)
		}
		all, err := s.Busy("t1", "anna").Documents(ctx).GetAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range all {
			if strings.HasPrefix(d.Ref.ID, ref.Connection+"_"+ref.Calendar+"_") {
				busy++
			}
		}
		return len(ev), busy
	}
	if err := s.DeleteCalendarData(ctx, a); err != nil {
		t.Fatal(err)
	}
	if e, b := count(a); e != 0 || b != 0 {
		t.Fatalf("calendar a keeps %d events, %d busy docs", e, b)
	}
	if e, bz := count(b); e != 3 || bz != 2 {
		t.Fatalf("calendar b lost data: %d events, %d busy docs", e, bz)
	}
	if err := s.DeleteConnectionData(ctx, "t1", "anna", "g1"); err != nil {
		t.Fatal(err)
	}
	if e, bz := count(b); e != 0 || bz != 0 {
		t.Fatalf("after connection delete calendar b keeps %d events, %d busy docs", e, bz)
	}
	for _, ref := range []CalRef{a, b} {
		if _, err := s.Doc(ref).Get(ctx); !NotFound(err) {
			t.Errorf("calendar %s still exists: %v", ref, err)
		}
		if _, err := s.Channel("ch-" + ref.Calendar).Get(ctx); !NotFound(err) {
			t.Errorf("channel lookup of %s still exists", ref)
		}
	}
	if _, err := s.GetConnection(ctx, "t1", "anna", "g1"); !NotFound(err) {
		t.Errorf("connection still exists: %v", err)
	}
	if _, err := s.AccountLink("t1", "g1").Get(ctx); !NotFound(err) {
		t.Errorf("account link still exists: %v", err)
	}
	if _, err := s.Busy("t1", "anna").Doc(BusyDocID("g10", "ca", "2026-01")).Get(ctx); err != nil {
		t.Errorf("another connection's busy doc was deleted: %v", err)
	}
}
