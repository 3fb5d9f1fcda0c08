package localstack

import (
	"fmt"
	"math"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"testing"

	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/benchtable"
	"github.com/belbo/calsync/shared/opcount"
	"github.com/belbo/calsync/shared/renewal"
	"github.com/belbo/calsync/shared/secrets"
	"github.com/belbo/calsync/shared/topology"
)

// List prices used by the cost model (USD; looked up 2026-12-04, see docs/benchmarks.md
// "Cost per connected account" for the pages). Firestore: the per-location table for
// europe-west3 was not in the retrievable copy of the page, so the multi-region figures
// (the highest) are used as an upper bound. Cloud Run functions (gen2) are billed as
// Cloud Run, request-based, Tier 1 figures.
const (
	priceFSRead       = 0.06 / 100000
	priceFSWrite      = 0.18 / 100000
	priceFSDelete     = 0.02 / 100000
	priceVCPUSecond   = 0.000024
	priceGiBSecond    = 0.0000025
	priceRequest      = 0.40 / 1e6
	pricePubSubByte   = 40.0 / (1 << 40) // $40 per TiB, min. 1000 bytes per publish/push request
	priceSecretAccess = 0.03 / 10000
	priceSchedulerJob = 0.10 // per job and month
	usdPerEUR         = 1.15 // assumption for the € target; not a looked-up rate
	accountsPerProj   = 1000 // shared per-project costs (scheduler job, ticks) divided by this
)

// sizing is a function's Terraform sizing: memory (GiB) and vCPU.
type sizing struct{ gib, cpu float64 }

// functionSizing reads each function's memory and vCPU from terraform/functions.tf.
func functionSizing(b *testing.B) map[string]sizing {
	src, err := os.ReadFile("../../terraform/functions.tf")
	if err != nil {
		b.Fatal(err)
	}
	re := regexp.MustCompile(`entry_point\s*=\s*"(\w+)"[\s\S]*?memory\s*=\s*"(\d+)Mi"\s*cpu\s*=\s*"([0-9.]+)"`)
	out := map[string]sizing{}
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		mi, _ := strconv.Atoi(m[2])
		cpu, _ := strconv.ParseFloat(m[3], 64)
		out[m[1]] = sizing{gib: float64(mi) / 1024, cpu: cpu}
	}
	if len(out) < 8 {
		b.Fatalf("read the sizing of %d functions from terraform/functions.tf, want 8", len(out))
	}
	return out
}

// activity is what one occurrence of something costs, counted on the stack.
type activity struct {
	name   string
	perMon float64 // occurrences per month
	n      int     // occurrences measured
	ops    map[string]int64
	fns    map[string]fnStat
}

