package syncer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/syncer"
)

func TestPagingSavesTokenAfterLastPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 7 {
		e.create(timed(fmt.Sprintf("E%d", i), t0.Add(time.Duration(i+1)*time.Hour), 30*time.Minute))
	}
	e.S.PageSize = 3
	e.FG.ResetCalls()
	st := e.mustRun()
	if st.ListCalls != 3 || st.Pages != 3 || st.Written != 7 || !st.Full {
		t.Fatalf("stats = %+v, want 3 list calls/pages, 7 written, full", st)
	}
	if n := e.FG.Calls("events.list"); n != 3 {
		t.Fatalf("fake served %d list calls, want 3", n)
	}
	c := e.calDoc()
	if c.SyncToken == "" || c.LeaseOwner != "" || c.SyncRuns != 1 || c.LastSyncAt.IsZero() || c.HorizonEnd.IsZero() {
		t.Fatalf("calendar after sync = %+v", c)
	}
	e.converged()
	// An incremental change costs one list call.
	e.FG.ResetCalls()
	e.create(timed("new", t0.Add(30*time.Hour), time.Hour))
	st = e.mustRun()
	if st.ListCalls != 1 || st.Full || st.Written != 1 {
		t.Fatalf("incremental stats = %+v", st)
	}
	e.converged()
	if logs := e.Logs.String(); !strings.Contains(logs, `"event":"sync.done"`) || strings.Contains(logs, "E3") || strings.Contains(logs, email) {
		t.Fatalf("sync.done missing or logs leak content: %s", logs)
	}
}

func TestCrashBetweenPagesKeepsTokenAndRerunConverges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.S.PageSize = 3
	e.mustRun()
	before := e.calDoc().SyncToken
	for i := range 7 {
		e.create(timed(fmt.Sprintf("C%d", i), t0.Add(time.Duration(i+2)*time.Hour), time.Hour))
	}
	e.S.AfterPage = func(_ store.CalRef, page int) error {
		if page == 2 {
			return errors.New("worker killed")
		}
		return nil
	}
	if _, err := e.run(); !errors.Is(err, syncer.ErrCrash) {
		t.Fatalf("run = %v, want ErrCrash", err)
	}
	c := e.calDoc()
	if c.SyncToken != before {
		t.Fatal("sync token changed although the run died on page 2")
	}
	if c.LeaseOwner == "" {
		t.Fatal("a dead worker's lease should stay until it expires")
	}
	e.S.AfterPage = nil
	// While the dead worker's lease is live, a message coalesces (dirty) and is acked.
	if st := e.mustRun(); st.Outcome != "coalesced" {
		t.Fatalf("outcome while leased = %q", st.Outcome)
	}
	// Once the lease has aged past half its TTL without renewal, messages ask for
	// redelivery instead of being acknowledged; after expiry the redelivery repairs.
	e.FG.Advance(90 * time.Second)
	if _, err := e.run(); !errors.Is(err, syncer.ErrLeaseStalled) {
		t.Fatalf("run on a stalled lease = %v, want ErrLeaseStalled", err)
	}
	e.FG.Advance(90 * time.Second) // lease expires
	e.mustRun()
	e.converged()
	if e.calDoc().SyncToken == before {
		t.Fatal("token not advanced after the repair run")
	}
}

func TestGoneTriggersFullResyncThatSweeps(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	keep := e.create(timed("keep", t0.Add(2*time.Hour), time.Hour))
	e.mustRun()
	// Something Google no longer has (e.g. deleted while tokens were invalid).
	ctx := context.Background()
	stale := store.Event{Title: "stale", Start: t0.Add(5 * time.Hour), End: t0.Add(6 * time.Hour), Busy: true, Months: []string{"2026-11"}}
	if _, err := e.Store.Doc(e.Ref).Collection("events").Doc("stale00001").Set(ctx, stale); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.Busy(tenant, staff).Doc(store.BusyDocID(e.Ref.Connection, e.Ref.Calendar, "2026-11")).Set(ctx,
		map[string]any{"items": map[string]any{"stale00001": store.BusyItem{Start: stale.Start, End: stale.End}}}, mergeAll()); err != nil {
		t.Fatal(err)
	}
	if err := e.FG.InvalidateSyncTokens(e.Cal); err != nil {
		t.Fatal(err)
	}
	e.FG.ResetCalls()
	st := e.mustRun()
	if !st.Full || st.ListCalls != 2 {
		t.Fatalf("stats = %+v, want a 410 then a full listing", st)
	}
	got := e.stored()
	if _, ok := got.Events["stale00001"]; ok {
		t.Fatal("stale event survived the full resync")
	}
	if _, ok := got.Busy["stale00001"]; ok {
		t.Fatal("stale busy item survived the full resync")
	}
	if _, ok := got.Events[keep.Id]; !ok {
		t.Fatal("kept event missing")
	}
	e.converged()
}

func TestCancelledAndMovedEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.create(timed("a", t0.Add(2*time.Hour), time.Hour))
	b := e.create(timed("b", t0.Add(3*time.Hour), time.Hour))
	e.mustRun()
	if err := e.FG.DeleteEvent(e.Cal, a.Id); err != nil {
		t.Fatal(err)
	}
	// Move b into the next month: its busy item must leave November.
	nb := t0.AddDate(0, 1, 0)
	if _, err := e.FG.PatchEvent(e.Cal, b.Id, &calendar.Event{Start: &calendar.EventDateTime{DateTime: nb.Format(time.RFC3339)}, End: &calendar.EventDateTime{DateTime: nb.Add(time.Hour).Format(time.RFC3339)}}); err != nil {
		t.Fatal(err)
	}
	st := e.mustRun()
	if st.Deleted != 1 {
		t.Fatalf("stats = %+v, want 1 deleted", st)
	}
	got := e.stored()
	if _, ok := got.Events[a.Id]; ok {
		t.Fatal("cancelled event kept")
	}
	if !strings.HasPrefix(got.Busy[b.Id], "2026-12:") || strings.Contains(got.Busy[b.Id], "2026-11") {
		t.Fatalf("busy of moved event = %q", got.Busy[b.Id])
	}
	e.converged()
}

func TestBusyRulesAndAllDay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tr := timed("transparent", t0.Add(2*time.Hour), time.Hour)
	tr.Transparency = "transparent"
	dec := timed("declined", t0.Add(3*time.Hour), time.Hour)
	dec.Attendees = []*calendar.EventAttendee{{Email: email, Self: true, ResponseStatus: "declined"}, {Email: "x@example.com", ResponseStatus: "accepted"}}
	own := timed("booking", t0.Add(4*time.Hour), time.Hour)
	own.ExtendedProperties = &calendar.EventExtendedProperties{Private: map[string]string{"calsyncBooking": "b1"}}
	ad := &calendar.Event{Summary: "holiday", Start: &calendar.EventDateTime{Date: "2026-11-30"}, End: &calendar.EventDateTime{Date: "2026-12-02"}}
	ids := map[string]string{}
	for _, ev := range []*calendar.Event{tr, dec, own, ad} {
		ids[ev.Summary] = e.create(ev).Id
	}
	e.mustRun()
	got := e.stored()
	for _, free := range []string{"transparent", "declined", "booking"} {
		if _, ok := got.Busy[ids[free]]; ok {
			t.Errorf("%s event is in the busy index", free)
		}
		if !strings.Contains(got.Events[ids[free]], "|free|") {
			t.Errorf("%s event stored as %q", free, got.Events[ids[free]])
		}
	}
	// All-day in Berlin: 2026-11-29T23:00Z … 2026-12-01T23:00Z; indexed in Nov and Dec.
	if want := "2026-11-29T23:00:00Z|2026-12-01T23:00:00Z|allday|busy|holiday"; got.Events[ids["holiday"]] != want {
		t.Errorf("all-day stored as %q, want %q", got.Events[ids["holiday"]], want)
	}
	if b := got.Busy[ids["holiday"]]; !strings.Contains(b, "2026-11:|2026-11-30|2026-12-02") || !strings.Contains(b, "2026-12:") {
		t.Errorf("all-day busy = %q", b)
	}
	// Nothing but the kept fields reached Firestore.
	snap, err := e.Store.Doc(e.Ref).Collection("events").Doc(ids["declined"]).Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for k := range snap.Data() {
		switch k {
		case "title", "details", "start", "end", "allDay", "busy", "status", "updated", "months", "recurringId", "bookingId", "startDate", "endDate":
		default:
			t.Errorf("event doc holds field %q", k)
		}
	}
	e.converged()
}

