package localstack

import (
	"context"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/benchtable"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/renewal"
)

// BenchmarkRenewBudget: one user with many selected calendars (150; 100 in bench-smoke),
// far more than one run's Google-call budget allows (renewal.DefaultCallBudget = 120, two
// calls per channel replaced). Runs RenewConnection once per scheduler tick (the fake
// clock moves 5 minutes between runs) until every calendar has its channel, then again a
// day before expiry until every channel is replaced. Counted by the fake Google per account
// and fake minute. Asserted: no run and no minute exceeds the budget (token refreshes, not
// calendar calls, are added), the budget really binds (calendars are deferred), and every
// calendar ends with exactly one live channel.
func BenchmarkRenewBudget(b *testing.B) {
	cals := 100
	if benchtable.Full() {
		cals = 150
	}
	budget := renewal.DefaultCallBudget
	var maxRun, maxMinute, runs, deferred int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h := newHarness(b, harnessOptions{})
		c := seedConnections(b, h, 1, cals, 1)[0]
		r := h.renewer()
		userCalls := func() int {
			n := 0
			for _, v := range h.FG.CallsPerMinute(c.email) {
				n += v
			}
			return n
		}
		b.StartTimer()
		pass := func(what string) {
			for k := 0; ; k++ {
				if k > 2*cals/(budget/2)+2 {
					b.Fatalf("%s: still deferring after %d runs", what, k)
				}
				before, tok := userCalls(), h.FG.Calls("token")
				res, err := r.RenewConnection(context.Background(), messages.Renew{Tenant: c.tenant, Staff: c.staff, Connection: c.id}, h.FG.Now())
				if err != nil {
					b.Fatalf("%s: %v", what, err)
				}
				runs++
				deferred += res.Deferred
				calls := userCalls() - before - (h.FG.Calls("token") - tok)
				maxRun = max(maxRun, calls)
				if calls > budget {
					b.Errorf("%s run %d: %d Google calls by one user; the budget is %d", what, k, calls, budget)
				}
				h.FG.Advance(5 * time.Minute) // the next scheduler tick
				if res.Deferred == 0 {
					return
				}
			}
		}
		pass("first channels")
		h.FG.Advance(6*24*time.Hour + 12*time.Hour)
		touch(b, h, []simConn{c}, h.FG.Now())
		pass("renewal")
		b.StopTimer()
		tok := h.FG.Calls("token")
		for _, v := range h.FG.CallsPerMinute(c.email) {
			maxMinute = max(maxMinute, v)
		}
		if maxMinute > budget+tok {
			b.Errorf("one user made %d Google calls in one minute; the budget is %d per run (+%d token refreshes in all)", maxMinute, budget, tok)
		}
		if deferred == 0 {
			b.Errorf("the budget never bound: no calendar was deferred with %d calendars", cals)
		}
		live := map[string]int{}
		for _, ch := range h.FG.Channels() {
			if !ch.Stopped && !ch.Expired {
				live[ch.Calendar]++
			}
		}
		for _, g := range c.cals {
			if live[g] != 1 {
				b.Fatalf("calendar %s has %d live channels", g, live[g])
			}
		}
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(cals), "calendars")
	b.ReportMetric(float64(budget), "budget-calls/run")
	b.ReportMetric(float64(maxRun), "max-calls/run")
	b.ReportMetric(float64(maxMinute), "max-calls/user-minute")
	b.ReportMetric(float64(runs)/n, "runs")
	b.ReportMetric(float64(deferred)/n, "deferred")
}
