package syncer_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/opcount"
)

// TestIncrementalSyncRoundTrips: a sync run is a chain of dependent Firestore round trips,
// and each one adds to how soon an owner's change shows (docs/sync.md "Round trips of a
// run"). An incremental run of a small page costs at most 9: the calendar and its
// connection in one read, the lease's compare-and-set, the staff member's time zone (read
// while Google lists), one transaction for the page (begin, read of the calendar and the
// page's events, commit with the lease check) and the finish transaction (begin, calendar
// and connection in one read, commit). A run that finds nothing new costs 6.
func TestIncrementalSyncRoundTrips(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var ids []string
	for j := range 20 {
		ids = append(ids, e.create(timed(fmt.Sprintf("e%d", j), t0.Add(time.Duration(24+j*30)*time.Hour), time.Hour)).Id)
	}
	e.mustRun()
	c := e.counted(t)

	// One created, one moved by a month, one deleted: event writes, busy items in two
	// months and a deletion in the same page.
	e.create(timed("new", t0.Add(50*time.Hour), 30*time.Minute))
	if _, err := e.FG.PatchEvent(e.Cal, ids[1], timed("moved", t0.Add(40*24*time.Hour), time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := e.FG.DeleteEvent(e.Cal, ids[2]); err != nil {
		t.Fatal(err)
	}
	e.Msg.Reason = "push"
	st := e.mustRun()
	if st.Full || st.Written != 2 || st.Deleted != 1 {
		t.Fatalf("stats %+v; want an incremental run writing 2 events and deleting 1", st)
	}
	if got := c.Get(opcount.FSRPCs); got > 9 {
		t.Errorf("an incremental run of a 3-event page made %d Firestore round trips; want ≤ 9 (%s)", got, rpcs(c))
	}
	e.converged()

	c.Reset()
	if st := e.mustRun(); st.Written != 0 || st.Deleted != 0 {
		t.Fatalf("stats %+v; want nothing written", st)
	}
	if got := c.Get(opcount.FSRPCs); got > 6 {
		t.Errorf("an incremental run that found nothing made %d Firestore round trips; want ≤ 6 (%s)", got, rpcs(c))
	}
}

// rpcs lists the counted calls by method.
func rpcs(c *opcount.Counter) string {
	var out []string
	for k, v := range c.Snapshot() {
		if strings.HasPrefix(k, "rpc.") {
			out = append(out, fmt.Sprintf("%s %d", strings.TrimPrefix(k, "rpc."), v))
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
