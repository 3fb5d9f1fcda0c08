package slotquery

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/slotquery/slotquerytest"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/testenv"
)

// seed creates staff s1 with 1 connection, 4 selected calendars (+1 unselected) and
// nEvents busy items spread evenly over 13 months of busy docs (written directly, as the
// syncer would).

// TestReadsIndependentOfEvents: the same request costs the same reads with 100 and with
// 100,000 stored busy events: staff doc + connections + calendars + calendars × months
// busy docs + the bookings query.
func TestReadsIndependentOfEvents(t *testing.T) {
	from := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	to := from.Add(14 * 24 * time.Hour)
	var reads, loaded []int
	for _, n := range []int{100, 100_000} {
		fs, _ := testenv.Firestore(t)
		st := store.New(fs)
		slotquerytest.SeedBusy(t, st, n)
		_, busy, _, r, err := Load(context.Background(), st, "t1", "s1", from, to)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d events: %d reads, %d busy intervals loaded", n, r, len(busy.Intervals))
		reads = append(reads, r)
		loaded = append(loaded, len(busy.Intervals))
	}
	// The busy data really is there, and there is far more of it in the large run: the
	// equal read counts are not an accident of empty documents.
	if loaded[0] == 0 || loaded[1] <= 10*loaded[0] {
		t.Fatalf("busy intervals loaded: %v", loaded)
	}
	// 1 staff + 1 connection + 4 calendars + 4 calendars × 1 month + 1 (empty bookings query)
	if reads[0] != reads[1] || reads[0] != 1+1+4+4+1 {
		t.Fatalf("reads %v", reads)
	}
}

func TestParseQuery(t *testing.T) {
	ok := url.Values{"tenant": {"t"}, "staff": {"a,b,a"}, "durationMin": {"30"}, "from": {"2026-11-02T00:00:00Z"}, "to": {"2026-11-09T00:00:00Z"}, "tz": {"America/New_York"}}
	q, err := ParseQuery(ok)
	if err != nil || len(q.Staff) != 2 || q.TZ.String() != "America/New_York" {
		t.Fatalf("%+v %v", q, err)
	}
	mod := func(k, v string) url.Values {
		c := url.Values{}
		for kk, vv := range ok {
			c[kk] = vv
		}
		c.Set(k, v)
		return c
	}
	for _, bad := range []url.Values{
		mod("tenant", ""), mod("tenant", "a/b"), mod("staff", ""), mod("staff", "a,,b"), mod("durationMin", "4"), mod("durationMin", "481"),
		mod("durationMin", "x"), mod("from", "2026-11-02"), mod("to", "2026-11-01T00:00:00Z"), mod("to", "2027-01-04T00:00:01Z"),
		mod("tz", "Mars/Base"), mod("tz", "Local"), mod("staff", "s0,s1,s2,s3,s4,s5,s6,s7,s8,s9,s10,s11,s12,s13,s14,s15,s16,s17,s18,s19,s20"),
	} {
		if _, err := ParseQuery(bad); err == nil {
			t.Errorf("accepted %v", bad)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	f.Add("tenant=t&staff=a,b&durationMin=30&from=2026-11-02T00:00:00Z&to=2026-11-09T00:00:00Z&tz=Europe/Berlin")
	f.Add("tenant=t&staff=any&durationMin=5&from=2026-11-02T00:00:00%2B01:00&to=2026-11-02T01:00:00Z")
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(v)
		if err != nil {
			return
		}
		if !q.To.After(q.From) || q.To.Sub(q.From) > MaxRange || q.Duration < 5*time.Minute || q.Duration > 480*time.Minute ||
			len(q.Staff) > MaxStaff || (q.Any == (len(q.Staff) > 0)) {
			t.Fatalf("accepted %q → %+v", raw, q)
		}
	})
}

