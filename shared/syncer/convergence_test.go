package syncer_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/syncer"
	"github.com/belbo/calsync/shared/topology"
)

// TestMain raises test parallelism for the I/O-bound convergence histories (each waits
// on the emulator most of the time) unless -parallel was given.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", "32")
	}
	os.Exit(m.Run())
}

// TestConvergence replays seeded random histories of Google-side changes (create, move,
// edit, delete, recurring series with edited and cancelled instances, all-day events in
// calendars of many time zones, owner-declined, transparent, workingLocation, birthday,
// outOfOffice events) interleaved with faults (see allFaults: Google errors on any page
// and on full listings, 410 mid-pagination, Google-side changes while a sync pages,
// workers dying between and inside a page's writes, Firestore Aborted and
// DeadlineExceeded at the transport, a stalled worker writing after its lease was taken
// over, up to five concurrent runs, the hand-over after the run budget through Publish).
// After quiescing and one final incremental safety sync, the stored events and busy
// items must equal what an independent oracle (oracle_test.go) derives from the fake
// Google's own model.
//
// CONVERGENCE_HISTORIES sets how many histories run (default 1000); the seeds are
// CONVERGENCE_BASE_SEED+1 … +n, with the base random per run and printed;
// CONVERGENCE_SEED=<n> runs one history. The summary is logged as one line
// "CONVERGENCE_RESULT {json}" and, when CONVERGENCE_REPORT names a file, written there.
func TestConvergence(t *testing.T) {
	n := 1000
	if v := os.Getenv("CONVERGENCE_HISTORIES"); v != "" {
		x, err := strconv.Atoi(v)
		if err != nil || x <= 0 {
			t.Fatalf("CONVERGENCE_HISTORIES=%q", v)
		}
		n = x
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	base := binary.LittleEndian.Uint64(b[:]) % 1_000_000_000 * 1000
	if v := os.Getenv("CONVERGENCE_BASE_SEED"); v != "" {
		x, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		base = x
	}
	seeds := make([]uint64, 0, n)
	if v := os.Getenv("CONVERGENCE_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, s)
	} else {
		for i := range n {
			seeds = append(seeds, base+uint64(i)+1)
		}
	}
	t.Logf("convergence: %d histories, base seed %d (rerun all: CONVERGENCE_BASE_SEED=%d CONVERGENCE_HISTORIES=%d)", len(seeds), base, base, len(seeds))
	counts := &faultCounts{}
	var divergences, failures atomic.Int64
	start := time.Now()
	t.Run("histories", func(t *testing.T) {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
				t.Parallel()
				h := &history{t: t, rng: mrand.New(mrand.NewPCG(seed, 0x5eed)), seed: seed, counts: counts,
					divergences: &divergences, failures: &failures}
				h.run()
			})
		}
	})
	par := 0
	if f := flag.Lookup("test.parallel"); f != nil {
		par, _ = strconv.Atoi(f.Value.String())
	}
	res := result{Test: "TestConvergence", BaseSeed: base, Histories: len(seeds), Divergences: int(divergences.Load()),
		Failures: int(failures.Load()), Seconds: time.Since(start).Seconds(), Parallel: par, RPCs: firestoreRPCs.Load(), Faults: counts.snapshot()}
	t.Logf("CONVERGENCE_RESULT %s", res.json())
	if path := os.Getenv("CONVERGENCE_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(res.json()+"\n"), 0o644); err != nil {
			t.Error(err)
		}
	}
	if len(seeds) >= 500 {
		// Every fault kind must have fired in a run of this size (a single seed cannot;
		// the rarest, the hand-over, fires about a dozen times in 500 histories).
		for _, k := range sortedKeys(res.Faults) {
			if res.Faults[k] == 0 {
				t.Errorf("fault kind %s never fired in %d histories", k, len(seeds))
			}
		}
	}
}

type history struct {
	t           *testing.T
	rng         *mrand.Rand
	seed        uint64
	counts      *faultCounts
	divergences *atomic.Int64
	failures    *atomic.Int64
	e           *env
	staffZone   string
	mu          sync.Mutex // guards ids, ser, log and rng when hooks run on other goroutines
	ids         []string   // event ids created (singles and masters)
	ser         []string   // series masters
	log         []string
	t0          time.Time
	queue       []messages.Sync // published hand-over messages not yet delivered
	inHook      atomic.Int32    // > 0 while a list hook runs (fail must not call Fatal)
	hookErr     []string
}

