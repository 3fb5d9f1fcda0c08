package syncer_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/fakegoogle"
)

// TestStalledWorkerCannotWriteAfterTakeover: worker A pages through a full listing and
// stalls fetching page 2 for longer than its lease; meanwhile every event changes at
// Google and worker B takes the expired lease over, syncs and saves its token. When A's
// answer finally arrives, A must not write its stale page: B's token is past those
// changes, so nothing would ever correct them (found by the convergence oracle).
func TestStalledWorkerCannotWriteAfterTakeover(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.S.PageSize = 2
	var ids []string
	for i := range 6 {
		ev := e.create(timed(fmt.Sprintf("v1-%d", i), t0.Add(time.Duration(24+i)*time.Hour), time.Hour))
		ids = append(ids, ev.Id)
	}
	e.mustRun()
	var once atomic.Bool
	bOutcome := ""
	e.FG.SetListHook(func(p fakegoogle.ListPage) *fakegoogle.Fault {
		if p.Page != 2 || !once.CompareAndSwap(false, true) {
			return nil
		}
		for _, id := range ids {
			if _, err := e.FG.PatchEvent(e.Cal, id, &calendar.Event{Summary: "v2"}); err != nil {
				t.Error(err)
			}
		}
		e.FG.Advance(3 * time.Minute) // A's lease expires
		b := e.Msg
		b.Reason = "push"
		st, err := e.S.RunStats(context.Background(), b, e.FG.Now())
		if err != nil {
			t.Errorf("B: %v", err)
		}
		bOutcome = st.Outcome
		return nil
	})
	a := e.Msg
	a.Reason = "full"
	st, err := e.S.RunStats(context.Background(), a, t0)
	e.FG.SetListHook(nil)
	if err != nil {
		t.Fatalf("A: %v", err)
	}
	if bOutcome != "ok" || st.Outcome != "lease_lost" {
		t.Fatalf("outcomes: B %q (want ok), A %q (want lease_lost)", bOutcome, st.Outcome)
	}
	// The next incremental sync (from B's token) changes nothing: the store must already
	// hold what Google holds.
	m, _ := e.FG.Model(e.Cal)
	cal := e.calDoc()
	want, err := oracleExpect(m, "", e.FG.Now(), cal.HorizonEnd, e.S.Past)
	if err != nil {
		t.Fatal(err)
	}
	got, err := storedView(context.Background(), e.Store.FS, tenant, staff, e.Ref.Connection, e.Ref.Calendar)
	if err != nil {
		t.Fatal(err)
	}
	if d := viewDiff(want, got); len(d) > 0 {
		t.Fatalf("A wrote after losing its lease (%d):\n%s", len(d), joinLines(d))
	}
}
