package syncer_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/store"
)

// TestMain raises test parallelism for the I/O-bound convergence histories (each waits
// on the emulator most of the time) unless -parallel was given.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", "8")
	}
	os.Exit(m.Run())
}

// TestConvergence replays seeded random histories of Google-side changes (create, move,
// edit, delete, recurring series with edited and cancelled instances, all-day events,
// events declined by the owner, transparent events) interleaved with faults (429, 500,
// 410 via invalidated tokens, dropped and duplicated notifications, concurrent
// deliveries, the worker dying between pages). After quiescing and one final safety
// sync, the stored events and busy items must equal what the fake Google holds.
//
// CONVERGENCE_HISTORIES sets how many histories run (default 200); CONVERGENCE_SEED runs
// one seed only.
func TestConvergence(t *testing.T) {
	n := 200
	if v := os.Getenv("CONVERGENCE_HISTORIES"); v != "" {
		if x, err := strconv.Atoi(v); err == nil && x > 0 {
			n = x
		}
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
			seeds = append(seeds, uint64(i+1))
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			h := &history{t: t, rng: rand.New(rand.NewPCG(seed, 0x5eed)), seed: seed}
			h.run()
		})
	}
}

type history struct {
	t    *testing.T
	rng  *rand.Rand
	seed uint64
	e    *env
	ids  []string // event ids created (singles and masters)
	ser  []string // series masters
	log  []string
}

func (h *history) fail(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf("seed %d: %s\nsteps:\n%s\nrerun: CONVERGENCE_SEED=%d scripts/with-emulators.sh go test -run 'TestConvergence' ./shared/syncer/",
		h.seed, fmt.Sprintf(format, args...), joinLines(h.log), h.seed)
}

func (h *history) step(s string, args ...any) { h.log = append(h.log, fmt.Sprintf(s, args...)) }

func (h *history) randTime() time.Time {
	// Within the next ~70 days, on a 15-minute grid.
	return h.e.FG.Now().Truncate(time.Hour).Add(time.Duration(h.rng.IntN(70*24*4)) * 15 * time.Minute)
}

func (h *history) pick(ids []string) string { return ids[h.rng.IntN(len(ids))] }