// BenchmarkCostPerAccount: one connected account with 3 selected calendars on the local
// stack (every function behind its real HTTP / Pub/Sub push entry), every operation counted
// at the wire (shared/opcount: Firestore reads/writes/deletes, Pub/Sub publishes and bytes;
// function invocations and their busy time from the stack's server; secret accesses).
// Each activity runs a few times, its counted cost per occurrence is scaled to a month
// (20 changes a day, 10 bookings a week, 500 widget loads, the background of every hour:
// safety syncs and the hourly calendar-list pass, and one channel renewal per calendar a
// week) and priced. Asserted: nothing (a cost model), except that every activity was
// counted (a zero would mean the counting broke). The table is the report.
func BenchmarkCostPerAccount(b *testing.B) {
	changes, loads, bookings := 5, 10, 2
	if benchtable.Full() {
		changes, loads, bookings = 20, 50, 10
	}
	mem := functionSizing(b)
	for i := 0; i < b.N; i++ {
		ps, staff, sl := freshStackWith(b, 1, 3, harnessOptions{SafetySync: renewal.DefaultSafetyInterval})
		_ = sl
		s := staff[0]
		v := view{ps.harness, staff, &http.Client{}}
		m := ps.M
		// quiet: every published message of the three consumer topics has been delivered
		// and answered by its function.
		quiet := func(what string) {
			eventually(b, 60*time.Second, what, func() bool {
				f := m.functions()
				for topic, fn := range map[string]string{topology.CalendarSync: "SyncCalendar", topology.RenewChannels: "RenewChannels", topology.CalendarExport: "ExportBooking"} {
					if int64(f[fn].N) < m.C.Get(opcount.PSPublished+"."+topic) {
						return false
					}
				}
				return true
			})
		}
		measure := func(a activity, do func(k int)) activity {
			quiet("quiet before " + a.name)
			m.reset()
			for k := range a.n {
				do(k)
			}
			quiet("quiet after " + a.name)
			a.ops, a.fns = m.C.Snapshot(), m.functions()
			return a
		}
		var acts []activity
		acts = append(acts, measure(activity{name: "owner changes an event (push → sync)", perMon: 20 * 30, n: changes}, func(k int) {
			st := slotAt(100 + k)
			if _, err := ps.FG.CreateEvent(s.cals[k%3], &calendar.Event{Summary: "change", Start: &calendar.EventDateTime{DateTime: st.Format(time.RFC3339)},
				End: &calendar.EventDateTime{DateTime: st.Add(30 * time.Minute).Format(time.RFC3339)}}); err != nil {
				b.Fatal(err)
			}
			// Not polled through the events API (that would be counted): the push's sync ran.
			eventually(b, 30*time.Second, "the change synced", func() bool { return m.functions()["SyncCalendar"].N > int64(k) })
			quiet("the change's sync done")
		}))
		acts = append(acts, measure(activity{name: "widget load (one Slots request, 4 weeks)", perMon: 500, n: loads}, func(int) { v.slots() }))
		acts = append(acts, measure(activity{name: "booking (Book → ExportBooking → Google → push → sync)", perMon: 10 * 30.0 / 7, n: bookings}, func(k int) {
			st := slotAt(200 + k)
			resp, body := ps.public("POST", ps.Stack.Function("Book")+"/", bookBody("t1", s.staff, st.Format(time.RFC3339), 30))
			if resp.StatusCode != 201 {
				b.Fatalf("book: %d %s", resp.StatusCode, body)
			}
			eventually(b, 30*time.Second, "the booking exported", func() bool { return m.functions()["ExportBooking"].N > int64(k) })
		}))
		// A safety-net round: the clock moves one safety interval, one scheduler tick
		// (published to renew-channels as Cloud Scheduler does) finds the calendars due for
		// their safety sync and the connection due for its calendar-list pass (the list
		// interval is not longer than the safety interval), and everything it starts runs.
		// Every tick in between finds nothing of this account's (its queries read only
		// due documents), so it costs the account nothing.
		safety, list := renewal.DefaultSafetyInterval, renewal.ListEvery(0, renewal.DefaultSafetyInterval)
		if list > safety {
			b.Fatalf("the list interval %v is longer than the safety interval %v: one round would not hold both", list, safety)
		}
		round := fmt.Sprintf("safety-net round every %v (3 safety syncs + the calendar-list pass)", safety)
		acts = append(acts, measure(activity{name: round, perMon: float64(month / safety), n: 1}, func(int) {
			ps.FG.Advance(safety + time.Minute)
			ps.tick()
			eventually(b, 30*time.Second, "the tick handled", func() bool { return m.functions()["RenewChannels"].N >= 1 })
			quiet("the tick's work done")
		}))
		roundAct := acts[len(acts)-1]
		acts = append(acts, measure(activity{name: "channel renewal (3 channels, a day before expiry)", perMon: 30.0 / 6, n: 1}, func(int) {
			ps.FG.Advance(6*24*time.Hour - time.Hour)
			ps.tick()
			eventually(b, 30*time.Second, "the renewal done", func() bool { return m.functions()["RenewChannels"].N >= 2 })
			quiet("the renewal's syncs done")
		}))

		rows, total, dom, domCost := costRows(b, acts, mem)
		shared := priceSchedulerJob / accountsPerProj
		rows = append(rows, []string{"Cloud Scheduler job (1 per project, shared by " + strconv.Itoa(accountsPerProj) + " accounts)", "–", "–", "–", "–", "–", "–", "–", "–", "$" + benchtable.F(shared, 6)})
		total += shared
		sm := secretBound() * priceSecretAccess / accountsPerProj
		rows = append(rows, []string{"Secret Manager (per project: each instance asks once a minute per secret it reads, 1 instance per function, shared by " + strconv.Itoa(accountsPerProj) + " accounts)", "–", "–", "–", "–", "–", "–", "–", "–", "$" + benchtable.F(sm, 6)})
		total += sm
		rows = append(rows, []string{"**total per connected account and month**", "", "", "", "", "", "", "", "", fmt.Sprintf("**$%s ≈ €%s** (target ≤ €0.02: %s)", benchtable.F(total, 4), benchtable.F(total/usdPerEUR, 4), metCost(total/usdPerEUR))})
		b.ReportMetric(total/usdPerEUR, "EUR/account-month")
		benchtable.Emit(benchtable.Table{
			Title:   "Cost per connected account and month (BenchmarkCostPerAccount): 1 account, 3 calendars, 20 changes/day, 10 bookings/week, 500 widget loads",
			Columns: []string{"activity", "per month", "measured n", "FS reads", "FS writes", "FS deletes", "invocations", "GiB-s / vCPU-s", "Pub/Sub KB", "cost / month (USD)"},
			Rows:    rows,
			Notes: fmt.Sprintf("Counts are per occurrence (counted ÷ measured n); cost = counts × per month × price. Dominant: **%s** ($%s of $%s). "+
				"Compute time is the stack's measured busy time per request on this shared 2-vCPU machine against the emulator (far slower than Firestore), billed with the function's Terraform vCPU and memory; it is an upper bound. "+
				"Secret Manager is a per-project cost: the deployed source caches each secret per instance (secrets.LatestTTL, 1 min), so an instance asks at most once a minute per secret whatever the number of accounts; the accesses the functions made here before that cache (%s per account-month) are not billed as such. Not included: min-instances (Slots, Book, CalendarWebhook keep 1 warm instance each per project, not per account), storage (a few hundred KB per account), free tiers.",
				dom, benchtable.F(domCost, 4), benchtable.F(total, 4), benchtable.F(secretsPerMonth(acts), 0)),
		})
		benchtable.Emit(benchtable.Table{
			Title:   "What the safety-net interval costs (BenchmarkCostPerAccount): the measured round above, priced at other intervals",
			Columns: []string{"SAFETY_SYNC_INTERVAL", "rounds per month", "background cost per account-month (USD)", "(EUR)"},
			Rows:    safetyRows(roundAct, mem),
			Notes:   "One round = every selected calendar's safety sync plus the calendar-list pass, as measured at the default interval; the rest of the model does not change with the interval.",
		})
	}
}

