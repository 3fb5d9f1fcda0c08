package syncer_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/opcount"
)

// TestIncrementalSyncRoundTrips: a sync run is a chain of dependent Firestore round trips,
// and each one adds to how soon an owner's change shows (docs/sync.md "Round trips of a
// run"). An incremental run of a small page costs 6: the calendar and its connection in
// one read, the lease's compare-and-set, the staff member's time zone (read while Google
// lists), and one transaction (begin, one read of the calendar, connection and the page's
// events, commit) that writes the page and finishes the pass. A run that finds nothing new
// costs 6 too (the finish transaction instead). Before: 21 and 11.
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
	if got := c.Get(opcount.FSRPCs); got > 6 {
		t.Errorf("an incremental run of a 3-event page made %d Firestore round trips; want ≤ 6 (%s)", got, rpcs(c))
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

// TestWithdrawnWhileLastPageListed: the last page of an incremental listing is written in
// the transaction that finishes the pass. Access withdrawn (deselect, disconnect) while
// Google answers that page must leave nothing stored; the stored events thrown away and the
// calendar selected again (deselect and reselect) must end with every event stored.
func TestWithdrawnWhileLastPageListed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name    string
		change  func(e *env) error
		outcome string
		events  int // stored at the end
	}{
		{"deselect", func(e *env) error {
			_, err := e.Store.Doc(e.Ref).Update(ctx, []firestore.Update{{Path: "selected", Value: false}})
			return err
		}, "deselected", 0},
		{"disconnect", func(e *env) error {
			return e.Store.DeleteConnectionData(ctx, e.Ref.Tenant, e.Ref.Staff, e.Ref.Connection)
		}, "deselected", 0},
		{"deselect and reselect", func(e *env) error {
			if _, err := e.Store.Doc(e.Ref).Update(ctx, []firestore.Update{{Path: "selected", Value: false}, {Path: "syncToken", Value: ""}, {Path: "epoch", Value: firestore.Increment(1)}}); err != nil {
				return err
			}
			if err := e.Store.DeleteCalendarData(ctx, e.Ref); err != nil {
				return err
			}
			_, err := e.Store.Doc(e.Ref).Update(ctx, []firestore.Update{{Path: "selected", Value: true}})
			return err
		}, "ok", 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			for i := range 3 {
				e.create(timed(fmt.Sprintf("x%d", i), t0.Add(time.Duration(i+1)*time.Hour), time.Hour))
			}
			e.mustRun()
			e.create(timed("new", t0.Add(9*time.Hour), time.Hour))
			var once sync.Once
			e.FG.SetListHook(func(p fakegoogle.ListPage) *fakegoogle.Fault {
				if p.Incremental {
					once.Do(func() {
						if err := tc.change(e); err != nil {
							t.Error(err)
						}
					})
				}
				return nil
			})
			e.Msg.Reason = "push"
			st := e.mustRun()
			e.FG.SetListHook(nil)
			if st.Outcome != tc.outcome {
				t.Fatalf("outcome %q, want %q", st.Outcome, tc.outcome)
			}
			got := e.stored()
			if len(got.Events) != tc.events || (tc.events == 0 && len(got.Busy) != 0) {
				t.Fatalf("%d events and %d busy items stored, want %d events", len(got.Events), len(got.Busy), tc.events)
			}
			if tc.events > 0 {
				e.converged()
				if c := e.calDoc(); c.LeaseOwner != "" {
					t.Fatalf("lease %q left held", c.LeaseOwner)
				}
			}
		})
	}
}