func (h *history) change() {
	e := h.e
	switch op := h.rng.IntN(11); {
	case op <= 2 || len(h.ids) == 0: // create timed (sometimes transparent or declined)
		st := h.randTime()
		ev := timed(fmt.Sprintf("ev%d", len(h.ids)), st, time.Duration(1+h.rng.IntN(8))*15*time.Minute)
		switch h.rng.IntN(5) {
		case 0:
			ev.Transparency = "transparent"
		case 1:
			ev.Attendees = []*calendar.EventAttendee{{Email: email, Self: true, ResponseStatus: "declined"}}
		}
		out, err := e.FG.CreateEvent(e.Cal, ev)
		if err != nil {
			h.fail("create: %v", err)
		}
		h.ids = append(h.ids, out.Id)
		h.step("create timed %s", out.Id)
	case op == 3: // all-day
		d := h.randTime().In(time.UTC)
		ev := &calendar.Event{Summary: "allday", Start: &calendar.EventDateTime{Date: d.Format("2006-01-02")}, End: &calendar.EventDateTime{Date: d.AddDate(0, 0, 1+h.rng.IntN(3)).Format("2006-01-02")}}
		out, err := e.FG.CreateEvent(e.Cal, ev)
		if err != nil {
			h.fail("create all-day: %v", err)
		}
		h.ids = append(h.ids, out.Id)
		h.step("create all-day %s", out.Id)
	case op == 4: // recurring series
		ev := timed("series", h.randTime(), time.Hour)
		ev.Start.TimeZone, ev.End.TimeZone = "Europe/Berlin", "Europe/Berlin"
		rules := []string{"RRULE:FREQ=WEEKLY", "RRULE:FREQ=DAILY;COUNT=10", "RRULE:FREQ=WEEKLY;COUNT=6"}
		ev.Recurrence = []string{rules[h.rng.IntN(len(rules))]}
		out, err := e.FG.CreateEvent(e.Cal, ev)
		if err != nil {
			h.fail("create series: %v", err)
		}
		h.ids = append(h.ids, out.Id)
		h.ser = append(h.ser, out.Id)
		h.step("create series %s %s", out.Id, ev.Recurrence[0])
	case op == 5 && len(h.ser) > 0: // edit or cancel one instance
		m := h.pick(h.ser)
		var inst []*calendar.Event
		for _, ev := range e.FG.Events(e.Cal, true, time.Time{}, time.Time{}) {
			if ev.RecurringEventId == m && ev.Status != "cancelled" {
				inst = append(inst, ev)
			}
		}
		if len(inst) == 0 {
			return
		}
		it := inst[h.rng.IntN(min(len(inst), 8))]
		var err error
		if h.rng.IntN(2) == 0 {
			_, err = e.FG.PatchEvent(e.Cal, it.Id, &calendar.Event{Status: "cancelled"})
			h.step("cancel instance %s", it.Id)
		} else {
			st := h.randTime()
			_, err = e.FG.PatchEvent(e.Cal, it.Id, &calendar.Event{Summary: "moved instance", Start: &calendar.EventDateTime{DateTime: st.Format(time.RFC3339)}, End: &calendar.EventDateTime{DateTime: st.Add(time.Hour).Format(time.RFC3339)}})
			h.step("move instance %s", it.Id)
		}
		if err != nil {
			h.fail("instance change: %v", err)
		}
	case op == 6: // move
		id := h.pick(h.ids)
		if e.FG.Event(e.Cal, id) == nil || isAllDay(e.FG.Event(e.Cal, id)) {
			return
		}
		st := h.randTime()
		p := &calendar.Event{Start: &calendar.EventDateTime{DateTime: st.Format(time.RFC3339)}, End: &calendar.EventDateTime{DateTime: st.Add(time.Hour).Format(time.RFC3339)}}
		if _, err := e.FG.PatchEvent(e.Cal, id, p); err != nil && !gone(err) {
			h.fail("move: %v", err)
		}
		h.step("move %s", id)
	case op == 7: // edit title / transparency / decline
		id := h.pick(h.ids)
		p := &calendar.Event{Summary: fmt.Sprintf("edit%d", h.rng.IntN(100))}
		switch h.rng.IntN(3) {
		case 0:
			p.Transparency = []string{"transparent", "opaque"}[h.rng.IntN(2)]
		case 1:
			p.Attendees = []*calendar.EventAttendee{{Email: email, Self: true, ResponseStatus: []string{"declined", "accepted"}[h.rng.IntN(2)]}}
		}
		if _, err := e.FG.PatchEvent(e.Cal, id, p); err != nil && !gone(err) {
			h.fail("edit: %v", err)
		}
		h.step("edit %s", id)
	default: // delete
		id := h.pick(h.ids)
		if err := e.FG.DeleteEvent(e.Cal, id); err != nil && !gone(err) {
			h.fail("delete: %v", err)
		}
		h.step("delete %s", id)
	}
}

func (h *history) injectStale() {
	e := h.e
	ctx := context.Background()
	id := fmt.Sprintf("stale%05d", h.rng.IntN(100000))
	st := h.randTime()
	ev := store.Event{Title: "stale", Start: st, End: st.Add(time.Hour), Busy: true, Months: store.MonthsSpanned(st, st.Add(time.Hour))}
	if _, err := e.Store.Doc(e.Ref).Collection("events").Doc(id).Set(ctx, ev); err != nil {
		h.fail("inject: %v", err)
	}
	for _, m := range ev.Months {
		doc := e.Store.Busy(tenant, staff).Doc(store.BusyDocID(e.Ref.Connection, e.Ref.Calendar, m))
		if _, err := doc.Set(ctx, map[string]any{"month": m, "items": map[string]any{id: store.BusyItem{Start: ev.Start, End: ev.End}}}, mergeAll()); err != nil {
			h.fail("inject busy: %v", err)
		}
	}
	h.step("  stale event %s left in the store", id)
}

