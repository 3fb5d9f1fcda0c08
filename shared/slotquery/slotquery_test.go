package slotquery

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/testenv"
)

// seed creates staff s1 with 1 connection, 4 selected calendars (+1 unselected) and
// nEvents busy items spread over 13 months of busy docs (written directly, as the
// syncer would).
func seed(t testing.TB, st *store.Store, nEvents int) {
	t.Helper()
	ctx := context.Background()
	r := availability.Default()
	if _, err := st.Staff("t1", "s1").Set(ctx, map[string]any{"availability": r}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Connection("t1", "s1", "g1").Set(ctx, map[string]any{"status": "active"}); err != nil {
		t.Fatal(err)
	}
	for c := range 5 {
		if _, err := st.Calendar("t1", "s1", "g1", fmt.Sprintf("c%d", c)).Set(ctx, map[string]any{"selected": c < 4}); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	docs := map[string]map[string]store.BusyItem{}
	for i := range nEvents {
		cal := fmt.Sprintf("c%d", i%4)
		s := base.Add(time.Duration(i%(13*30*24)) * time.Hour)
		id := store.BusyDocID("g1", cal, store.MonthKey(s))
		if docs[id] == nil {
			docs[id] = map[string]store.BusyItem{}
		}
		docs[id][fmt.Sprintf("e%d", i)] = store.BusyItem{Start: s, End: s.Add(30 * time.Minute)}
	}
	bw := st.FS.BulkWriter(ctx)
	for id, items := range docs {
		if _, err := bw.Set(st.Busy("t1", "s1").Doc(id), store.BusyMonth{Month: id[len(id)-7:], Items: items}); err != nil {
			t.Fatal(err)
		}
	}
	bw.End()
}

// TestReadsIndependentOfEvents: the same request costs the same reads with 100 and with
// 100,000 stored busy events: staff doc + connections + calendars + calendars × months
// busy docs + the bookings query.
func TestReadsIndependentOfEvents(t *testing.T) {
	from := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	to := from.Add(14 * 24 * time.Hour)
	var reads []int
	for _, n := range []int{100, 100_000} {
		fs, _ := testenv.Firestore(t)
		st := store.New(fs)
		seed(t, st, n)
		_, busy, _, r, err := Load(context.Background(), st, "t1", "s1", from, to)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d events: %d reads, %d busy intervals loaded", n, r, len(busy.Intervals))
		reads = append(reads, r)
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
