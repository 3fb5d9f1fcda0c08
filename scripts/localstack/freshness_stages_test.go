package localstack

import (
	"bufio"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// syncDone is one SyncCalendar run as its sync.done log line reports it (shared/syncer):
// the outcome, the wall time, the time from the webhook's receipt of Google's notification
// to the run's start, and the split of the wall time by phase.
type syncDone struct {
	Outcome         string `json:"outcome"`
	DurationMs      int64  `json:"durationMs"`
	SinceNotifiedMs int64  `json:"sinceNotifiedMs"`
	Took            struct {
		LeaseMs  int64 `json:"leaseMs"`
		OpenMs   int64 `json:"openMs"`
		ListMs   int64 `json:"listMs"`
		WriteMs  int64 `json:"writeMs"`
		RenewMs  int64 `json:"renewMs"`
		FinishMs int64 `json:"finishMs"`
		WaitMs   int64 `json:"waitMs"`
	} `json:"took"`
}

// syncRuns parses the sync.done lines the stack logged after byte offset from (the length
// of logs when the round began).
func syncRuns(logs string, from int) []syncDone {
	var out []syncDone
	sc := bufio.NewScanner(strings.NewReader(logs[min(from, len(logs)):]))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var d syncDone
		if strings.Contains(sc.Text(), `"event":"sync.done"`) && json.Unmarshal(sc.Bytes(), &d) == nil {
			out = append(out, d)
		}
	}
	return out
}

// runRows are the per-run rows of a freshness table: where each SyncCalendar run's time
// went (runs that took the lease and listed; coalesced runs are counted in the notes).
func runRows(runs []syncDone) [][]string {
	col := func(f func(syncDone) int64) []time.Duration {
		var ds []time.Duration
		for _, r := range runs {
			if r.Outcome == "ok" {
				ds = append(ds, time.Duration(f(r))*time.Millisecond)
			}
		}
		return ds
	}
	var notified []time.Duration
	for _, r := range runs {
		if r.SinceNotifiedMs > 0 {
			notified = append(notified, time.Duration(r.SinceNotifiedMs)*time.Millisecond)
		}
	}
	return [][]string{
		pctRow("· run: from the webhook's receipt to the run's start (every run)", notified, ""),
		pctRow("· run: wall time (runs that synced)", col(func(r syncDone) int64 { return r.DurationMs }), ""),
		pctRow("· · lease (calendar + connection reads, CAS)", col(func(r syncDone) int64 { return r.Took.LeaseMs }), ""),
		pctRow("· · open (time zone, clients)", col(func(r syncDone) int64 { return r.Took.OpenMs }), ""),
		pctRow("· · Google events.list (incl. token refresh)", col(func(r syncDone) int64 { return r.Took.ListMs }), ""),
		pctRow("· · page transaction (events read, writes; finishes the pass on an incremental last page)", col(func(r syncDone) int64 { return r.Took.WriteMs }), ""),
		pctRow("· · separate lease renewals (large pages)", col(func(r syncDone) int64 { return r.Took.RenewMs }), ""),
		pctRow("· · separate finish (empty or large last page, full listing) and cleanup", col(func(r syncDone) int64 { return r.Took.FinishMs }), ""),
		pctRow("· · loop delay waits", col(func(r syncDone) int64 { return r.Took.WaitMs }), ""),
	}
}

// outcomes counts runs by outcome ("ok 20, coalesced 3").
func outcomes(runs []syncDone) string {
	n := map[string]int{}
	for _, r := range runs {
		n[r.Outcome]++
	}
	var parts []string
	for _, k := range sortedKeys(n) {
		parts = append(parts, fmt.Sprintf("%s %d", k, n[k]))
	}
	return strings.Join(parts, ", ")
}

// inFlight is the most requests of fn that were being served at the same moment among
// those that arrived at or after t.
func (l *stageLog) inFlight(fn string, t time.Time) int {
	l.mu.Lock()
	type edge struct {
		at time.Time
		d  int
	}
	var es []edge
	for _, r := range l.reqs {
		if r.fn == fn && !r.arrived.Before(t) {
			es = append(es, edge{r.arrived, 1}, edge{r.end, -1})
		}
	}
	l.mu.Unlock()
	slices.SortFunc(es, func(a, b edge) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.d - b.d // an end before an arrival at the same instant
	})
	cur, best := 0, 0
	for _, e := range es {
		cur += e.d
		best = max(best, cur)
	}
	return best
}

// rpcCounts lists the Firestore RPCs of a counter diff by method ("BatchGetDocuments 120,
// BeginTransaction 40, …"); Rollback counts transactions that were retried or abandoned.
func rpcCounts(d map[string]int64) string {
	var parts []string
	for _, k := range sortedKeys(d) {
		if m, ok := strings.CutPrefix(k, "rpc."); ok && !strings.Contains(m, "Publish") {
			parts = append(parts, fmt.Sprintf("%s %d", m, d[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