func isAllDay(ev *calendar.Event) bool { return ev.Start != nil && ev.Start.Date != "" }

func gone(err error) bool {
	var ce *fakegoogle.ControlError
	return errors.As(err, &ce) && (ce.Status == 404 || ce.Status == 410)
}

// deliver simulates what one notification causes: nothing (dropped), one run, or two
// (duplicated, concurrently), with faults injected before.
func (h *history) deliver() {
	e := h.e
	switch f := h.rng.IntN(12); f {
	case 0:
		h.step("  notification dropped")
		return
	case 1:
		_ = e.FG.AddFault(fakegoogle.Fault{Op: "events.list", Status: 429})
		h.step("  fault 429")
	case 2:
		_ = e.FG.AddFault(fakegoogle.Fault{Op: "events.list", Status: 500})
		h.step("  fault 500")
	case 3:
		_ = e.FG.InvalidateSyncTokens(e.Cal)
		h.step("  sync tokens invalidated (410)")
		if h.rng.IntN(2) == 0 {
			// What a deletion Google no longer reports leaves behind (real Google drops
			// old tombstones): only the full resync's sweep can remove it.
			h.injectStale()
		}
	case 4:
		page := 1 + h.rng.IntN(2)
		e.S.AfterPage = func(_ store.CalRef, p int) error {
			if p == page {
				return errors.New("worker died")
			}
			return nil
		}
		h.step("  worker dies after page %d", page)
	}
	runs := 1
	if h.rng.IntN(6) == 0 {
		runs = 2
		h.step("  notification duplicated")
	}
	var wg sync.WaitGroup
	errs := make([]error, runs)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.S.RunStats(context.Background(), e.Msg, e.FG.Now())
		}()
	}
	wg.Wait()
	e.S.AfterPage = nil
	for _, err := range errs {
		if err != nil {
			h.step("  run: %v", err)
			// Pub/Sub redelivers after backoff (sometimes after the lease expired).
			if h.rng.IntN(2) == 0 {
				e.FG.Advance(3 * time.Minute)
			}
			if _, err := e.S.RunStats(context.Background(), e.Msg, e.FG.Now()); err != nil {
				h.step("  redelivery: %v", err)
			}
		}
	}
}

func (h *history) run() {
	h.e = newEnv(h.t)
	e := h.e
	e.S.PageSize = int64(2 + h.rng.IntN(4))
	for range h.rng.IntN(5) {
		h.change()
	}
	e.mustRun() // the select's full sync
	steps := 6 + h.rng.IntN(10)
	for range steps {
		for range 1 + h.rng.IntN(2) {
			h.change()
		}
		h.deliver()
		if h.rng.IntN(8) == 0 {
			e.FG.Advance(time.Duration(h.rng.IntN(48)) * time.Hour)
		}
	}
	// Quiesce: no faults, leases of dead workers expired, then the safety-net sync.
	e.FG.ClearFaults()
	e.S.AfterPage = nil
	e.FG.Advance(3 * time.Minute)
	e.Msg.Reason = "safety"
	if _, err := e.S.RunStats(context.Background(), e.Msg, e.FG.Now()); err != nil {
		h.fail("final safety sync: %v", err)
	}
	if c := e.calDoc(); c.LeaseOwner != "" || c.Dirty {
		h.fail("lease %q dirty %v after quiescing", c.LeaseOwner, c.Dirty)
	}
	if d := diff(e.expected(), e.stored()); len(d) > 0 {
		h.fail("store differs from Google (%d):\n%s", len(d), joinLines(d))
	}
}