func TestRecurringWithinHorizon(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.S.Horizon = 60 * 24 * time.Hour
	series := timed("weekly", t0.Add(2*time.Hour), time.Hour)
	series.Start.TimeZone, series.End.TimeZone = "Europe/Berlin", "Europe/Berlin"
	series.Recurrence = []string{"RRULE:FREQ=WEEKLY"}
	m := e.create(series)
	e.mustRun()
	got := e.stored()
	if n := len(got.Events); n < 8 || n > 9 {
		t.Fatalf("%d instances stored, want the ~9 within a 60-day horizon", n)
	}
	// Edit one instance, cancel another.
	insts := e.FG.Events(e.Cal, true, time.Time{}, time.Time{})
	if _, err := e.FG.PatchEvent(e.Cal, insts[1].Id, &calendar.Event{Summary: "edited"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.FG.PatchEvent(e.Cal, insts[2].Id, &calendar.Event{Status: "cancelled"}); err != nil {
		t.Fatal(err)
	}
	e.mustRun()
	got = e.stored()
	if !strings.HasSuffix(got.Events[insts[1].Id], "|edited") {
		t.Fatalf("edited instance = %q", got.Events[insts[1].Id])
	}
	if _, ok := got.Events[insts[2].Id]; ok {
		t.Fatal("cancelled instance kept")
	}
	e.converged()
	// Time passes: the horizon is extended by a full resync.
	e.FG.Advance(10 * 24 * time.Hour)
	if st := e.mustRun(); !st.Full {
		t.Fatalf("no full resync after the horizon fell behind: %+v", st)
	}
	e.converged()
	_ = m
}

func TestRetryableErrorsAreReturnedAndCounted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustRun()
	e.create(timed("x", t0.Add(time.Hour), time.Hour))
	for i, status := range []int{429, 500} {
		if err := e.FG.AddFault(fakegoogle.Fault{Op: "events.list", Status: status}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.run(); err == nil {
			t.Fatalf("status %d: run returned nil, want an error for redelivery", status)
		}
		c := e.calDoc()
		want := map[int]string{429: "rate_limited", 500: "google_server"}[status]
		if c.Failures != i+1 || c.LastErrorClass != want || c.LeaseOwner != "" {
			t.Fatalf("after %d: failures=%d class=%q lease=%q", status, c.Failures, c.LastErrorClass, c.LeaseOwner)
		}
	}
	if err := e.FG.AddFault(fakegoogle.Fault{Op: "events.list", Status: 403, Reason: "rateLimitExceeded"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.run(); err == nil {
		t.Fatal("403 rateLimitExceeded: want an error")
	}
	e.mustRun()
	if c := e.calDoc(); c.Failures != 0 || c.LastErrorClass != "" {
		t.Fatalf("after success: failures=%d class=%q", c.Failures, c.LastErrorClass)
	}
	e.converged()
}

func TestInvalidGrantMarksReauth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustRun()
	e.FG.RevokeAccount(email)
	if _, err := e.run(); err != nil {
		t.Fatalf("run after revocation = %v, want nil (acknowledged)", err)
	}
	c, err := e.Store.GetConnection(context.Background(), tenant, staff, e.Ref.Connection)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != store.StatusReauthRequired {
		t.Fatalf("status = %q", c.Status)
	}
	if cal := e.calDoc(); cal.LeaseOwner != "" || cal.LastErrorClass != "auth_revoked" {
		t.Fatalf("calendar = lease %q class %q", cal.LeaseOwner, cal.LastErrorClass)
	}
	// Further messages are acknowledged without calling Google.
	e.FG.ResetCalls()
	if st, err := e.run(); err != nil || st.Outcome != "skipped_inactive" || e.FG.Calls("") != 0 {
		t.Fatalf("after reauth: %v %+v calls=%d", err, st, e.FG.Calls(""))
	}
}

func TestCalendarDeletedAtGoogle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustRun()
	if err := e.FG.AddFault(fakegoogle.Fault{Op: "events.list", Status: 404}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.run(); err != nil {
		t.Fatalf("404: %v, want acknowledged", err)
	}
	if c := e.calDoc(); c.LastErrorClass != "not_found" || c.LeaseOwner != "" {
		t.Fatalf("calendar = %+v", c)
	}
}

func TestLeaseCoalescesConcurrentRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustRun()
	e.create(timed("x", t0.Add(time.Hour), time.Hour))
	// Slow Google so that runs overlap the way a storm's messages do.
	if err := e.FG.AddFault(fakegoogle.Fault{Op: "events.list", Latency: "150ms", Count: 100}); err != nil {
		t.Fatal(err)
	}
	e.FG.ResetCalls()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.run(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := e.FG.Calls("events.list"); n < 1 || n > 3 {
		t.Fatalf("40 concurrent messages cost %d list calls, want 1..3", n)
	}
	if c := e.calDoc(); c.LeaseOwner != "" || c.Dirty {
		t.Fatalf("lease %q dirty %v after the storm", c.LeaseOwner, c.Dirty)
	}
	e.converged()
}

func TestDeselectedDuringRunDeletesData(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(timed("x", t0.Add(time.Hour), time.Hour))
	e.S.AfterPage = func(ref store.CalRef, _ int) error {
		_, err := e.Store.Doc(ref).Update(context.Background(), []firestoreUpdate{{Path: "selected", Value: false}})
		return err
	}
	st := e.mustRun()
	if st.Outcome != "deselected" {
		t.Fatalf("outcome = %q", st.Outcome)
	}
	if got := e.stored(); len(got.Events) != 0 || len(got.Busy) != 0 {
		t.Fatalf("data left after deselect: %+v", got)
	}
}

// TestAccessWithdrawnDuringRunDeletesData: a disconnect (connection and calendar deleted)
// or a revoke at Google (connection turned reauth_required and its data deleted) while a
// sync is between pages must not leave the pages it still writes behind.
func TestAccessWithdrawnDuringRunDeletesData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		withdraw func(e *env) error
		outcome  string
	}{
		{"disconnect", func(e *env) error {
			return e.Store.DeleteConnectionData(context.Background(), e.Ref.Tenant, e.Ref.Staff, e.Ref.Connection)
		}, "deselected"},
		{"revoked at Google", func(e *env) error {
			return e.S.Accounts.MarkReauth(context.Background(), e.Conn, t0)
		}, "deselected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			for i := range 3 {
				e.create(timed(fmt.Sprintf("x%d", i), t0.Add(time.Duration(i+1)*time.Hour), time.Hour))
			}
			e.S.PageSize = 1
			e.S.AfterPage = func(ref store.CalRef, page int) error {
				if page == 1 {
					return tc.withdraw(e)
				}
				return nil
			}
			st := e.mustRun()
			if st.Outcome != tc.outcome {
				t.Fatalf("outcome = %q, want %q", st.Outcome, tc.outcome)
			}
			if got := e.stored(); len(got.Events) != 0 || len(got.Busy) != 0 {
				t.Fatalf("data left after access was withdrawn: %d events, %d busy items", len(got.Events), len(got.Busy))
			}
		})
	}
}