// hookFailure carries a failure out of a list hook, which runs on the fake's HTTP
// goroutine where t.Fatal must not be called; hook() recovers it and the test goroutine
// reports it after the run (checkHook).
type hookFailure struct{ msg string }

// hook runs f as the body of a list hook.
func (h *history) hook(f func()) {
	h.inHook.Add(1)
	defer h.inHook.Add(-1)
	defer func() {
		if r := recover(); r != nil {
			hf, ok := r.(hookFailure)
			if !ok {
				panic(r)
			}
			h.mu.Lock()
			h.hookErr = append(h.hookErr, hf.msg)
			h.mu.Unlock()
		}
	}()
	f()
}

// checkHook fails the history (on the test goroutine) if a hook failed.
func (h *history) checkHook() {
	h.mu.Lock()
	errs := h.hookErr
	h.mu.Unlock()
	if len(errs) > 0 {
		h.fail(false, "in a list hook: %s", strings.Join(errs, "; "))
	}
}

func (h *history) fail(divergence bool, format string, args ...any) {
	h.t.Helper()
	if h.inHook.Load() > 0 {
		panic(hookFailure{fmt.Sprintf(format, args...)})
	}
	if divergence {
		h.divergences.Add(1)
	} else {
		h.failures.Add(1)
	}
	h.mu.Lock()
	steps := joinLines(h.log)
	h.mu.Unlock()
	if os.Getenv("CONVERGENCE_SEED") != "" {
		h.mu.Lock()
		steps = strings.Join(h.log, "\n")
		h.mu.Unlock()
	}
	h.t.Fatalf("seed %d: %s\nsteps:\n%s\nrerun: CONVERGENCE_SEED=%d scripts/with-emulators.sh go test -count=1 -run 'TestConvergence' -v ./shared/syncer/",
		h.seed, fmt.Sprintf(format, args...), steps, h.seed)
}

func (h *history) step(s string, args ...any) {
	h.mu.Lock()
	h.log = append(h.log, fmt.Sprintf("%6.2fs ", time.Since(h.t0).Seconds())+fmt.Sprintf(s, args...))
	h.mu.Unlock()
}

func (h *history) intn(n int) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rng.IntN(n)
}

func (h *history) randTime() time.Time {
	// Within the next ~40 days, on a 15-minute grid.
	return h.e.FG.Now().Truncate(time.Hour).Add(time.Duration(h.intn(40*24*4)) * 15 * time.Minute)
}

func (h *history) pick(ids []string) string { return ids[h.intn(len(ids))] }

// zones of the fake calendar (and sometimes the staff member): far east and west of UTC,
// half-hour and 45-minute offsets, DST in both hemispheres.
var zones = []string{"Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Kiritimati",
	"Pacific/Pago_Pago", "Pacific/Chatham", "Australia/Adelaide", "UTC", "America/St_Johns"}

