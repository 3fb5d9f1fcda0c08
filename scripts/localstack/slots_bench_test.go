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
	"sync"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/secrets"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/testenv"
)

// benchStack starts the functions on a fresh emulator project with a fake clock at
// Monday 2026-11-02 08:00 Berlin.
func benchStack(b *testing.B) *Stack {
	b.Helper()
	testenv.Require(b, "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")
	fg := fakegoogle.New(fakegoogle.Options{Start: time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC)})
	gsrv := httptest.NewServer(fg.Handler())
	b.Cleanup(gsrv.Close)
	fg.SetBaseURL(gsrv.URL)
	sec := secrets.NewStatic(nil, nil)
	env := config.Env{Project: testenv.Project(b), ClockURL: fg.ClockURL(), WidgetOrigins: []string{widgetOrigin}, ExportFields: []string{"service"}}
	// Deployed, "now" is the system clock; the local CLOCK_URL costs an HTTP round trip per
	// request that production never pays, so the benchmark reads the fake's clock in-process.
	st, err := Start(context.Background(), Options{Env: env, Deps: platform.Deps{Secrets: sec, LogWriter: io.Discard, Clock: fg.Clock()}})
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
	get := func() time.Duration {
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
	for range 20 { // warm up
		get()
	}
	b.ResetTimer()
	// Sequential: Slots vs one document read, interleaved.
	const seq = 200
	var slotsLat, readLat []time.Duration
	for range seq {
		slotsLat = append(slotsLat, get())
		t0 := time.Now()
		if _, err := st.Staff("t1", "s1").Get(context.Background()); err != nil {
			b.Fatal(err)
		}
		readLat = append(readLat, time.Since(t0))
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