// TestDeselectReselectDuringRunKeepsEvents: the staff member deselects (events deleted,
// epoch bumped, as connect does) and reselects while a sync is between pages. The run must
// not save a token that would skip the deleted pages: every event is stored at the end.
func TestDeselectReselectDuringRunKeepsEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 4 {
		e.create(timed(fmt.Sprintf("x%d", i), t0.Add(time.Duration(i+1)*time.Hour), time.Hour))
	}
	e.S.PageSize = 1
	fired := false
	e.S.AfterPage = func(ref store.CalRef, page int) error {
		if page != 2 || fired {
			return nil
		}
		fired = true
		ctx := context.Background()
		if _, err := e.Store.Doc(ref).Update(ctx, []firestoreUpdate{{Path: "selected", Value: false}, {Path: "syncToken", Value: ""}, {Path: "epoch", Value: firestoreIncrement(1)}}); err != nil {
			return err
		}
		if err := e.Store.DeleteCalendarData(ctx, ref); err != nil {
			return err
		}
		_, err := e.Store.Doc(ref).Update(ctx, []firestoreUpdate{{Path: "selected", Value: true}})
		return err
	}
	e.mustRun()
	if got := e.stored(); len(got.Events) != 4 {
		t.Fatalf("%d events stored after deselect+reselect during the run, want 4", len(got.Events))
	}
}