func (h *history) change() {
	e := h.e
	h.mu.Lock()
	ids, ser := append([]string{}, h.ids...), append([]string{}, h.ser...)
	h.mu.Unlock()
	add := func(id string, series bool) {
		h.mu.Lock()
		h.ids = append(h.ids, id)
		if series {
			h.ser = append(h.ser, id)
		}
		h.mu.Unlock()
	}
	switch op := h.intn(12); {
	case op <= 2 || len(ids) == 0: // create timed (sometimes transparent, declined, typed)
		st := h.randTime()
		ev := timed(fmt.Sprintf("ev%d", len(ids)), st, time.Duration(1+h.intn(8))*15*time.Minute)
		switch h.intn(7) {
		case 0:
			ev.Transparency = "transparent"
		case 1:
			ev.Attendees = []*calendar.EventAttendee{{Email: email, Self: true, ResponseStatus: "declined"}}
		case 2:
			ev.EventType = []string{"workingLocation", "outOfOffice", "focusTime"}[h.intn(3)]
		}
		out, err := e.FG.CreateEvent(e.Cal, ev)
		if err != nil {
			h.fail(false, "create: %v", err)
		}
		add(out.Id, false)
		h.step("create timed %s %s", out.Id, ev.EventType)
	case op == 3: // all-day, on the calendar's dates
		loc, _ := time.LoadLocation(e.zone)
		d := h.randTime().In(loc)
		ev := &calendar.Event{Summary: "allday", Start: &calendar.EventDateTime{Date: d.Format("2006-01-02")}, End: &calendar.EventDateTime{Date: d.AddDate(0, 0, 1+h.intn(3)).Format("2006-01-02")}}
		if h.intn(4) == 0 {
			ev.EventType = "birthday"
		}
		out, err := e.FG.CreateEvent(e.Cal, ev)
		if err != nil {
			h.fail(false, "create all-day: %v", err)
		}
		add(out.Id, false)
		h.step("create all-day %s %s..%s %s", out.Id, ev.Start.Date, ev.End.Date, ev.EventType)
	case op == 4: // recurring series (short ones mostly: every instance is a listed item)
		ev := timed("series", h.randTime(), time.Hour)
		ev.Start.TimeZone, ev.End.TimeZone = h.e.zone, h.e.zone
		// One in eight is unbounded (monthly: 24 instances within the fake's expansion).
		rules := []string{"RRULE:FREQ=DAILY;COUNT=4", "RRULE:FREQ=WEEKLY;COUNT=3", "RRULE:FREQ=DAILY;INTERVAL=3;COUNT=4",
			"RRULE:FREQ=DAILY;COUNT=4", "RRULE:FREQ=WEEKLY;COUNT=3", "RRULE:FREQ=DAILY;INTERVAL=3;COUNT=4", "RRULE:FREQ=DAILY;COUNT=2", "RRULE:FREQ=MONTHLY"}
		ev.Recurrence = []string{rules[h.intn(len(rules))]}
		if h.intn(3) == 0 { // all-day series
			d := h.randTime()
			ev.Start = &calendar.EventDateTime{Date: d.Format("2006-01-02")}
			ev.End = &calendar.EventDateTime{Date: d.AddDate(0, 0, 1).Format("2006-01-02")}
		}
		out, err := e.FG.CreateEvent(e.Cal, ev)
		if err != nil {
			h.fail(false, "create series: %v", err)
		}
		add(out.Id, true)
		h.step("create series %s %s", out.Id, ev.Recurrence[0])
	case op == 5 && len(ser) > 0: // edit or cancel one instance
		m := h.pick(ser)
		var inst []*calendar.Event
		for _, ev := range e.FG.Events(e.Cal, true, time.Time{}, time.Time{}) {
			if ev.RecurringEventId == m && ev.Status != "cancelled" {
				inst = append(inst, ev)
			}
		}
		if len(inst) == 0 {
			return
		}
		it := inst[h.intn(min(len(inst), 8))]
		var err error
		if h.intn(2) == 0 {
			_, err = e.FG.PatchEvent(e.Cal, it.Id, &calendar.Event{Status: "cancelled"})
			h.step("cancel instance %s", it.Id)
		} else if isAllDay(it) {
			_, err = e.FG.PatchEvent(e.Cal, it.Id, &calendar.Event{Summary: "edited instance", Transparency: "transparent"})
			h.step("edit all-day instance %s", it.Id)
		} else {
			st := h.randTime()
			_, err = e.FG.PatchEvent(e.Cal, it.Id, &calendar.Event{Summary: "moved instance", Start: &calendar.EventDateTime{DateTime: st.Format(time.RFC3339)}, End: &calendar.EventDateTime{DateTime: st.Add(time.Hour).Format(time.RFC3339)}})
			h.step("move instance %s", it.Id)
		}
		if err != nil && !gone(err) {
			h.fail(false, "instance change: %v", err)
		}
	case op == 6: // move (timed to timed, all-day by a few days)
		id := h.pick(ids)
		cur := e.FG.Event(e.Cal, id)
		if cur == nil || cur.Status == "cancelled" || len(cur.Recurrence) > 0 {
			return
		}
		var p *calendar.Event
		if isAllDay(cur) {
			d := h.randTime()
			p = &calendar.Event{Start: &calendar.EventDateTime{Date: d.Format("2006-01-02")}, End: &calendar.EventDateTime{Date: d.AddDate(0, 0, 1+h.intn(2)).Format("2006-01-02")}}
		} else {
			st := h.randTime()
			p = &calendar.Event{Start: &calendar.EventDateTime{DateTime: st.Format(time.RFC3339)}, End: &calendar.EventDateTime{DateTime: st.Add(time.Hour).Format(time.RFC3339)}}
		}
		if _, err := e.FG.PatchEvent(e.Cal, id, p); err != nil && !gone(err) {
			h.fail(false, "move: %v", err)
		}
		h.step("move %s", id)
	case op == 7 || op == 8: // edit title / transparency / decline
		id := h.pick(ids)
		p := &calendar.Event{Summary: fmt.Sprintf("edit%d", h.intn(100))}
		switch h.intn(3) {
		case 0:
			p.Transparency = []string{"transparent", "opaque"}[h.intn(2)]
		case 1:
			p.Attendees = []*calendar.EventAttendee{{Email: email, Self: true, ResponseStatus: []string{"declined", "accepted"}[h.intn(2)]}}
		}
		if _, err := e.FG.PatchEvent(e.Cal, id, p); err != nil && !gone(err) {
			h.fail(false, "edit: %v", err)
		}
		h.step("edit %s", id)
	default: // delete
		id := h.pick(ids)
		if err := e.FG.DeleteEvent(e.Cal, id); err != nil && !gone(err) {
			h.fail(false, "delete: %v", err)
		}
		h.step("delete %s", id)
	}
}

