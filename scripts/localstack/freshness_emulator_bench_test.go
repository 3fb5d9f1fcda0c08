package localstack

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/belbo/calsync/shared/benchtable"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/testenv"
)

// BenchmarkFreshnessEmulatorPush measures the Pub/Sub emulator's own push delivery with
// nothing of ours behind it, to tell the emulator's share of BenchmarkFreshness/load from
// the syncer's: n messages are published at once to a topic whose push subscription points
// at a handler that answers 204 after a fixed time (0 = an empty handler; the others stand
// in for a SyncCalendar run of that length). Reported: publish → push arrival per message
// and the most pushes in flight at once. The emulator (0.8.x) runs two push loops per
// subscription, each pushing one message and waiting for its answer, and polls an empty
// backlog every 100 ms (so a lone message waits 0–100 ms for its push); so with handler time d the k-th message arrives after about k/2 × d.
// Production Pub/Sub pushes many messages at once (up to SyncCalendar's max instances).
func BenchmarkFreshnessEmulatorPush(b *testing.B) {
	testenv.Require(b, "PUBSUB_EMULATOR_HOST")
	n := 20
	if benchtable.Full() {
		n = 100
	}
	emulatorPush(b, n, 0, false) // warm-up: the emulator's JIT and connections, as a running stack has them
	for i := 0; i < b.N; i++ {
		one, _ := emulatorPush(b, n, 0, true)
		rows := [][]string{pctRow("publish → push arrival, one message at a time (idle subscription), empty handler", one, "")}
		b.ReportMetric(float64(pctDur(one, 0.5).Microseconds())/1000, "one-at-a-time-p50-ms")
		var note string
		for _, d := range []time.Duration{0, 20 * time.Millisecond, 50 * time.Millisecond} {
			arr, inFlight := emulatorPush(b, n, d, false)
			rows = append(rows, pctRow(fmt.Sprintf("publish → push arrival, handler answers after %d ms", d.Milliseconds()), arr, ""))
			note += fmt.Sprintf(" %d ms: %d;", d.Milliseconds(), inFlight)
			if d == 0 {
				b.ReportMetric(float64(pctDur(arr, 0.99).Microseconds())/1000, "empty-handler-p99-ms")
				b.ReportMetric(float64(inFlight), "max-in-flight")
			}
		}
		benchtable.Emit(benchtable.Table{Title: fmt.Sprintf("Pub/Sub emulator push delivery alone: %d messages published at once (BenchmarkFreshnessEmulatorPush)", n),
			Columns: []string{"stage", "n", "p50 ms", "p90 ms", "p99 ms", "max ms", "target"}, Rows: rows,
			Notes: "No function of ours runs: the handler only waits. Most pushes in flight at once, by handler time:" + note[:len(note)-1] + ". This is the ceiling BenchmarkFreshness/load runs into: with runs of d ms, the k-th of n simultaneous changes is received after about k/2 × d."})
	}
}

// emulatorPush publishes n messages at once (or, sequential, each after the previous one
// arrived) to a fresh topic with a push subscription to a handler that answers after d, and
// returns each message's publish → arrival time and the most pushes in flight at once.
func emulatorPush(b *testing.B, n int, d time.Duration, sequential bool) ([]time.Duration, int) {
	b.Helper()
	ctx := context.Background()
	project := testenv.Project(b)
	var mu sync.Mutex
	var arrivals []time.Duration
	cur, most := 0, 0
	got := make(chan struct{}, n*4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(r.Body)
		env, err := messages.ParseEnvelope(body)
		sent, perr := time.Parse(time.RFC3339Nano, string(env.Message.Data))
		mu.Lock()
		cur++
		most = max(most, cur)
		if err == nil && perr == nil {
			arrivals = append(arrivals, at.Sub(sent))
		}
		mu.Unlock()
		time.Sleep(d)
		mu.Lock()
		cur--
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		got <- struct{}{}
	}))
	defer srv.Close()
	ps, err := pubsub.NewClient(ctx, project)
	if err != nil {
		b.Fatal(err)
	}
	defer ps.Close()
	topic := "projects/" + project + "/topics/probe"
	if _, err := ps.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil {
		b.Fatal(err)
	}
	sub := &pubsubpb.Subscription{Name: "projects/" + project + "/subscriptions/probe-push", Topic: topic,
		PushConfig: &pubsubpb.PushConfig{PushEndpoint: srv.URL + "/push"}, AckDeadlineSeconds: 60}
	if _, err := ps.SubscriptionAdminClient.CreateSubscription(ctx, sub); err != nil {
		b.Fatal(err)
	}
	// The emulator's push loops poll every subscription until it is deleted.
	defer ps.SubscriptionAdminClient.DeleteSubscription(ctx, &pubsubpb.DeleteSubscriptionRequest{Subscription: sub.Name})
	pub := ps.Publisher("probe")
	pub.PublishSettings.DelayThreshold = time.Millisecond
	defer pub.Stop()
	publish := func() {
		res := pub.Publish(ctx, &pubsub.Message{Data: []byte(time.Now().Format(time.RFC3339Nano))})
		if _, err := res.Get(ctx); err != nil {
			b.Error(err)
		}
	}
	deadline := time.After(time.Duration(n)*d + 60*time.Second)
	if sequential {
		for k := range n {
			publish()
			select {
			case <-got:
			case <-deadline:
				b.Fatalf("only %d of %d pushes arrived", k, n)
			}
			time.Sleep(time.Duration(k%10) * 25 * time.Millisecond) // spread over the emulator's 100 ms idle poll
		}
		mu.Lock()
		defer mu.Unlock()
		return arrivals, most
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(publish)
	}
	wg.Wait()
	for k := 0; k < n; k++ {
		select {
		case <-got:
		case <-deadline:
			b.Fatalf("only %d of %d pushes arrived", k, n)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return arrivals, most
}