// TestSlowDeselectDeleteDuringRelisting: deselect bumps the epoch, the staff member
// reselects, and deselect's own (slow) delete lands while the re-listing runs; deselect
// then bumps the epoch again. No pass may save a token that skips what was deleted.
func TestSlowDeselectDeleteDuringRelisting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 4 {
		e.create(timed(fmt.Sprintf("x%d", i), t0.Add(time.Duration(i+1)*time.Hour), time.Hour))
	}
	e.S.PageSize = 1
	calls := 0
	e.S.AfterPage = func(ref store.CalRef, page int) error {
		calls++
		ctx := context.Background()
		switch calls {
		case 2: // deselect's first half, then a reselect
			if _, err := e.Store.Doc(ref).Update(ctx, []firestoreUpdate{{Path: "selected", Value: false}, {Path: "syncToken", Value: ""}, {Path: "epoch", Value: firestoreIncrement(1)}}); err != nil {
				return err
			}
			_, err := e.Store.Doc(ref).Update(ctx, []firestoreUpdate{{Path: "selected", Value: true}})
			return err
		case 7: // deselect's delete lands during the re-listing, then its second bump
			if err := e.Store.DeleteCalendarData(ctx, ref); err != nil {
				return err
			}
			_, err := e.Store.Doc(ref).Update(ctx, []firestoreUpdate{{Path: "epoch", Value: firestoreIncrement(1)}})
			return err
		}
		return nil
	}
	e.mustRun()
	e.S.AfterPage = nil
	e.mustRun() // an ordinary incremental sync afterwards must not hide the loss
	if got := e.stored(); len(got.Events) != 4 {
		t.Fatalf("%d events stored, want 4", len(got.Events))
	}
}

// TestDeselectThenRetryableErrorLeavesNothing: the calendar is deselected between pages
// and the run then fails retryably; no later sync comes for a deselected calendar, so the
// failing run itself must delete what it wrote.
func TestDeselectThenRetryableErrorLeavesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 3 {
		e.create(timed(fmt.Sprintf("x%d", i), t0.Add(time.Duration(i+1)*time.Hour), time.Hour))
	}
	e.S.PageSize = 1
	e.S.AfterPage = func(ref store.CalRef, page int) error {
		ctx := context.Background()
		switch page {
		case 1: // deselect: flag, then delete; the run goes on and writes page 2
			if _, err := e.Store.Doc(ref).Update(ctx, []firestoreUpdate{{Path: "selected", Value: false}, {Path: "syncToken", Value: ""}, {Path: "epoch", Value: firestoreIncrement(1)}}); err != nil {
				return err
			}
			return e.Store.DeleteCalendarData(ctx, ref)
		case 2: // then Google fails: page 3 is never listed
			return e.FG.AddFault(fakegoogle.Fault{Op: "events.list", Status: 503, Count: 5})
		}
		return nil
	}
	if _, err := e.run(); err == nil {
		t.Fatal("the run should have failed retryably")
	}
	if got := e.stored(); len(got.Events) != 0 || len(got.Busy) != 0 {
		t.Fatalf("data left: %d events, %d busy items", len(got.Events), len(got.Busy))
	}
}

// TestMillenniaLongEventIndexedWithinTheWindow: Google accepts dates up to the year 9999;
// an all-day event from 2026 to 8026 (found by FuzzFromGoogle: 72,000 months) is indexed
// only in the months of the sync window, and the sync converges.
func TestMillenniaLongEventIndexedWithinTheWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	long := e.create(&calendar.Event{Summary: "forever", Start: &calendar.EventDateTime{Date: "2026-11-30"}, End: &calendar.EventDateTime{Date: "8026-12-01"}})
	e.mustRun()
	got := e.stored()
	b, ok := got.Busy[long.Id]
	if !ok {
		t.Fatal("the long event is not in the busy index")
	}
	months := strings.Count(b, ",") + 1
	if months < 12 || months > 20 {
		t.Fatalf("indexed in %d months; want the sync window's (about 13)", months)
	}
	e.converged()
}