// month is the length of the month the model prices.
const month = 30 * 24 * time.Hour

// secretBound is what Secret Manager bills a project in a month at most: every function
// that reads secrets keeps one instance that asks once per LatestTTL per secret.
func secretBound() float64 {
	n := 0
	for _, a := range topology.Functions {
		n += len(a.Secrets)
	}
	return float64(n) * float64(month/secrets.LatestTTL)
}

// safetyRows prices one measured safety-net round at other safety intervals: what the
// interval (SAFETY_SYNC_INTERVAL) costs an account a month in background work alone.
func safetyRows(round activity, mem map[string]sizing) [][]string {
	var rows [][]string
	for _, iv := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 6 * time.Hour, 12 * time.Hour} {
		a := round
		a.perMon = float64(month / iv)
		r, _ := activityCost(a, mem)
		rows = append(rows, []string{iv.String(), benchtable.F(a.perMon, 0), "$" + benchtable.F(r, 5), "≈ €" + benchtable.F(r/usdPerEUR, 5)})
	}
	return rows
}

// usage is one occurrence of an activity: counts and their prices by kind.
type usage struct {
	r, w, d, inv, gibs, cpus, psBytes float64
	costs                             map[string]float64
}

// activityCost is what a costs a month, and one occurrence's usage.
func activityCost(a activity, mem map[string]sizing) (float64, usage) {
	n := float64(a.n)
	u := usage{r: float64(a.ops[opcount.FSReads]) / n, w: float64(a.ops[opcount.FSWrites]) / n, d: float64(a.ops[opcount.FSDeletes]) / n}
	for fn, st := range a.fns {
		u.inv += float64(st.N) / n
		sec := math.Max(st.Busy.Seconds(), 0.1*float64(st.N)) / n // billed in 100 ms steps at least
		u.cpus += sec * mem[fn].cpu
		u.gibs += sec * mem[fn].gib
	}
	// Pub/Sub: publish bytes as counted (min. 1000 per request) + one push delivery of
	// at least 1000 bytes per event-function invocation.
	push := 0.0
	for _, fn := range []string{"SyncCalendar", "RenewChannels", "ExportBooking"} {
		push += float64(a.fns[fn].N) * 1000
	}
	u.psBytes = (float64(a.ops[opcount.PSBytes]) + push) / n
	u.costs = map[string]float64{
		"Firestore reads":   u.r * priceFSRead,
		"Firestore writes":  u.w * priceFSWrite,
		"Firestore deletes": u.d * priceFSDelete,
		"function compute":  u.cpus*priceVCPUSecond + u.gibs*priceGiBSecond,
		"invocations":       u.inv * priceRequest,
		"Pub/Sub":           u.psBytes * pricePubSubByte,
	}
	c := 0.0
	for _, v := range u.costs {
		c += v * a.perMon
	}
	return c, u
}

