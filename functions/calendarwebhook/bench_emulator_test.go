package calendarwebhook

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/testenv"
)

// BenchmarkWebhookFirestore is BenchmarkWebhookLoopback with the real channel lookup (one
// read of channels/{id} on the Firestore emulator) and a publisher that accepts at once,
// so the figure is the webhook's own cost, not the Pub/Sub emulator's.
func BenchmarkWebhookFirestore(b *testing.B) {
	fs, _ := testenv.Firestore(b)
	ctx := context.Background()
	if _, err := fs.Collection("channels").Doc("ch-1").Set(ctx, store.ChannelLookup{Tenant: "t1", Staff: "s1", Connection: "c1", Calendar: "cal1",
		TokenHash: store.HashToken("secret"), ResourceID: "res1"}); err != nil {
		b.Fatal(err)
	}
	var published atomic.Int64
	h := &Handler{Channels: FirestoreChannels(fs), Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Publish: func(context.Context, string, any) error { published.Add(1); return nil }}
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	const workers = 32
	var next, errs atomic.Int64
	lat := make([][]time.Duration, workers)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				req, _ := http.NewRequest("POST", srv.URL, nil)
				req.Header.Set("X-Goog-Channel-ID", "ch-1")
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
		}()
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
	if errs.Load() > 0 || published.Load() != int64(b.N) {
		b.Fatalf("%d errors, %d published of %d", errs.Load(), published.Load(), b.N)
	}
}
