package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/testenv"
)

// The renewal tick's scans find connections through the paths of calendar and connection
// documents.
func TestConnOfCalendar(t *testing.T) {
	t.Parallel()
	fs := &firestore.Client{}
	st := New(fs)
	ref := st.Calendar("t1", "s1", "g1", "c1")
	k, ok := connOfCalendar(ref)
	if !ok || k != (ConnKey{"t1", "s1", "g1"}) {
		t.Fatalf("connOfCalendar(%s) = %v %v", ref.Path, k, ok)
	}
	if _, ok := connOfCalendar(fs.Collection("other").Doc("x").Collection("calendars").Doc("c")); ok {
		t.Fatal("a calendars collection outside a connection was accepted")
	}
	if k, ok := connOfConnection(st.Connection("t1", "s1", "g1")); !ok || k.Connection != "g1" {
		t.Fatalf("connOfConnection = %v %v", k, ok)
	}
}

// TestScanPages runs against the Firestore emulator: a scan reads every due document in
// pages of the pager's size, whatever the size, and leaves out what is not due.
func TestScanPages(t *testing.T) {
	t.Parallel()
	fs, _ := testenv.Firestore(t)
	s := New(fs)
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range 5 {
		cal := Calendar{Selected: true, LastSyncAt: now.Add(-time.Duration(i+1) * time.Hour)}
		if _, err := s.Calendar("t1", "anna", fmt.Sprint("g", i), "c").Set(ctx, cal); err != nil {
			t.Fatal(err)
		}
	}
	fresh := Calendar{Selected: true, LastSyncAt: now}
	if _, err := s.Calendar("t1", "anna", "g9", "c").Set(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	for size, wantPages := range map[int]string{2: "[2 2 1]", 5: "[5 0]", 10: "[5]"} {
		var pages []int
		found := map[ConnKey]bool{}
		p := Pager{Size: size, OnPage: func(n int) { pages = append(pages, n) }}
		err := s.CalendarsDue(ctx, p, "lastSyncAt", now.Add(-time.Minute), func(k ConnKey, ok bool) { found[k] = ok })
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(pages) != wantPages || len(found) != 5 || !found[ConnKey{"t1", "anna", "g4"}] || found[ConnKey{"t1", "anna", "g9"}] {
			t.Errorf("size %d: pages %v, found %v", size, pages, found)
		}
	}
}

// TestConnectionStatusesOf runs against the Firestore emulator: the statuses come back in
// the order of the keys, "" for a connection that does not exist or has no status.
func TestConnectionStatusesOf(t *testing.T) {
	t.Parallel()
	fs, _ := testenv.Firestore(t)
	s := New(fs)
	ctx := context.Background()
	for id, st := range map[string]string{"g1": StatusActive, "g2": StatusReauthRequired} {
		if _, err := s.Connection("t1", "anna", id).Set(ctx, Connection{Status: st}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Connection("t2", "bo", "g3").Set(ctx, map[string]any{"email": "x@example.com"}); err != nil {
		t.Fatal(err)
	}
	keys := []ConnKey{{"t1", "anna", "g2"}, {"t1", "anna", "gone"}, {"t2", "bo", "g3"}, {"t1", "anna", "g1"}}
	got, err := s.ConnectionStatusesOf(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%q", []string{StatusReauthRequired, "", "", StatusActive}); fmt.Sprintf("%q", got) != want {
		t.Errorf("ConnectionStatusesOf = %q, want %s", got, want)
	}
}
