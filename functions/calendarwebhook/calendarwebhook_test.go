package calendarwebhook

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
)

// Channel ids of the shape watch.NewChannelID makes.
const (
	ch1 = "ch-0123456789abcdef0123456789abcdef"
	ch2 = "ch-fedcba9876543210fedcba9876543210"
)

type fakeEnv struct {
	reads     atomic.Int64
	published []messages.Sync
	mu        sync.Mutex
	failPub   bool
	failRead  bool
}

func (f *fakeEnv) handler() *Handler {
	lookups := map[string]*store.ChannelLookup{
		ch1: {Tenant: "t1", Staff: "s1", Connection: "c1", Calendar: "cal1", TokenHash: store.HashToken("secret"), ResourceID: "res1"},
	}
	return &Handler{
		Channels: func(ctx context.Context, id string) (*store.ChannelLookup, error) {
			f.reads.Add(1)
			if f.failRead {
				return nil, errors.New("firestore down")
			}
			return lookups[id], nil
		},
		Publish: func(ctx context.Context, topic string, v any) error {
			if f.failPub {
				return errors.New("pubsub down")
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			f.published = append(f.published, v.(messages.Sync))
			return nil
		},
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
}

type panicBody struct{}

func (panicBody) Read([]byte) (int, error) { panic("the body must never be read") }

func notify(h http.Handler, method, id, tok, res, state string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/", nil)
	r.Body = io.NopCloser(panicBody{})
	for k, v := range map[string]string{"X-Goog-Channel-ID": id, "X-Goog-Channel-Token": tok, "X-Goog-Resource-ID": res, "X-Goog-Resource-State": state, "X-Goog-Message-Number": "7"} {
		if v != "" {
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandler(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                        string
		method, id, tok, res, state string
		failPub, failRead           bool
		code                        int
		publishes                   int
		reads                       int64
	}{
		{"exists publishes", "POST", ch1, "secret", "res1", "exists", false, false, 200, 1, 1},
		{"not_exists publishes", "POST", ch1, "secret", "res1", "not_exists", false, false, 200, 1, 1},
		{"sync answered", "POST", ch1, "secret", "res1", "sync", false, false, 200, 0, 1},
		{"wrong token", "POST", ch1, "nope", "res1", "exists", false, false, 200, 0, 1},
		{"wrong resource", "POST", ch1, "secret", "res2", "exists", false, false, 200, 0, 1},
		{"unknown channel", "POST", ch2, "secret", "res1", "exists", false, false, 200, 0, 1},
		{"GET", "GET", ch1, "secret", "res1", "exists", false, false, 405, 0, 0},
		{"bad headers", "POST", "ch 1", "secret", "res1", "exists", false, false, 400, 0, 0},
		{"publish fails", "POST", ch1, "secret", "res1", "exists", true, false, 503, 0, 1},
		{"lookup fails", "POST", ch1, "secret", "res1", "exists", false, true, 503, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeEnv{failPub: c.failPub, failRead: c.failRead}
			w := notify(f.handler(), c.method, c.id, c.tok, c.res, c.state)
			if w.Code != c.code || len(f.published) != c.publishes || f.reads.Load() != c.reads {
				t.Fatalf("code %d publishes %d reads %d", w.Code, len(f.published), f.reads.Load())
			}
			if c.code >= 400 && !strings.Contains(w.Body.String(), `"error"`) {
				t.Fatalf("error body not JSON: %s", w.Body)
			}
			if c.publishes == 1 && (f.published[0].NotifiedAt.IsZero() || time.Since(f.published[0].NotifiedAt) > time.Minute) {
				t.Fatalf("published without the time the notification arrived: %+v", f.published[0])
			}
			if c.publishes == 1 {
				f.published[0].NotifiedAt = time.Time{}
			}
			if c.publishes == 1 && (f.published[0] != messages.Sync{Tenant: "t1", Staff: "s1", Connection: "c1", Calendar: "cal1", Reason: "push"}) {
				t.Fatalf("published %+v", f.published[0])
			}
		})
	}
}

// BenchmarkWebhookLoopback drives the handler over real loopback HTTP with a bounded
// in-Go load generator (64 workers) and reports requests/s, p99 and errors.
func BenchmarkWebhookLoopback(b *testing.B) {
	f := &fakeEnv{}
	if errs := loadWebhook(b, f.handler(), 64); errs > 0 {
		b.Fatalf("%d errors", errs)
	}
}

// loadWebhook sends b.N valid `exists` notifications to h over loopback HTTP from a fixed
// number of workers, reports req/s, p99 and errors, and returns the error count.
func loadWebhook(b *testing.B, h http.Handler, workers int) int64 {
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	var next, errs atomic.Int64
	lat := make([][]time.Duration, workers)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				req, _ := http.NewRequest("POST", srv.URL, nil)
				req.Header.Set("X-Goog-Channel-ID", ch1)
				req.Header.Set("X-Goog-Channel-Token", "secret")
				req.Header.Set("X-Goog-Resource-ID", "res1")
				req.Header.Set("X-Goog-Resource-State", "exists")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs.Add(1)
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "req/s")
	b.ReportMetric(float64(errs.Load()), "errors")
	return errs.Load()
}
