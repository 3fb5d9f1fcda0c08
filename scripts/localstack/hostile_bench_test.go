package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/secrets"
	"github.com/belbo/calsync/shared/slotquery"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/tenant"
	"github.com/belbo/calsync/shared/testenv"
)

// allowFreeForm lets tenant book free-form with limits that never trigger: the older
// benchmarks measure throughput and latency, not the catalogue or the limits.
func allowFreeForm(b *testing.B, st *store.Store, t string) {
	b.Helper()
	patch := `{"freeFormBooking":true,"limits":{"perIp":{"hour":100000,"day":100000},"perEmail":{"hour":100000,"day":100000},"perStaff":{"hour":100000,"day":100000},"perTenant":{"hour":100000,"day":100000}}}`
	if _, err := st.PatchTenantSettings(context.Background(), t, []byte(patch), time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC)); err != nil {
		b.Fatal(err)
	}
}

// readCounter counts Firestore documents read as billed: one per document a
// BatchGetDocuments or RunQuery stream returns (found or missing), and one for a query
// that returns nothing.
type readCounter struct{ n atomic.Int64 }

// option is a connection to the emulator that counts: the Firestore client ignores
// dial options when FIRESTORE_EMULATOR_HOST is set, but takes a ready connection.
func (c *readCounter) option(b *testing.B) option.ClientOption {
	conn, err := grpc.NewClient(os.Getenv("FIRESTORE_EMULATOR_HOST"),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(emulatorOwner{}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			s, err := streamer(ctx, desc, cc, method, opts...)
			if err != nil {
				return s, err
			}
			return &countingStream{ClientStream: s, c: c, query: strings.HasSuffix(method, "/RunQuery")}, nil
		}))
	if err != nil {
		b.Fatal(err)
	}
	return option.WithGRPCConn(conn)
}

// emulatorOwner is the credential the Firestore client itself sends to the emulator.
type emulatorOwner struct{}

func (emulatorOwner) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer owner"}, nil
}
func (emulatorOwner) RequireTransportSecurity() bool { return false }

type countingStream struct {
	grpc.ClientStream
	c     *readCounter
	query bool
	docs  int
}

func (s *countingStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	switch r := m.(type) {
	case *firestorepb.BatchGetDocumentsResponse:
		if err == nil && (r.GetFound() != nil || r.GetMissing() != "") {
			s.docs++
			s.c.n.Add(1)
		}
	case *firestorepb.RunQueryResponse:
		if err == nil && r.GetDocument() != nil {
			s.docs++
			s.c.n.Add(1)
		}
		if errors.Is(err, io.EOF) && s.query && s.docs == 0 {
			s.c.n.Add(1)
		}
	}
	return err
}

func rssKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// BenchmarkHostileLoad: on loopback against the emulators, an honest customer loads the
// widget's slots and books, first alone and then while many "clients" (each request from
// another X-Forwarded-For address) flood Slots (random ids, cache-busting parameters,
// the widest range with a new start each time) and Book (random ids, 8-hour free-form
// grabs, oversized and non-JSON bodies, and real slot grabs with a few e-mail
// addresses). It asserts that every honest booking succeeds, that nothing answers 5xx
// and that memory stays flat, and reports the figures of docs/benchmarks.md.
func BenchmarkHostileLoad(b *testing.B) {
	testenv.Require(b, "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")
	fg := fakegoogle.New(fakegoogle.Options{Start: time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC)})
	gsrv := httptest.NewServer(fg.Handler())
	b.Cleanup(gsrv.Close)
	fg.SetBaseURL(gsrv.URL)
	reads := &readCounter{}
	// The deployed configuration: the Slots answer cache on, default limits.
	env := config.Env{Platform: config.Platform{Project: testenv.Project(b), ClockURL: fg.ClockURL()}, Widget: config.Widget{WidgetOrigins: []string{widgetOrigin}},
		Export: config.Export{ExportFields: []string{"service"}}, SlotsCache: config.SlotsCache{SlotsCacheTTL: 5 * time.Second}}
	logs := &logBuffer{}
	s, err := Start(context.Background(), Options{Env: env, Deps: platform.Deps{Secrets: secrets.NewStatic(nil, nil), LogWriter: logs, Clock: fg.Clock(), FirestoreOptions: []option.ClientOption{reads.option(b)}}, TopicsOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	b.Cleanup(func() {
		if b.Failed() {
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, `"severity":"ERROR"`) {
					b.Log(l)
				}
			}
		}
	})
	st := s.Platform.Store
	ctx := context.Background()
	for _, staff := range []string{"anna", "ben"} {
		r := availability.Default()
		r.HorizonDays = 90
		if _, err := st.Staff("t1", staff).Set(ctx, map[string]any{"availability": r}); err != nil {
			b.Fatal(err)
		}
	}
	now := fg.Now()
	for _, sv := range []tenant.Service{{ID: "cut", Name: "Haircut", DurationMin: 30, Staff: []string{"anna"}}, {ID: "colour", Name: "Colour", DurationMin: 60, Staff: []string{"ben"}}} {
		if _, err := st.PutService(ctx, "t1", sv, now); err != nil {
			b.Fatal(err)
		}
	}
	slotsURL, bookURL := s.Function("Slots")+"/?", s.Function("Book")+"/"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}, Timeout: 60 * time.Second}
	var fives atomic.Int64
	do := func(method, u, ctype, ip string, body []byte) (int, []byte, time.Duration) {
		req, _ := http.NewRequest(method, u, bytes.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		req.Header.Set("X-Forwarded-For", ip)
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Errorf("%s %s: %v", method, u, err)
			return 0, nil, 0
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			if fives.Add(1) > 5 {
				return resp.StatusCode, out, time.Since(t0)
			}
			b.Errorf("5xx: %s %s → %d %s", method, u[:min(len(u), 120)], resp.StatusCode, out)
		}
		return resp.StatusCode, out, time.Since(t0)
	}

	// The honest customer: 20 widget loads of one week (the widget refreshes every few
	// seconds) and 4 bookings, each of a slot it was just offered.
	honest := func(phase int) (lat, bookLat []time.Duration, booked int, err error) {
		ip := fmt.Sprintf("192.0.2.%d", 10+phase)
		week := time.Date(2026, 11, 9+7*phase, 0, 0, 0, 0, time.UTC)
		q := url.Values{"tenant": {"t1"}, "staff": {"anna"}, "serviceId": {"cut"}, "from": {week.Format(time.RFC3339)}, "to": {week.AddDate(0, 0, 7).Format(time.RFC3339)}, "tz": {"Europe/Berlin"}}
		for i := 0; i < 24; i++ {
			code, body, d := do("GET", slotsURL+q.Encode(), "", ip, nil)
			lat = append(lat, d)
			if code != 200 {
				return lat, bookLat, booked, fmt.Errorf("honest slots: %d %s", code, body)
			}
			if i%6 != 5 {
				continue
			}
			var res struct {
				Slots []struct{ Start string } `json:"slots"`
			}
			if err := json.Unmarshal(body, &res); err != nil || len(res.Slots) <= booked*3 {
				return lat, bookLat, booked, fmt.Errorf("honest slots: %v %s", err, body)
			}
			// A slot well apart from the ones booked before (the cached list may still
			// show them for a few seconds).
			start := res.Slots[booked*3].Start
			bb, _ := json.Marshal(serviceBody("t1", "anna", start, "cut", "Honest Customer", fmt.Sprintf("honest%d@example.org", phase)))
			code, out, d := do("POST", bookURL, "application/json", ip, bb)
			lat, bookLat = append(lat, d), append(bookLat, d)
			if code != 201 {
				return lat, bookLat, booked, fmt.Errorf("honest booking %d of phase %d at %s: %d %s", booked+1, phase, start, code, out)
			}
			booked++
			q.Set("from", week.Add(time.Duration(booked)*time.Second).Format(time.RFC3339)) // a new list after booking
		}
		return lat, bookLat, booked, nil
	}

	var hostile, limited atomic.Int64
	flood := func(stop <-chan struct{}, worker int) {
		rnd := rand.New(rand.NewPCG(uint64(worker), 42))
		rid := func() string { return fmt.Sprintf("x%08x", rnd.Uint32()) }
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ip := fmt.Sprintf("10.%d.%d.%d", worker, rnd.IntN(256), rnd.IntN(256))
			from := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC).Add(time.Duration(rnd.IntN(100000)) * time.Second)
			wide := url.Values{"tenant": {"t1"}, "staff": {"any"}, "serviceId": {"cut"}, "from": {from.Format(time.RFC3339)}, "to": {from.Add(slotquery.MaxRange).Format(time.RFC3339)}}
			var code int
			var body []byte
			switch i % 9 {
			case 0: // random tenant, staff and service, widest range
				q := url.Values{"tenant": {rid()}, "staff": {rid()}, "serviceId": {rid()}, "from": wide["from"], "to": wide["to"]}
				code, body, _ = do("GET", slotsURL+q.Encode(), "", ip, nil)
			case 1: // cache busting
				code, body, _ = do("GET", slotsURL+wide.Encode()+"&_="+rid(), "", ip, nil)
			case 2: // the widest range of the real tenant, a new start each time (a cache miss)
				code, body, _ = do("GET", slotsURL+wide.Encode(), "", ip, nil)
			case 3: // free-form duration on Slots
				q := url.Values{"tenant": {"t1"}, "staff": {"any"}, "durationMin": {"480"}, "from": wide["from"], "to": wide["to"]}
				code, body, _ = do("GET", slotsURL+q.Encode(), "", ip, nil)
			case 4: // random ids on Book
				bb, _ := json.Marshal(serviceBody(rid(), rid(), "2026-11-04T10:00:00+01:00", rid(), "x", "x@example.org"))
				code, body, _ = do("POST", bookURL, "application/json", ip, bb)
			case 5: // an 8-hour free-form grab
				bb, _ := json.Marshal(map[string]any{"tenant": "t1", "staff": "ben", "start": "2026-11-04T09:00:00+01:00", "durationMin": 480, "service": "http://spam.example", "customer": map[string]string{"name": "x", "email": "x@example.org"}})
				code, body, _ = do("POST", bookURL, "application/json", ip, bb)
			case 6: // an oversized body
				code, body, _ = do("POST", bookURL, "application/json", ip, bytes.Repeat([]byte("x"), 64<<10))
			case 7: // a cross-site form post
				code, body, _ = do("POST", bookURL, "text/plain", ip, []byte(`{"tenant":"t1"}`))
			case 8: // real slot grabs on ben with three e-mail addresses from ever new addresses
				day := time.Date(2026, 11, 3+rnd.IntN(3), 9+rnd.IntN(8), 0, 0, 0, time.FixedZone("", 3600))
				bb, _ := json.Marshal(serviceBody("t1", "ben", day.Format(time.RFC3339), "colour", "Grabber", fmt.Sprintf("grab%d@example.org", rnd.IntN(3))))
				code, body, _ = do("POST", bookURL, "application/json", ip, bb)
			}
			hostile.Add(1)
			if code == 429 {
				limited.Add(1)
			}
			_ = body
		}
	}

	b.ResetTimer()
	for range b.N {
		heap0, rss0 := heapInUse(), rssKiB()
		r0 := reads.n.Load()
		baseLat, baseBook, baseBooked, err0 := honest(0)
		honestReads := reads.n.Load() - r0

		stop := make(chan struct{})
		var wg sync.WaitGroup
		const workers = 24
		for w := range workers {
			wg.Add(1)
			go func() { defer wg.Done(); flood(stop, w) }()
		}
		r1 := reads.n.Load()
		floodLat, floodBook, floodBooked, err1 := honest(1)
		close(stop)
		wg.Wait()
		if err := errors.Join(err0, err1); err != nil {
			b.Fatal(err)
		}
		floodReads := reads.n.Load() - r1
		heap1, rss1 := heapInUse(), rssKiB()

		if baseBooked != 4 || floodBooked != 4 {
			b.Fatalf("honest bookings: %d alone, %d under the flood; want 4 and 4", baseBooked, floodBooked)
		}
		if n := fives.Load(); n > 0 {
			b.Fatalf("%d answers were 5xx", n)
		}
		if limited.Load() == 0 {
			b.Fatal("the slot grabs were never limited")
		}
		// Memory stays flat: the Go heap after the flood (after a GC) within 32 MiB of
		// before, whatever ids and ranges the flood sent.
		if grow := int64(heap1) - int64(heap0); grow > 32<<20 {
			b.Fatalf("heap grew by %d MiB under the flood", grow>>20)
		}
		ms := func(d []time.Duration, p float64) float64 {
			return float64(pct(slices.Clone(d), p)) / float64(time.Millisecond)
		}
		b.ReportMetric(float64(baseBooked+floodBooked), "honest-bookings")
		b.ReportMetric(float64(baseBooked+floodBooked), "honest-bookings-succeeded")
		b.ReportMetric(ms(baseLat, 0.5), "honest-p50-alone-ms")
		b.ReportMetric(ms(baseLat, 0.99), "honest-p99-alone-ms")
		b.ReportMetric(ms(floodLat, 0.5), "honest-p50-flood-ms")
		b.ReportMetric(ms(floodLat, 0.99), "honest-p99-flood-ms")
		b.ReportMetric(ms(baseBook, 0.5), "honest-book-p50-alone-ms")
		b.ReportMetric(ms(floodBook, 0.5), "honest-book-p50-flood-ms")
		b.ReportMetric(float64(hostile.Load()), "hostile-requests")
		b.ReportMetric(float64(limited.Load()), "hostile-429s")
		b.ReportMetric(float64(floodReads-honestReads)/float64(max(hostile.Load(), 1)), "reads/hostile-request")
		b.ReportMetric(float64(rss0)/1024, "rss-before-MiB")
		b.ReportMetric(float64(rss1)/1024, "rss-after-MiB")
		b.ReportMetric(float64(int64(heap1)-int64(heap0))/(1<<20), "heap-growth-MiB")
	}
}