// retitleAll edits every live single event and series master: whatever a listing
// snapshot taken before holds is now stale.
func (h *history) retitleAll(tag string) {
	h.mu.Lock()
	ids := append([]string{}, h.ids...)
	h.mu.Unlock()
	for _, id := range ids {
		if _, err := h.e.FG.PatchEvent(h.e.Cal, id, &calendar.Event{Summary: tag}); err != nil && !gone(err) {
			h.fail(false, "retitle: %v", err)
		}
	}
	h.step("  every event retitled %q", tag)
}

func (h *history) injectStale() {
	e := h.e
	ctx := context.Background()
	id := fmt.Sprintf("stale%05d", h.intn(100000))
	st := h.randTime()
	ev := store.Event{Title: "stale", Start: st, End: st.Add(time.Hour), Busy: true, Months: store.MonthsSpanned(st, st.Add(time.Hour))}
	if _, err := e.Store.Doc(e.Ref).Collection("events").Doc(id).Set(ctx, ev); err != nil {
		h.fail(false, "inject: %v", err)
	}
	for _, m := range ev.Months {
		doc := e.Store.Busy(tenant, staff).Doc(store.BusyDocID(e.Ref.Connection, e.Ref.Calendar, m))
		if _, err := doc.Set(ctx, map[string]any{"month": m, "items": map[string]any{id: store.BusyItem{Start: ev.Start, End: ev.End}}}, mergeAll()); err != nil {
			h.fail(false, "inject busy: %v", err)
		}
	}
	h.step("  stale event %s left in the store", id)
}

func isAllDay(ev *calendar.Event) bool { return ev.Start != nil && ev.Start.Date != "" }

func gone(err error) bool {
	var ce *fakegoogle.ControlError
	return errors.As(err, &ce) && (ce.Status == 404 || ce.Status == 410)
}

func pushMsg(m messages.Sync) messages.Sync {
	m.Reason = "push"
	return m
}

func (h *history) newWorker() *worker { return &worker{counts: h.counts} }

// runOne runs one message on a fresh worker.
func (h *history) runOne(w *worker, msg messages.Sync) (syncer.Stats, error) {
	return h.e.S.RunStats(w.ctx(context.Background()), msg, h.e.FG.Now())
}

