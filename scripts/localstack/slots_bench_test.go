package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/benchtable"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/secrets"
	"github.com/belbo/calsync/shared/slotquery"
	"github.com/belbo/calsync/shared/slotsvc"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/testenv"
)

// benchStack starts the functions on a fresh emulator project with a fake clock at
// Monday 2026-11-02 08:00 Berlin.
func benchStack(b *testing.B) *Stack { return benchStackWith(b, nil) }

// benchStackWith is benchStack whose operations m counts (nil: none).
func benchStackWith(b *testing.B, m *meter) *Stack {
	b.Helper()
	testenv.Require(b, "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")
	fg := fakegoogle.New(fakegoogle.Options{Start: time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC)})
	gsrv := httptest.NewServer(fg.Handler())
	b.Cleanup(gsrv.Close)
	fg.SetBaseURL(gsrv.URL)
	sec := secrets.NewStatic(nil, nil)
	env := config.Env{Platform: config.Platform{Project: testenv.Project(b), ClockURL: fg.ClockURL()}, Widget: config.Widget{WidgetOrigins: []string{widgetOrigin}},
		Export: config.Export{ExportFields: []string{"service"}}}
	// Deployed, "now" is the system clock; the local CLOCK_URL costs an HTTP round trip per
	// request that production never pays, so the benchmark reads the fake's clock in-process.
	o := Options{Env: env, Deps: platform.Deps{Secrets: sec, LogWriter: io.Discard, Clock: fg.Clock()}}
	if m != nil {
		fo, err := m.C.FirestoreOptions()
		if err != nil {
			b.Fatal(err)
		}
		o.Deps.FirestoreOptions, o.Deps.PubSubOptions, o.Observe = fo, m.C.PubSubOptions(), m.observe
		o.Deps.Secrets = countingSecrets{sec, m.C}
	}
	st, err := Start(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(st.Close)
	return st
}

func seedStaff(b *testing.B, st *store.Store, staff string) {
	r := availability.Default()
	if _, err := st.Staff("t1", staff).Set(context.Background(), map[string]any{"availability": r}); err != nil {
		b.Fatal(err)
	}
	// One connection with two selected calendars and a few busy items: a realistic read set.
	if _, err := st.Connection("t1", staff, "g1").Set(context.Background(), map[string]any{"status": "active"}); err != nil {
		b.Fatal(err)
	}
	for _, c := range []string{"c1", "c2"} {
		if _, err := st.Calendar("t1", staff, "g1", c).Set(context.Background(), map[string]any{"selected": true}); err != nil {
			b.Fatal(err)
		}
		s := time.Date(2026, 11, 4, 5, 0, 0, 0, time.UTC) // before working hours
		if _, err := st.Busy("t1", staff).Doc(store.BusyDocID("g1", c, "2026-11")).Set(context.Background(),
			store.BusyMonth{Month: "2026-11", Items: map[string]store.BusyItem{"e1": {Start: s, End: s.Add(time.Hour)}}}); err != nil {
			b.Fatal(err)
		}
	}
}

