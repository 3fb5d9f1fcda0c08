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

// memoryGiB reads each function's memory from terraform/functions.tf (entry point → GiB).
func memoryGiB(b *testing.B) map[string]float64 {
	src, err := os.ReadFile("../../terraform/functions.tf")
	if err != nil {
		b.Fatal(err)
	}
	re := regexp.MustCompile(`entry_point\s*=\s*"(\w+)"[\s\S]*?memory\s*=\s*"(\d+)Mi"`)
	out := map[string]float64{}
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		mi, _ := strconv.Atoi(m[2])
		out[m[1]] = float64(mi) / 1024
	}
	if len(out) < 8 {
		b.Fatalf("read the memory of %d functions from terraform/functions.tf, want 8", len(out))
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
	mem := memoryGiB(b)
	for i := 0; i < b.N; i++ {
		ps, staff, sl := freshStack(b, 1, 3)
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
		// An idle half hour: the clock moves 31 minutes, one scheduler tick (published to
		// renew-channels as Cloud Scheduler does) finds the calendars due for a safety sync
		// and, every other half hour, the connection due for its hourly calendar-list pass.
		acts = append(acts, measure(activity{name: "idle hour (2 ticks finding this account: safety syncs, hourly list pass)", perMon: 24 * 30, n: 2}, func(int) {
			ps.FG.Advance(31 * time.Minute)
			ps.tick()
			eventually(b, 30*time.Second, "the tick handled", func() bool { return m.functions()["RenewChannels"].N >= 1 })
			quiet("the tick's work done")
		}))
		acts[len(acts)-1].n = 1 // two ticks = one hour
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
		rows = append(rows, []string{"**total per connected account and month**", "", "", "", "", "", "", "", "", fmt.Sprintf("**$%s ≈ €%s** (target ≤ €0.02: %s)", benchtable.F(total, 4), benchtable.F(total/usdPerEUR, 4), metCost(total/usdPerEUR))})
		b.ReportMetric(total/usdPerEUR, "EUR/account-month")
		benchtable.Emit(benchtable.Table{
			Title:   "Cost per connected account and month (BenchmarkCostPerAccount): 1 account, 3 calendars, 20 changes/day, 10 bookings/week, 500 widget loads",
			Columns: []string{"activity", "per month", "measured n", "FS reads", "FS writes", "FS deletes", "invocations", "GiB-s / vCPU-s", "Pub/Sub KB", "cost / month (USD)"},
			Rows:    rows,
			Notes: fmt.Sprintf("Counts are per occurrence (counted ÷ measured n); cost = counts × per month × price. Dominant: **%s** ($%s of $%s). "+
				"Compute time is the stack's measured busy time per request on this shared 2-vCPU machine against the emulator (far slower than Firestore), billed as 1 vCPU + the function's Terraform memory; it is an upper bound. "+
				"Secret accesses counted: %s per month at the functions' secret source (deployed, secrets.LatestTTL caching makes them fewer). Not included: min-instances (Slots, Book, CalendarWebhook keep 1 warm instance each per project, not per account), storage (a few hundred KB per account), free tiers.",
				dom, benchtable.F(domCost, 4), benchtable.F(total, 4), benchtable.F(secretsPerMonth(acts), 0)),
		})
	}
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

func costRows(b *testing.B, acts []activity, mem map[string]float64) ([][]string, float64, string, float64) {
	var rows [][]string
	total := 0.0
	// Cost by kind of operation across activities, to name the dominant one.
	kinds := map[string]float64{}
	for _, a := range acts {
		n := float64(a.n)
		r, w, d := float64(a.ops[opcount.FSReads])/n, float64(a.ops[opcount.FSWrites])/n, float64(a.ops[opcount.FSDeletes])/n
		var inv, gibs, cpus float64
		for fn, st := range a.fns {
			inv += float64(st.N) / n
			sec := math.Max(st.Busy.Seconds(), 0.1*float64(st.N)) / n // billed in 100 ms steps at least
			cpus += sec
			gibs += sec * mem[fn]
		}
		// Pub/Sub: publish bytes as counted (min. 1000 per request) + one push delivery of
		// at least 1000 bytes per event-function invocation.
		push := 0.0
		for _, fn := range []string{"SyncCalendar", "RenewChannels", "ExportBooking"} {
			push += float64(a.fns[fn].N) * 1000
		}
		psBytes := (float64(a.ops[opcount.PSBytes]) + push) / n
		sec := float64(a.ops[secretAccesses]) / n
		if r+w+d+inv == 0 {
			b.Errorf("activity %q counted nothing", a.name)
		}
		costs := map[string]float64{
			"Firestore reads":   r * priceFSRead,
			"Firestore writes":  w * priceFSWrite,
			"Firestore deletes": d * priceFSDelete,
			"function compute":  cpus*priceVCPUSecond + gibs*priceGiBSecond,
			"invocations":       inv * priceRequest,
			"Pub/Sub":           psBytes * pricePubSubByte,
			"Secret Manager":    sec * priceSecretAccess,
		}
		c := 0.0
		for k, v := range costs {
			c += v * a.perMon
			kinds[k] += v * a.perMon
		}
		total += c
		rows = append(rows, []string{a.name, benchtable.F(a.perMon, 1), strconv.Itoa(a.n), benchtable.F(r, 1), benchtable.F(w, 1), benchtable.F(d, 1),
			benchtable.F(inv, 1), benchtable.F(gibs, 3) + " / " + benchtable.F(cpus, 3), benchtable.F(psBytes/1000, 1), "$" + benchtable.F(c, 6)})
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