// deliver simulates what one notification causes, with one fault scenario armed.
func (h *history) deliver() {
	e := h.e
	msg := e.Msg
	msg.Reason = "push"
	if h.intn(5) == 0 {
		msg.Reason = "full"
	}
	workers := []*worker{h.newWorker()}
	runs := 1
	var fired []string // faults armed through the fake's queue: counted if consumed
	// Weighted scenarios (percent); the costly ones (slow worker, storm) are rare.
	switch f := h.intn(100); {
	case f < 8:
		h.step("  notification dropped")
		h.counts.add(fDropped)
		return
	case f < 16:
		status := []int{429, 500}[f%2]
		_ = e.FG.AddFault(fakegoogle.Fault{Op: "events.list", Status: status})
		fired = append(fired, map[int]string{429: fGoogle429, 500: fGoogle500}[status])
		h.step("  fault %d on the first page", status)
	case f < 26:
		_ = e.FG.InvalidateSyncTokens(e.Cal)
		h.step("  sync tokens invalidated (410)")
		if h.intn(2) == 0 {
			// What a deletion Google no longer reports leaves behind (real Google drops
			// old tombstones): only the full resync's sweep can remove it.
			h.injectStale()
			h.counts.add(fStaleLeftover)
		}
		if msg.Reason != "full" {
			fired = append(fired, fTokenInvalidated)
		}
	case f < 34:
		page := 1 + h.intn(2)
		e.S.AfterPage = func(_ store.CalRef, p int) error {
			if p == page {
				h.counts.add(fDiesBetweenPages)
				return errors.New("worker died")
			}
			return nil
		}
		h.step("  worker dies after page %d", page)
	case f < 44:
		workers[0].crashAtPage = 1 + h.intn(4)
		workers[0].crashBefore = h.intn(2) == 0
		h.step("  worker dies at its page-write commit %d (before sending: %v)", workers[0].crashAtPage, workers[0].crashBefore)
	case f < 56: // a Google error on a later page, or on a full listing
		h.retitleAll("before a long incremental listing") // every event changed: several pages
		defer func(n int64) { e.S.PageSize = n }(e.S.PageSize)
		e.S.PageSize = 1
		status := []int{410, 429, 500}[h.intn(3)]
		page := 2 // a listing of a few events has two pages, rarely three
		if status == 410 {
			page += h.intn(2)
		}
		onFull := status != 410 && h.intn(2) == 0
		if onFull {
			page = 1 + h.intn(2)
			msg.Reason = "full"
		}
		var once atomic.Bool
		e.FG.SetListHook(func(p fakegoogle.ListPage) *fakegoogle.Fault {
			if p.Page != page || (onFull && p.Incremental) || !once.CompareAndSwap(false, true) {
				return nil
			}
			switch {
			case status == 410:
				h.counts.add(f410MidPaging)
			case onFull:
				h.counts.add(map[int]string{429: f429Full, 500: f500Full}[status])
			default:
				h.counts.add(map[int]string{429: f429LaterPage, 500: f500LaterPage}[status])
			}
			return &fakegoogle.Fault{Status: status}
		})
		h.step("  fault %d on page %d (full listing: %v, page size 1)", status, page, onFull)
	case f < 66: // Google-side changes while the sync pages; the notification may follow
		page := 1 + h.intn(3)
		notify := h.intn(2) == 0
		var once atomic.Bool
		e.FG.SetListHook(func(p fakegoogle.ListPage) *fakegoogle.Fault {
			if p.Page != page || !once.CompareAndSwap(false, true) {
				return nil
			}
			h.counts.add(fChangeWhilePage)
			h.hook(func() {
				h.step("  while the sync fetches page %d:", page)
				h.change()
				if h.intn(2) == 0 {
					h.retitleAll("during paging")
				}
				if notify {
					st, err := h.runOne(h.newWorker(), pushMsg(e.Msg))
					h.step("  its notification while the sync holds the lease: %s %v", st.Outcome, err)
				}
			})
			return nil
		})
		h.step("  change while paging page %d (notified: %v)", page, notify)
	case f < 78: // Firestore trouble at the transport
		w := workers[0]
		switch h.intn(3) {
		case 0:
			w.abortAt, w.abortN = 1+h.intn(6), 1+h.intn(2)
			h.step("  Firestore Aborted on commits %d..%d", w.abortAt, w.abortAt+w.abortN-1)
		default:
			w.deadlineAt, w.deadlineSent = 1+h.intn(8), h.intn(2) == 0
			h.step("  Firestore DeadlineExceeded on commit %d (applied: %v)", w.deadlineAt, w.deadlineSent)
		}
	case f < 80: // a stalled worker whose lease is taken over, then it writes its stale page
		h.slowWorker()
		return
	case f < 87:
		runs = 3 + h.intn(3)
		h.counts.add(fConcurrent3)
		h.step("  %d concurrent deliveries", runs)
	case f < 89:
		h.budgetStorm()
	}
	if runs == 1 && h.intn(6) == 0 {
		runs = 2
		h.counts.add(fDuplicated)
		h.step("  notification duplicated")
	}
	for len(workers) < runs {
		workers = append(workers, h.newWorker())
	}
	var wg sync.WaitGroup
	errs := make([]error, runs)
	stats := make([]syncer.Stats, runs)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stats[i], errs[i] = h.runOne(workers[i], msg)
		}()
	}
	wg.Wait()
	e.FG.SetListHook(nil)
	e.S.AfterPage = nil
	h.checkHook()
	if len(fired) > 0 && len(e.FG.Faults()) == 0 {
		for _, k := range fired {
			if k != fTokenInvalidated || stats[0].Full {
				h.counts.add(k)
			}
		}
	}
	e.FG.ClearFaults()
	for i, err := range errs {
		h.step("  run %d: %s %v", i, stats[i].Outcome, err)
		if err != nil {
			h.redeliver(msg)
		}
	}
	h.drainQueue()
}

