package events

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/testenv"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestListRejectsBadRangesAndTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		name     string
		from, to time.Time
		token    string
		want     error
	}{
		{"empty", t0, t0, "", ErrInvalidRange},
		{"backwards", t0, t0.Add(-time.Hour), "", ErrInvalidRange},
		{"too long", t0, t0.Add(MaxRange + time.Second), "", ErrInvalidRange},
		{"garbage token", t0, t0.Add(time.Hour), "!!", ErrInvalidPageToken},
		{"token of another query", t0, t0.Add(time.Hour), token(t, t0.Add(time.Minute), t0.Add(time.Hour), PageSize), ErrInvalidPageToken},
		{"token without offset", t0, t0.Add(time.Hour), token(t, t0, t0.Add(time.Hour), 0), ErrInvalidPageToken},
	} {
		// The store is never reached: a nil one would panic if it were.
		if _, err := List(ctx, nil, "t1", "anna", c.from, c.to, c.token); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
}

func token(t *testing.T, from, to time.Time, offset int) string {
	t.Helper()
	p, err := pageOf(from, to, offset)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestList runs against the Firestore emulator: only selected calendars of active
// connections are listed, events ending before the window are left out, the order is
// start, calendar, id, and 501 events come in two pages.
func TestList(t *testing.T) {
	t.Parallel()
	fs, _ := testenv.Firestore(t)
	st := store.New(fs)
	ctx := context.Background()
	put := func(conn, status string, googleID string, selected bool, evs map[string]store.Event) {
		t.Helper()
		if _, err := st.Connection("t1", "anna", conn).Set(ctx, store.Connection{Tenant: "t1", Staff: "anna", Status: status}); err != nil {
			t.Fatal(err)
		}
		ref := store.CalRef{Tenant: "t1", Staff: "anna", Connection: conn, Calendar: store.CalendarDocID(googleID)}
		if _, err := st.Doc(ref).Set(ctx, store.Calendar{GoogleID: googleID, Color: "#" + googleID, Selected: selected}); err != nil {
			t.Fatal(err)
		}
		bw := st.BulkWriter(ctx)
		for id, e := range evs {
			if _, err := bw.Set(st.Events(ref).Doc(id), e); err != nil {
				t.Fatal(err)
			}
		}
		bw.End()
	}
	ev := func(start time.Time, d time.Duration) store.Event {
		return store.Event{Title: "x", Start: start, End: start.Add(d), Busy: true}
	}
	put("g1", store.StatusActive, "a", true, map[string]store.Event{
		"e2":    ev(t0.Add(time.Hour), time.Hour),
		"e1":    ev(t0, time.Hour),
		"ended": ev(t0.Add(-2*time.Hour), time.Hour),                 // ends before the window
		"long":  ev(t0.Add(-24*time.Hour), 25*time.Hour+1),           // began before, still running
		"later": ev(t0.Add(49*time.Hour), time.Hour),                 // starts after the window
		"far":   ev(t0.Add(-MaxSpan-time.Hour), MaxSpan+2*time.Hour), // documented limit
	})
	put("g1", store.StatusActive, "b", true, map[string]store.Event{"e0": ev(t0, time.Hour)})
	put("g1", store.StatusActive, "hidden", false, map[string]store.Event{"h": ev(t0, time.Hour)})
	put("g2", store.StatusReauthRequired, "c", true, map[string]store.Event{"r": ev(t0, time.Hour)})

	page, err := List(ctx, st, "t1", "anna", t0, t0.Add(48*time.Hour), "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range page.Events {
		got = append(got, e.CalendarID+"/"+e.ID)
	}
	want := "[a/long a/e1 b/e0 a/e2]"
	if fmt.Sprint(got) != want || page.NextPageToken != "" {
		t.Fatalf("listed %v (next %q), want %s", got, page.NextPageToken, want)
	}
	if e := page.Events[1]; e.Color != "#a" || e.Title != "x" || !e.Busy || !e.Start.Equal(t0) {
		t.Errorf("event %+v", e)
	}

	many := map[string]store.Event{}
	for i := range PageSize + 1 {
		many[fmt.Sprintf("m%04d", i)] = ev(t0.Add(time.Duration(i)*time.Second), time.Minute)
	}
	from, to := t0.Add(72*time.Hour), t0.Add(96*time.Hour) // only "many" is far off
	for i := range many {
		e := many[i]
		e.Start, e.End = e.Start.Add(72*time.Hour), e.End.Add(72*time.Hour)
		many[i] = e
	}
	put("g3", store.StatusActive, "many", true, many)
	first, err := List(ctx, st, "t1", "anna", from, to, "")
	if err != nil || len(first.Events) != PageSize || first.NextPageToken == "" {
		t.Fatalf("first page: %d events, next %q, err %v", len(first.Events), first.NextPageToken, err)
	}
	second, err := List(ctx, st, "t1", "anna", from, to, first.NextPageToken)
	if err != nil || len(second.Events) != 1 || second.Events[0].ID != "m0500" || second.NextPageToken != "" {
		t.Fatalf("second page: %+v, err %v", second, err)
	}
}