func pct(d []time.Duration, p float64) time.Duration {
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// BenchmarkSlotsLoad: Slots over loopback HTTP against the emulator. Reports requests/s
// and p99 under 8 concurrent clients, and the sequential median Slots latency as a ratio
// of the median single-document read measured in the same run.
func BenchmarkSlotsLoad(b *testing.B) {
	s := benchStack(b)
	st := s.Platform.Store
	seedStaff(b, st, "s1")
	allowFreeForm(b, st, "t1")
	q := url.Values{"tenant": {"t1"}, "staff": {"s1"}, "durationMin": {"30"}, "from": {"2026-11-02T00:00:00+01:00"}, "to": {"2026-11-09T00:00:00+01:00"}}
	u := s.Function("Slots") + "/?" + q.Encode()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	// timed fetches one Slots answer and returns how long it took.
	timed := func(u string) time.Duration {
		t0 := time.Now()
		resp, err := client.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		return time.Since(t0)
	}
	get := func() time.Duration { return timed(u) }
	for range 20 { // warm up
		get()
	}
	b.ResetTimer()
	// Sequential: Slots vs one document read, interleaved, and the split of a Slots request:
	// the same query in-process (slotquery's reads + the engine, no HTTP), and the engine
	// alone on data loaded once. HTTP + JSON = Slots − in-process; reads = in-process − engine.
	const seq = 200
	ctx := context.Background()
	pq, err := slotquery.ParseQuery(q)
	if err != nil {
		b.Fatal(err)
	}
	idx := &slotquery.CalendarIndex{TTL: time.Hour}
	now := time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC)
	rules, busy, books, _, err := slotquery.Load(ctx, st, "t1", "s1", pq.From, pq.To)
	if err != nil {
		b.Fatal(err)
	}
	var slotsLat, readLat, inprocLat, engineLat []time.Duration
	for range seq {
		slotsLat = append(slotsLat, get())
		t0 := time.Now()
		if _, err := st.Staff("t1", "s1").Get(ctx); err != nil {
			b.Fatal(err)
		}
		readLat = append(readLat, time.Since(t0))
		t0 = time.Now()
		if _, err := slotquery.SlotsWithIndex(ctx, st, idx, pq, now); err != nil {
			b.Fatal(err)
		}
		inprocLat = append(inprocLat, time.Since(t0))
		t0 = time.Now()
		if _, err := availability.Compute(rules, busy, books, availability.Request{Duration: pq.Duration, From: pq.From, To: pq.To, Now: now}); err != nil {
			b.Fatal(err)
		}
		engineLat = append(engineLat, time.Since(t0))
	}
	// staff=any over 20 staff members, against the same run's document read.
	for k := 2; k <= 20; k++ {
		seedStaff(b, st, fmt.Sprintf("s%d", k))
	}
	qa := url.Values{"tenant": {"t1"}, "staff": {"any"}, "durationMin": {"30"}, "from": {"2026-11-02T00:00:00+01:00"}, "to": {"2026-11-09T00:00:00+01:00"}}
	ua := s.Function("Slots") + "/?" + qa.Encode()
	getAny := func() time.Duration { return timed(ua) }
	for range 5 {
		getAny()
	}

	pqa, err := slotquery.ParseQuery(qa)
	if err != nil {
		b.Fatal(err)
	}
	// The floor for that answer: one GetAll of as many documents of the same kinds.
	var floorRefs []*firestore.DocumentRef
	for k := 1; k <= 20; k++ {
		sk := fmt.Sprintf("s%d", k)
		floorRefs = append(floorRefs, st.Staff("t1", sk), st.Connection("t1", sk, "g1"))
		for _, m := range []string{"2026-10", "2026-11"} {
			floorRefs = append(floorRefs, st.Busy("t1", sk).Doc(store.BookingIndexDocID(m)))
			for _, c := range []string{"c1", "c2"} {
				floorRefs = append(floorRefs, st.Busy("t1", sk).Doc(store.BusyDocID("g1", c, m)))
			}
		}
	}
	var anyLat, readLat2, anyInproc, floorLat, anyAnswer []time.Duration
	svc := &slotsvc.Service{Store: st, Index: idx}
	anyReads, anySlots := 0, 0
	for range seq / 4 {
		anyLat = append(anyLat, getAny())
		t0 := time.Now()
		if _, err := st.Staff("t1", "s1").Get(ctx); err != nil {
			b.Fatal(err)
		}
		readLat2 = append(readLat2, time.Since(t0))
		t0 = time.Now()
		res, err := slotquery.SlotsWithIndex(ctx, st, idx, pqa, now)
		if err != nil {
			b.Fatal(err)
		}
		anyInproc = append(anyInproc, time.Since(t0))
		t0 = time.Now()
		if _, err := svc.Answer(ctx, pqa, now); err != nil {
			b.Fatal(err)
		}
		anyAnswer = append(anyAnswer, time.Since(t0))
		anyReads, anySlots = res.Reads, len(res.Slots)
		t0 = time.Now()
		if _, err := st.GetAll(ctx, floorRefs[:min(anyReads, len(floorRefs))]); err != nil {
			b.Fatal(err)
		}
		floorLat = append(floorLat, time.Since(t0))
	}
	// Concurrent: bounded load loop, 8 workers × 250 requests.
	const workers, per = 8, 250
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	t0 := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, per)
			for range per {
				local = append(local, get())
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	b.StopTimer()
	p50s, p50r := pct(slotsLat, 0.5), pct(readLat, 0.5)
	b.ReportMetric(float64(workers*per)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(pct(lat, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(p50s.Microseconds())/1000, "seq-p50-ms")
	b.ReportMetric(float64(p50r.Microseconds())/1000, "docread-p50-ms")
	b.ReportMetric(float64(p50s)/float64(p50r), "ratio")
	p50i, p50e := pct(inprocLat, 0.5), pct(engineLat, 0.5)
	b.ReportMetric(float64(p50i)/float64(p50r), "ratio-inprocess")
	b.ReportMetric(float64(pct(anyLat, 0.5))/float64(pct(readLat2, 0.5)), "ratio-any20")
	us := func(d time.Duration) string { return benchtable.F(float64(d.Microseconds())/1000, 2) }
	benchtable.Emit(benchtable.Table{Title: "Slots latency split (BenchmarkSlotsLoad, sequential medians, same run)",
		Columns: []string{"what", "median ms", "× one document read"},
		Rows: [][]string{
			{"one Firestore document read (staff doc)", us(p50r), "1.00"},
			{"Slots over HTTP (what the widget waits for)", us(p50s), benchtable.F(float64(p50s)/float64(p50r), 2) + " (target ≤ 1.5)"},
			{"of which HTTP + JSON (Slots − in-process)", us(p50s - p50i), benchtable.F(float64(p50s-p50i)/float64(p50r), 2)},
			{"slotquery in-process: reads + engine", us(p50i), benchtable.F(float64(p50i)/float64(p50r), 2)},
			{"of which reads (in-process − engine)", us(p50i - p50e), benchtable.F(float64(p50i-p50e)/float64(p50r), 2)},
			{"of which engine (availability.Compute)", us(p50e), benchtable.F(float64(p50e)/float64(p50r), 2)},
			{"staff=any over 20 staff, over HTTP", us(pct(anyLat, 0.5)), benchtable.F(float64(pct(anyLat, 0.5))/float64(pct(readLat2, 0.5)), 2) + " (target ≤ 3)"},
			{"of which slotquery in-process (one GetAll of " + strconv.Itoa(anyReads) + " documents + 20 × engine)", us(pct(anyInproc, 0.5)), benchtable.F(float64(pct(anyInproc, 0.5))/float64(pct(readLat2, 0.5)), 2)},
			{"one GetAll of as many documents of the same kinds (the floor of that answer)", us(pct(floorLat, 0.5)), benchtable.F(float64(pct(floorLat, 0.5))/float64(pct(readLat2, 0.5)), 2)},
			{"slotsvc.Answer in-process (tenant config, slotquery, encoding " + strconv.Itoa(anySlots) + " slots)", us(pct(anyAnswer, 0.5)), benchtable.F(float64(pct(anyAnswer, 0.5))/float64(pct(readLat2, 0.5)), 2)},
			{"of which HTTP + JSON (" + strconv.Itoa(anySlots) + " slots)", us(pct(anyLat, 0.5) - pct(anyInproc, 0.5)), benchtable.F(float64(pct(anyLat, 0.5)-pct(anyInproc, 0.5))/float64(pct(readLat2, 0.5)), 2)},
		},
		Notes: "Latency ratios are timed figures on a shared machine: reported here, not asserted (bench-smoke asserts only counts)."})
}

func bookOnce(b *testing.B, client *http.Client, u, staff string, start time.Time) int {
	body, _ := json.Marshal(bookBody("t1", staff, start.Format(time.RFC3339), 30))
	resp, err := client.Post(u, "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// BenchmarkBookings: bookings/s through Book over loopback against the emulator, with 8
// concurrent clients, for distinct staff members (no contention) and for one staff member
// (every booking on the same few days: serialised by the per-day lock docs).
func BenchmarkBookings(b *testing.B) {
	for _, mode := range []string{"different-staff", "one-staff"} {
		b.Run(mode, func(b *testing.B) {
			s := benchStack(b)
			st := s.Platform.Store
			const workers, per = 8, 25
			for w := range workers {
				seedStaff(b, st, fmt.Sprintf("s%d", w))
			}
			allowFreeForm(b, st, "t1")
			u := s.Function("Book") + "/"
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			loc, _ := time.LoadLocation("Europe/Berlin")
			b.ResetTimer()
			var wg sync.WaitGroup
			var mu sync.Mutex
			created := 0
			t0 := time.Now()
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range per {
						staff := fmt.Sprintf("s%d", w)
						k := i*workers + w // distinct slot across all workers
						if mode == "one-staff" {
							staff = "s0"
						} else {
							k = i
						}
						day := time.Date(2026, 11, 3+k/16%3, 9, 0, 0, 0, loc).AddDate(0, 0, 7*(k/48))
						start := day.Add(time.Duration(k%16) * 30 * time.Minute)
						if code := bookOnce(b, client, u, staff, start); code == 201 {
							mu.Lock()
							created++
							mu.Unlock()
						} else {
							b.Errorf("%s %s: %d", staff, start, code)
						}
					}
				}()
			}
			wg.Wait()
			el := time.Since(t0)
			b.StopTimer()
			b.ReportMetric(float64(created)/el.Seconds(), "bookings/s")
		})
	}
}