// TestCalendarIndexWarmPathIsEquivalent: a warm request (selected calendars remembered)
// loads the same rules, busy intervals and bookings as the cold path, with fewer reads,
// and still bounded by calendars × months; after the TTL a deselected calendar drops out.
func TestCalendarIndexWarmPathIsEquivalent(t *testing.T) {
	fs, _ := testenv.Firestore(t)
	st := store.New(fs)
	slotquerytest.SeedBusy(t, st, 2000)
	ctx := context.Background()
	b0 := time.Date(2026, 7, 3, 10, 0, 0, 0, time.UTC)
	if _, err := st.Bookings("t1", "s1").Doc("b1").Set(ctx, store.Booking{Start: b0, End: b0.Add(time.Hour), Status: store.BookingConfirmed}); err != nil {
		t.Fatal(err)
	}
	// The booking index entry Book writes in the same transaction (shared/booking tests
	// prove it does).
	if _, err := st.Busy("t1", "s1").Doc(store.BookingIndexDocID("2026-07")).Set(ctx, store.BusyMonth{Month: "2026-07", Items: map[string]store.BusyItem{"b1": {Start: b0, End: b0.Add(time.Hour)}}}); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(14 * 24 * time.Hour)
	cold, err := LoadData(ctx, st.Reader(), st, "t1", "s1", from, to, nil)
	if err != nil {
		t.Fatal(err)
	}
	idx := &CalendarIndex{TTL: time.Hour}
	first, err := loadData(ctx, st.Reader(), st, idx, "t1", "s1", from, to, nil)
	if err != nil {
		t.Fatal(err)
	}
	warm, err := loadData(ctx, st.Reader(), st, idx, "t1", "s1", from, to, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.Reads != cold.Reads {
		t.Errorf("first (filling) request read %d, cold path %d", first.Reads, cold.Reads)
	}
	if warm.Reads >= cold.Reads {
		t.Errorf("warm request read %d documents, cold %d: the index saved nothing", warm.Reads, cold.Reads)
	}
	if len(warm.Bookings) != 1 || len(cold.Bookings) != 1 || !warm.Bookings[0].Start.Equal(cold.Bookings[0].Start) || warm.Rules.TimeZone != cold.Rules.TimeZone {
		t.Fatalf("bookings/rules differ: warm %+v cold %+v", warm.Bookings, cold.Bookings)
	}
	// The warm path may read one more month per calendar (largest buffers); the intervals
	// that matter for [from, to) must be the same.
	inRange := func(b availability.Busy) map[string]bool {
		m := map[string]bool{}
		for _, iv := range b.Intervals {
			if iv.End.After(from.Add(-Margin)) && iv.Start.Before(to.Add(Margin)) {
				m[iv.Start.String()+iv.End.String()] = true
			}
		}
		return m
	}
	w, c := inRange(warm.Busy), inRange(cold.Busy)
	if len(c) == 0 || len(w) != len(c) {
		t.Fatalf("busy intervals in range: warm %d, cold %d", len(w), len(c))
	}
	for k := range c {
		if !w[k] {
			t.Fatalf("warm path lost busy interval %s", k)
		}
	}
	// Deselect a calendar: a short TTL lets the change through on the next request.
	if _, err := st.Calendar("t1", "s1", "g1", "c0").Set(ctx, map[string]any{"selected": false}); err != nil {
		t.Fatal(err)
	}
	stale, err := loadData(ctx, st.Reader(), st, idx, "t1", "s1", from, to, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(inRange(stale.Busy)) != len(c) {
		t.Fatalf("within the TTL the remembered calendars should be used: %d intervals, want %d", len(inRange(stale.Busy)), len(c))
	}
	clock := time.Now()
	idx.Now = func() time.Time { return clock.Add(2 * time.Hour) } // past the TTL
	after, err := loadData(ctx, st.Reader(), st, idx, "t1", "s1", from, to, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(inRange(after.Busy)) >= len(c) {
		t.Fatalf("deselected calendar still counted after the TTL: %d intervals, before %d", len(inRange(after.Busy)), len(c))
	}
}