// redeliver is Pub/Sub redelivering a failed message after backoff, sometimes after the
// lease of a dead worker has expired.
func (h *history) redeliver(msg messages.Sync) {
	expired := h.intn(2) == 0
	if expired {
		h.e.FG.Advance(3 * time.Minute)
	}
	st, err := h.runOne(h.newWorker(), msg)
	if expired && st.Runs > 0 {
		h.counts.add(fRedeliverExpired)
	}
	h.step("  redelivery (lease expired: %v): %s %v", expired, st.Outcome, err)
}

// slowWorker: worker A pages through a full listing and stalls fetching page 2 (a slow
// Google answer); meanwhile Google changes every event, A's lease expires, worker B takes
// it over and syncs; then A receives its stale page and writes it.
func (h *history) slowWorker() {
	e := h.e
	defer func(n int64) { e.S.PageSize = n }(e.S.PageSize)
	e.S.PageSize = 1 // a second page whenever there are two events
	var once atomic.Bool
	var bDone atomic.Bool
	e.FG.SetListHook(func(p fakegoogle.ListPage) *fakegoogle.Fault {
		if p.Page != 2 || !once.CompareAndSwap(false, true) {
			return nil
		}
		h.hook(func() {
			h.retitleAll("changed while A stalls")
			e.FG.Advance(3 * time.Minute)
			st, err := h.runOne(h.newWorker(), pushMsg(e.Msg))
			h.step("  B takes over the expired lease: %s %v", st.Outcome, err)
			bDone.Store(st.Runs > 0 && err == nil)
		})
		return nil
	})
	msg := e.Msg
	msg.Reason = "full"
	st, err := h.runOne(h.newWorker(), msg)
	e.FG.SetListHook(nil)
	h.step("  stalled worker A (full listing) after B: %s %v", st.Outcome, err)
	h.checkHook()
	if bDone.Load() && st.Outcome == "lease_lost" {
		// A resumed after B had taken over and finished, and stopped at its next write.
		h.counts.add(fLeaseTakenOver)
	}
	if err != nil {
		h.redeliver(e.Msg)
	}
}

// budgetStorm: every pass of the lease holder sees a Google change and its
// notification arrive while it pages, so it loops until MaxLoops and hands over through
// Publish; the handed-over message is delivered afterwards (drainQueue).
func (h *history) budgetStorm() {
	e := h.e
	var passes atomic.Int32
	e.FG.SetListHook(func(p fakegoogle.ListPage) *fakegoogle.Fault {
		if p.Page != 1 || passes.Add(1) > syncer.MaxLoops {
			return nil
		}
		h.hook(func() {
			h.change()
			st, err := h.runOne(h.newWorker(), pushMsg(e.Msg))
			if st.Outcome != "coalesced" || err != nil {
				h.step("  storm notification: %s %v", st.Outcome, err)
			}
		})
		return nil
	})
	h.step("  notification storm through %d passes", syncer.MaxLoops)
}

// drainQueue delivers the hand-over messages the syncer published.
func (h *history) drainQueue() {
	for {
		h.mu.Lock()
		if len(h.queue) == 0 {
			h.mu.Unlock()
			return
		}
		m := h.queue[0]
		h.queue = h.queue[1:]
		h.mu.Unlock()
		st, err := h.runOne(h.newWorker(), m)
		h.step("  handed-over message delivered: %s %v", st.Outcome, err)
		h.counts.add(fHandover)
		if err != nil {
			h.redeliver(m)
		}
	}
}