func secretsPerMonth(acts []activity) float64 {
	s := 0.0
	for _, a := range acts {
		s += float64(a.ops[secretAccesses]) / float64(a.n) * a.perMon
	}
	return s
}

func metCost(eur float64) string {
	if eur <= 0.02 {
		return "met"
	}
	return "**missed**"
}

func costRows(b *testing.B, acts []activity, mem map[string]sizing) ([][]string, float64, string, float64) {
	var rows [][]string
	total := 0.0
	// Cost by kind of operation across activities, to name the dominant one.
	kinds := map[string]float64{}
	for _, a := range acts {
		c, u := activityCost(a, mem)
		if u.r+u.w+u.d+u.inv == 0 {
			b.Errorf("activity %q counted nothing", a.name)
		}
		for k, v := range u.costs {
			kinds[k] += v * a.perMon
		}
		total += c
		rows = append(rows, []string{a.name, benchtable.F(a.perMon, 1), strconv.Itoa(a.n), benchtable.F(u.r, 1), benchtable.F(u.w, 1), benchtable.F(u.d, 1),
			benchtable.F(u.inv, 1), benchtable.F(u.gibs, 3) + " / " + benchtable.F(u.cpus, 3), benchtable.F(u.psBytes/1000, 1), "$" + benchtable.F(c, 6)})
	}
	var parts []string
	dom, domCost := "", 0.0
	for _, k := range sortedKeys(kinds) {
		parts = append(parts, k+" $"+benchtable.F(kinds[k], 5))
		if kinds[k] > domCost {
			dom, domCost = k, kinds[k]
		}
	}
	rows = append(rows, []string{"by kind: " + strings.Join(parts, ", "), "", "", "", "", "", "", "", "", ""})
	return rows, total, dom, domCost
}
