package syncer_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/opcount"
	"github.com/belbo/calsync/shared/store"
)

// counted points the env's store at a second Firestore client on the same emulator
// project whose gRPC connection counts every operation (shared/opcount): the figures the
// targets are checked against are what the emulator was asked, not the syncer's own Stats.
func (e *env) counted(b testing.TB) *opcount.Counter {
	b.Helper()
	project := strings.Split(e.Store.FS.Collection("x").Path, "/")[1]
	c := opcount.New()
	opts, err := c.FirestoreOptions()
	if err != nil {
		b.Fatal(err)
	}
	fs, err := firestore.NewClient(context.Background(), project, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { fs.Close() })
	st := store.New(fs)
	e.Store, e.S.Store, e.Acc.Store = st, st, st
	return c
}

// BenchmarkFullSync10k: the first sync of a calendar holding 10,000 events (within the
// window) at maxResults=2500 — Google list calls, Firestore writes, wall time per sync.
// Asserted: exactly ⌈10,000 / page size⌉ events.list calls (counted by the fake Google),
// and at most one write per event document (counted at the Firestore client's wire); the
// few bookkeeping writes (busy-month docs, the calendar doc) are reported separately.
func BenchmarkFullSync10k(b *testing.B) {
	const n, pageSize = 10000, 2500
	var lists, writes, written, eventWrites int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newEnv(b)
		c := e.counted(b)
		e.S.PageSize = pageSize
		for j := range n {
			st := t0.Add(time.Duration(j) * 37 * time.Minute)
			if _, err := e.FG.CreateEvent(e.Cal, timed(fmt.Sprintf("e%d", j), st, 30*time.Minute)); err != nil {
				b.Fatal(err)
			}
		}
		e.FG.ResetCalls()
		b.StartTimer()
		st := e.mustRun()
		b.StopTimer()
		if st.Written != n {
			b.Fatalf("written %d", st.Written)
		}
		l := e.FG.Calls("events.list")
		if want := (n + pageSize - 1) / pageSize; l != want {
			b.Errorf("full sync of %d events took %d events.list calls; want ⌈%d/%d⌉ = %d", n, l, n, pageSize, want)
		}
		ew := int(c.Get(opcount.FSWrites + ".events"))
		if ew > n {
			b.Errorf("full sync wrote %d event documents for %d events; want ≤ 1 per event", ew, n)
		}
		lists += l
		writes += int(c.Get(opcount.FSWrites) + c.Get(opcount.FSDeletes))
		eventWrites += ew
		written += st.Written
		b.StartTimer()
	}
	b.ReportMetric(float64(lists)/float64(b.N), "list-calls/op")
	b.ReportMetric(float64(eventWrites)/float64(written), "event-writes/event")
	b.ReportMetric(float64(writes)/float64(b.N), "fs-writes/op")
	b.ReportMetric(float64(written)/float64(b.N), "events/op")
}

// BenchmarkIncrementalChange: one event changed in Google, then one sync.
func BenchmarkIncrementalChange(b *testing.B) {
	e := newEnv(b)
	for j := range 200 {
		e.create(timed(fmt.Sprintf("e%d", j), t0.Add(time.Duration(j)*time.Hour), 30*time.Minute))
	}
	e.mustRun()
	e.FG.ResetCalls()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before := e.FG.Calls("events.list")
		e.create(timed("new", t0.Add(time.Duration(i)*time.Minute), time.Hour))
		if st := e.mustRun(); st.Written != 1 || st.Full {
			b.Fatalf("stats %+v", st)
		}
		if l := e.FG.Calls("events.list") - before; l != 1 {
			b.Errorf("incremental change %d took %d events.list calls; want 1", i, l)
		}
	}
	b.ReportMetric(float64(e.FG.Calls("events.list"))/float64(b.N), "list-calls/op")
}

// BenchmarkStorm200: one change, then 200 notifications for the calendar delivered at
// once (200 concurrent messages, stamped with their receipt time as CalendarWebhook does)
// — how many sync passes and list calls they cost; asserted ≤ 3. The same storm through
// the real webhook and Pub/Sub push: scripts/localstack BenchmarkStormPush.
func BenchmarkStorm200(b *testing.B) {
	e := newEnv(b)
	e.mustRun()
	e.FG.ResetCalls()
	var passes atomic.Int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.create(timed("x", t0.Add(time.Duration(i)*time.Minute), time.Hour))
		var wg sync.WaitGroup
		for range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m := e.Msg
				m.Reason, m.NotifiedAt = "push", time.Now() // stamped as CalendarWebhook does on receipt
				st, err := e.S.RunStats(context.Background(), m, e.FG.Now())
				if err != nil {
					b.Error(err)
				}
				passes.Add(int64(st.Runs))
			}()
		}
		wg.Wait()
	}
	if r := float64(passes.Load()) / float64(b.N); r > 3 {
		b.Errorf("a storm of 200 in-process messages cost %.1f sync runs; want ≤ 3", r)
	}
	b.ReportMetric(float64(passes.Load())/float64(b.N), "sync-runs/storm")
	b.ReportMetric(float64(e.FG.Calls("events.list"))/float64(b.N), "list-calls/storm")
	if c := e.calDoc(); c.LeaseOwner != "" || c.Dirty {
		b.Fatalf("lease %q dirty %v after the storm", c.LeaseOwner, c.Dirty)
	}
	e.converged()
}