func (h *history) run() {
	h.t0 = time.Now()
	zone := zones[h.intn(len(zones))]
	h.e = newEnvWith(h.t, faultyFirestore(h.t), zone)
	e := h.e
	e.zone = zone
	e.S.LoopDelay = -1 // no real-time wait before looping on dirty
	e.S.Publish = func(_ context.Context, topic string, v any) error {
		m, ok := v.(messages.Sync)
		if topic != topology.CalendarSync || !ok {
			return fmt.Errorf("unexpected publish to %s: %T", topic, v)
		}
		h.mu.Lock()
		h.queue = append(h.queue, m)
		h.mu.Unlock()
		return nil
	}
	if h.intn(3) == 0 {
		h.staffZone = zones[h.intn(len(zones))]
		if _, err := e.Store.Staff(tenant, staff).Set(context.Background(), store.Staff{Availability: &availability.Rules{TimeZone: h.staffZone}}); err != nil {
			h.fail(false, "staff zone: %v", err)
		}
	}
	h.step("calendar zone %s, staff zone %q", zone, h.staffZone)
	e.S.PageSize = int64(2 + h.intn(3))
	for range 1 + h.intn(3) {
		h.change()
	}
	if _, err := h.runOne(h.newWorker(), e.Msg); err != nil { // the select's full sync
		h.fail(false, "first sync: %v", err)
	}
	steps := 1 + h.intn(3)
	for range steps {
		for range 1 + h.intn(2) {
			h.change()
		}
		h.deliver()
		switch h.intn(16) {
		case 0, 1:
			e.FG.Advance(time.Duration(h.intn(48)) * time.Hour)
		case 2: // past the horizon slack: the next run resyncs fully, instances enter the horizon
			e.FG.Advance(8 * 24 * time.Hour)
			h.step("  clock +8 days")
		}
	}
	// Quiesce: no faults, leases of dead workers expired, then the safety-net sync.
	e.FG.ClearFaults()
	e.FG.SetListHook(nil)
	e.S.AfterPage = nil
	h.drainQueue()
	e.FG.Advance(3 * time.Minute)
	safety := e.Msg
	safety.Reason = "safety"
	if _, err := h.runOne(h.newWorker(), safety); err != nil {
		h.fail(false, "final safety sync: %v", err)
	}
	h.drainQueue()
	h.check()
	if os.Getenv("CONVERGENCE_SEED") != "" {
		h.t.Logf("steps:\n%s", strings.Join(h.log, "\n"))
	}
}

// check compares the store with the oracle's expectation.
func (h *history) check() {
	e := h.e
	ctx := context.Background()
	calSnap, err := e.Store.Doc(e.Ref).Get(ctx)
	if err != nil {
		h.fail(false, "read calendar: %v", err)
	}
	cal := calSnap.Data()
	if owner, _ := cal["leaseOwner"].(string); owner != "" || cal["dirty"] == true {
		h.fail(true, "lease %q dirty %v after quiescing", owner, cal["dirty"])
	}
	now := e.FG.Now()
	horizonEnd, _ := cal["horizonEnd"].(time.Time)
	if horizonEnd.Before(now.Add(e.S.Horizon-oracleHorizonLag)) || horizonEnd.After(now.Add(e.S.Horizon)) {
		h.fail(true, "horizonEnd %s outside [now+horizon−7d, now+horizon] (now %s)", horizonEnd, now)
	}
	m, ok := e.FG.Model(e.Cal)
	if !ok {
		h.fail(false, "the fake lost the calendar")
	}
	want, err := oracleExpect(m, h.staffZone, now, horizonEnd, e.S.Past)
	if err != nil {
		h.fail(false, "oracle: %v", err)
	}
	got, err := storedView(ctx, e.Store.FS, tenant, staff, e.Ref.Connection, e.Ref.Calendar)
	if err != nil {
		h.fail(false, "read store: %v", err)
	}
	if d := viewDiff(want, got); len(d) > 0 {
		h.fail(true, "store differs from the oracle (%d):\n%s", len(d), joinLines(d))
	}
}
