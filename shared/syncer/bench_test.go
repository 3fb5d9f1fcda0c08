package syncer_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkFullSync10k: the first sync of a calendar holding 10,000 events (within the
// window) at maxResults=2500 — Google list calls, Firestore writes, wall time per sync.
func BenchmarkFullSync10k(b *testing.B) {
	var lists, writes, written int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newEnv(b)
		for j := range 10000 {
			st := t0.Add(time.Duration(j) * 37 * time.Minute)
			if _, err := e.FG.CreateEvent(e.Cal, timed(fmt.Sprintf("e%d", j), st, 30*time.Minute)); err != nil {
				b.Fatal(err)
			}
		}
		e.FG.ResetCalls()
		b.StartTimer()
		st := e.mustRun()
		b.StopTimer()
		if st.Written != 10000 {
			b.Fatalf("written %d", st.Written)
		}
		lists += e.FG.Calls("events.list")
		writes += st.Writes
		written += st.Written
		b.StartTimer()
	}
	b.ReportMetric(float64(lists)/float64(b.N), "list-calls/op")
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
		e.create(timed("new", t0.Add(time.Duration(i)*time.Minute), time.Hour))
		if st := e.mustRun(); st.Written != 1 || st.Full {
			b.Fatalf("stats %+v", st)
		}
	}
	b.ReportMetric(float64(e.FG.Calls("events.list"))/float64(b.N), "list-calls/op")
}

// BenchmarkStorm200: one change, then 200 notifications for the calendar delivered at
// once (200 concurrent messages) — how many sync passes and list calls they cost.
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
				st, err := e.S.RunStats(context.Background(), e.Msg, e.FG.Now())
				if err != nil {
					b.Error(err)
				}
				passes.Add(int64(st.Runs))
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(passes.Load())/float64(b.N), "sync-runs/storm")
	b.ReportMetric(float64(e.FG.Calls("events.list"))/float64(b.N), "list-calls/storm")
	if c := e.calDoc(); c.LeaseOwner != "" || c.Dirty {
		b.Fatalf("lease %q dirty %v after the storm", c.LeaseOwner, c.Dirty)
	}
	e.converged()
}
