// Package syncer runs the inbound sync of one selected Google calendar into Firestore
// (DESIGN.md "Sync"): a per-calendar lease with a dirty flag so that a storm of push
// notifications costs a few runs, paging events.list with the stored sync token (saved
// only after every page is written), 410 → full resync with mark-and-sweep, busy index
// docs derived in the same run, recurring instances kept inside a horizon, and Google's
// errors mapped to retry (rate limits, 5xx), reauth_required (revoked grant) or a
// recorded error (calendar gone).
//
// Crash safety: the sync token is saved only at the end, and every write is idempotent,
// so a run that dies between pages is repaired by the next run, which lists again from
// the old token. Within a page, event documents first grow their "months" to the union
// of old and new months, then the busy docs change, then "months" shrinks; a crash at
// any point leaves "months" a superset of where the event is indexed, so the next run
// removes stale busy items.
//
// Logs carry ids and counts only, never titles, details or e-mail addresses.
package syncer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/calendar/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/belbo/calsync/shared/accounts"
	"github.com/belbo/calsync/shared/booking"
	"github.com/belbo/calsync/shared/calevents"
	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/topology"
)

// Defaults.
const (
	DefaultHorizon  = 395 * 24 * time.Hour // ~13 months ahead
	DefaultPast     = 90 * 24 * time.Hour  // history loaded by a full sync
	DefaultLeaseTTL = 2 * time.Minute
	// HorizonSlack: when the stored horizon end falls this far behind now+Horizon, the
	// next run is a full resync, which stores the recurring instances that came into range.
	HorizonSlack = 7 * 24 * time.Hour
	// MaxLoops bounds how often one Run loops on dirty before it hands over by
	// publishing a new message (so one invocation never runs forever).
	MaxLoops   = 10
	pageSize   = 2500
	batchLimit = 500
	// listFields asks Google only for what the sync keeps or needs to derive busy:
	// no attendee e-mails, locations, attachments, conference data or links.
	listFields = "nextPageToken,nextSyncToken,items(id,status,summary,description,start,end,updated,recurringEventId,transparency,eventType,attendees(self,responseStatus),extendedProperties/private)"
)

// Accounts opens connections and marks them reauth_required (*accounts.Service).
type Accounts interface {
	Open(ctx context.Context, conn *store.Connection) (*accounts.Session, error)
	MarkReauth(ctx context.Context, conn *store.Connection, now time.Time) error
}

// Publisher sends a Pub/Sub message (platform.Publish).
type Publisher func(ctx context.Context, topic string, v any) error

// Syncer syncs calendars.
type Syncer struct {
	Store    *store.Store
	Accounts Accounts
	Publish  Publisher
	Log      *slog.Logger
	Horizon  time.Duration // how far ahead events are kept (default DefaultHorizon)
	Past     time.Duration // how far back a full sync lists (default DefaultPast)
	LeaseTTL time.Duration // default DefaultLeaseTTL

	// AfterPage, when set, is called after each page has been written; an error aborts
	// the run right there, as if the worker died (tests: crash between pages). The lease
	// is left held, exactly as a dead worker leaves it.
	AfterPage func(ref store.CalRef, page int) error
	// Parallel is how many write batches are committed at once (default 8).
	Parallel int
	// PageSize is events.list maxResults (default 2500, Google's maximum).
	PageSize int64
	// LoopDelay is how long the lease holder waits before it lists again because
	// notifications arrived during its pass (default 1s; negative = no wait). A storm of
	// notifications arrives over a second or two; waiting lets it collapse into one more
	// pass instead of one per pass duration.
	LoopDelay time.Duration
}

// Stats of one Run (all loops).
type Stats struct {
	Runs      int // sync passes (1 + loops on dirty)
	Pages     int
	ListCalls int
	Written   int // event documents set
	Deleted   int // event documents deleted
	Writes    int // Firestore document writes (events + busy + calendar)
	Full      bool
	Outcome   string
	ErrClass  string
}

// ErrCrash is returned when AfterPage aborted a run.
var ErrCrash = errors.New("syncer: run aborted between pages")

var errLeaseLost = errors.New("syncer: lease lost")

// errCalendarGone: the calendar document vanished while the sync ran (disconnect, or the
// calendar was removed): whatever this run wrote under it must be deleted again.
var errCalendarGone = errors.New("syncer: calendar removed during the sync")

// ErrLeaseStalled is returned (so Pub/Sub redelivers) when another run's lease has not
// been renewed for more than half its TTL: its worker probably died.
var ErrLeaseStalled = errors.New("syncer: calendar leased by a stalled run; retry later")

func (s *Syncer) horizon() time.Duration {
	if s.Horizon > 0 {
		return s.Horizon
	}
	return DefaultHorizon
}

func (s *Syncer) loopDelay() time.Duration {
	if s.LoopDelay == 0 {
		return time.Second
	}
	return s.LoopDelay
}

func (s *Syncer) pageSize() int64 {
	if s.PageSize > 0 {
		return s.PageSize
	}
	return pageSize
}

func (s *Syncer) past() time.Duration {
	if s.Past > 0 {
		return s.Past
	}
	return DefaultPast
}

func (s *Syncer) leaseTTL() time.Duration {
	if s.LeaseTTL > 0 {
		return s.LeaseTTL
	}
	return DefaultLeaseTTL
}

func newOwner() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "run-" + hex.EncodeToString(b)
}

// Run handles one calendar-sync message. nil means "acknowledge"; an error asks Pub/Sub
// to redeliver (Google rate limits and outages, Firestore trouble).
func (s *Syncer) Run(ctx context.Context, msg messages.Sync, now time.Time) error {
	_, err := s.RunStats(ctx, msg, now)
	return err
}

// RunStats is Run returning what it did.
func (s *Syncer) RunStats(ctx context.Context, msg messages.Sync, now time.Time) (Stats, error) {
	ref := store.CalRef{Tenant: msg.Tenant, Staff: msg.Staff, Connection: msg.Connection, Calendar: msg.Calendar}
	r := &run{s: s, ref: ref, msg: msg, now: now, t0: time.Now(), owner: newOwner()}
	err := r.do(ctx)
	r.log(ctx, err)
	return r.st, err
}

type run struct {
	s     *Syncer
	ref   store.CalRef
	msg   messages.Sync
	now   time.Time
	t0    time.Time
	owner string
	st    Stats

	cal  *store.Calendar
	conn *store.Connection
	zone *time.Location
}

func (r *run) log(ctx context.Context, err error) {
	if r.st.Outcome == "" {
		r.st.Outcome = "ok"
		if err != nil {
			r.st.Outcome = "error"
		}
	}
	logging.Event(ctx, r.s.Log, logging.EventSyncDone,
		slog.String("tenant", r.ref.Tenant), slog.String("staff", r.ref.Staff),
		slog.String("connection", r.ref.Connection), slog.String("calendar", r.ref.Calendar),
		slog.String("reason", r.msg.Reason), slog.Int("runs", r.st.Runs), slog.Int("pages", r.st.Pages),
		slog.Int("listCalls", r.st.ListCalls), slog.Int("written", r.st.Written), slog.Int("deleted", r.st.Deleted),
		slog.Bool("full", r.st.Full), slog.Int64("durationMs", time.Since(r.t0).Milliseconds()),
		slog.String("outcome", r.st.Outcome), slog.String("errorClass", r.st.ErrClass))
}

// leaseUntil is the shared clock's now plus the TTL plus the real time this run took.
func (r *run) leaseUntil() time.Time {
	return r.now.Add(time.Since(r.t0) + r.s.leaseTTL())
}

func (r *run) do(ctx context.Context) error {
	ok, err := r.acquire(ctx)
	if err != nil || !ok {
		return err
	}
	if err := r.loadZone(ctx); err != nil {
		return r.releaseAfter(ctx, err)
	}
	sess, err := r.s.Accounts.Open(ctx, r.conn)
	if err != nil {
		return r.releaseAfter(ctx, fmt.Errorf("open connection %s: %w", r.conn.ID, err))
	}
	fullNext := r.msg.Reason == "full"
	for loop := 0; ; loop++ {
		r.st.Runs++
		token, err := r.syncOnce(ctx, sess.Calendar, fullNext)
		fullNext = false
		if err != nil {
			return r.fail(ctx, err)
		}
		again, err := r.finish(ctx, token)
		if err != nil || !again {
			return err
		}
		if loop+1 >= MaxLoops && r.s.Publish != nil {
			// Hand over: release and publish a fresh message for the remaining changes, so
			// one invocation never runs forever.
			if err := r.release(ctx, nil); err != nil {
				return err
			}
			m := r.msg
			m.Reason = "push"
			return r.s.Publish(ctx, topology.CalendarSync, m)
		}
		if d := r.s.loopDelay(); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return r.releaseAfter(context.WithoutCancel(ctx), ctx.Err())
			}
		}
	}
}

// acquire takes the lease, or marks the calendar dirty when another run holds it.
//
// It uses no transaction: a storm's messages must not queue for a lock on one document.
// Every write is a compare-and-set on the document's update time (a precondition), so a
// message that raced with another write re-reads and decides again. Dirty is set only
// while the lease is seen held; the holder's release transaction reads dirty after that
// write and loops, so no notification is lost.
func (r *run) acquire(ctx context.Context) (bool, error) {
	st := r.s.Store
	calRef := st.Doc(r.ref)
	connRef := st.Connection(r.ref.Tenant, r.ref.Staff, r.ref.Connection)
	var conn *store.Connection // read once, when the lease looks free
	for attempt := 0; attempt < 50; attempt++ {
		snap, err := calRef.Get(ctx)
		if status.Code(err) == codes.NotFound {
			r.st.Outcome = "skipped_missing"
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("read calendar %s: %w", r.ref, err)
		}
		var cal store.Calendar
		if err := snap.DataTo(&cal); err != nil {
			return false, fmt.Errorf("decode calendar %s: %w", r.ref, err)
		}
		cal.DocID = calRef.ID
		if !cal.Selected {
			r.st.Outcome = "skipped_inactive"
			return false, nil
		}
		pre := firestore.LastUpdateTime(snap.UpdateTime)
		if cal.LeaseOwner != "" && cal.LeaseUntil.After(r.now) {
			r.st.Outcome = "coalesced"
			// A live holder renews its lease after every page and pass, so its lease stays
			// about LeaseTTL ahead. A lease that has aged past half its TTL probably belongs
			// to a worker that died: ask Pub/Sub to redeliver (with backoff) instead of
			// acknowledging, so the change is picked up once the lease has expired rather
			// than at the next safety-net sync.
			stalled := cal.LeaseUntil.Sub(r.now) < r.s.leaseTTL()/2
			if stalled {
				r.st.Outcome = "waiting"
			}
			if r.covered(&cal) && !stalled {
				return false, nil // the holder's pass lists after this notification arrived
			}
			if cal.Dirty {
				if stalled {
					return false, ErrLeaseStalled
				}
				return false, nil
			}
			_, err := calRef.Update(ctx, r.pushed([]firestore.Update{{Path: "dirty", Value: true}}), pre)
			if err == nil {
				if stalled {
					return false, ErrLeaseStalled
				}
				return false, nil
			}
			if !casFailed(err) {
				return false, fmt.Errorf("mark %s dirty: %w", r.ref, err)
			}
			continue
		}
		if cal.LeaseOwner == "" && r.covered(&cal) {
			// Released after a successful pass that began listing after this notification.
			r.st.Outcome = "coalesced"
			return false, nil
		}
		if conn == nil {
			connSnap, err := connRef.Get(ctx)
			if status.Code(err) == codes.NotFound {
				r.st.Outcome = "skipped_missing"
				return false, nil
			}
			if err != nil {
				return false, fmt.Errorf("read connection %s: %w", r.ref.Connection, err)
			}
			conn = &store.Connection{}
			if err := connSnap.DataTo(conn); err != nil {
				return false, fmt.Errorf("decode connection %s: %w", r.ref.Connection, err)
			}
			conn.ID = connRef.ID
		}
		if conn.Status != store.StatusActive {
			r.st.Outcome = "skipped_inactive"
			return false, nil
		}
		_, err = calRef.Update(ctx, r.pushed([]firestore.Update{
			{Path: "leaseOwner", Value: r.owner}, {Path: "leaseUntil", Value: r.leaseUntil()}, {Path: "dirty", Value: false},
			{Path: "passStartedAt", Value: time.Now()},
		}), pre)
		if err == nil {
			r.cal, r.conn = &cal, conn
			r.st.Outcome = ""
			return true, nil
		}
		if !casFailed(err) {
			return false, fmt.Errorf("take lease of %s: %w", r.ref, err)
		}
	}
	return false, fmt.Errorf("take lease of %s: too much contention", r.ref)
}

// pushed adds lastPushAt for a push-triggered message. The webhook itself writes nothing
// (one read per notification); the time is recorded here, in a write that happens anyway,
// so health can tell a push that no sync has followed (lastPushAt > lastSyncAt).
// ClockSkew is how far apart the wall clocks of the webhook's and the syncer's instances
// are assumed to be at most when deciding whether a pass covers a notification.
const ClockSkew = 100 * time.Millisecond

// covered reports whether the lease holder's current or next pass — or, with the lease
// released, the last successful pass — started listing after this run's notification was
// received, so the notification needs nothing more: Google sent it after its change was
// committed, and that pass's list sees the change. The holder writes passStartedAt when
// it takes the lease and, when it loops, the time its next list will start at the
// earliest (after LoopDelay); a release without a successful pass clears it, and a holder
// that dies before listing gets its own message redelivered.
func (r *run) covered(cal *store.Calendar) bool {
	return !r.msg.NotifiedAt.IsZero() && !cal.PassStartedAt.IsZero() && r.msg.NotifiedAt.Add(ClockSkew).Before(cal.PassStartedAt)
}

func (r *run) pushed(ups []firestore.Update) []firestore.Update {
	if r.msg.Reason == "push" {
		ups = append(ups, firestore.Update{Path: "lastPushAt", Value: r.now})
	}
	return ups
}

func casFailed(err error) bool {
	c := status.Code(err)
	return c == codes.FailedPrecondition || c == codes.Aborted
}

func (r *run) loadZone(ctx context.Context) error {
	r.zone = time.UTC
	snap, err := r.s.Store.Staff(r.ref.Tenant, r.ref.Staff).Get(ctx)
	if err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("read staff %s: %w", r.ref.Staff, err)
	}
	name := r.cal.TimeZone
	if err == nil {
		var sf store.Staff
		if snap.DataTo(&sf) == nil && sf.Availability != nil && sf.Availability.TimeZone != "" {
			name = sf.Availability.TimeZone
		}
	}
	if name != "" {
		if loc, err := time.LoadLocation(name); err == nil {
			r.zone = loc
		}
	}
	return nil
}

// release clears the lease (if still ours) with extra updates.
func (r *run) release(ctx context.Context, extra map[string]any) error {
	st := r.s.Store
	calRef := st.Doc(r.ref)
	withdrawn := false
	err := st.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		withdrawn = false
		snap, err := tx.Get(calRef)
		if err != nil {
			if status.Code(err) == codes.NotFound {
				return nil
			}
			return err
		}
		// A run that fails after its calendar was deselected (or its access withdrawn) may
		// have written pages after the delete; no later sync comes to remove them.
		if sel, _ := snap.DataAt("selected"); sel != true {
			withdrawn = true
		} else if active, err := r.connectionActive(tx); err != nil {
			return err
		} else if !active {
			withdrawn = true
		}
		ups := []firestore.Update{}
		if owner, _ := snap.DataAt("leaseOwner"); owner == r.owner {
			// Released without a successful pass: no notification counts as covered.
			ups = append(ups, firestore.Update{Path: "leaseOwner", Value: ""}, firestore.Update{Path: "leaseUntil", Value: time.Time{}},
				firestore.Update{Path: "passStartedAt", Value: time.Time{}})
		}
		for k, v := range extra {
			ups = append(ups, firestore.Update{Path: k, Value: v})
		}
		if len(ups) == 0 {
			return nil
		}
		return tx.Update(calRef, ups)
	})
	if err != nil {
		return fmt.Errorf("release lease of %s: %w", r.ref, err)
	}
	if withdrawn {
		if err := st.DeleteCalendarData(context.WithoutCancel(ctx), r.ref); err != nil {
			return fmt.Errorf("delete data of withdrawn calendar %s: %w", r.ref, err)
		}
	}
	return nil
}

// releaseAfter releases the lease and returns cause.
func (r *run) releaseAfter(ctx context.Context, cause error) error {
	if err := r.release(ctx, nil); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// fail maps a sync error to the message outcome.
func (r *run) fail(ctx context.Context, err error) error {
	if errors.Is(err, ErrCrash) {
		r.st.Outcome = "crashed"
		return err // the lease stays held, like a dead worker's
	}
	if errors.Is(err, errLeaseLost) {
		r.st.Outcome = "lease_lost"
		return nil
	}
	if errors.Is(err, errCalendarGone) {
		r.st.Outcome = "deselected"
		return r.s.Store.DeleteCalendarData(context.WithoutCancel(ctx), r.ref)
	}
	class := googlecal.Classify(err)
	var ge *googleError
	if !errors.As(err, &ge) {
		// Firestore or our own trouble: record it, release, retry.
		r.st.ErrClass, r.st.Outcome = "internal", "retry"
		rec := map[string]any{"lastErrorClass": "internal", "lastErrorAt": r.now, "consecutiveFailures": firestore.Increment(1)}
		if rerr := r.release(context.WithoutCancel(ctx), rec); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	r.st.ErrClass = string(class)
	record := map[string]any{"lastErrorClass": string(class), "lastErrorAt": r.now, "consecutiveFailures": firestore.Increment(1)}
	switch {
	case class.Retryable():
		r.st.Outcome = "retry"
		if rerr := r.release(ctx, record); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	case class == googlecal.ClassAuth:
		r.st.Outcome = "reauth_required"
		if rerr := r.release(ctx, record); rerr != nil {
			return errors.Join(err, rerr)
		}
		if merr := r.s.Accounts.MarkReauth(ctx, r.conn, r.now); merr != nil {
			return merr
		}
		return nil
	default: // not_found (calendar deleted at Google), forbidden, invalid: retrying will not help
		r.st.Outcome = "failed_permanent"
		return r.release(ctx, record)
	}
}

// googleError marks an error that came from a Google call.
type googleError struct{ err error }

func (e *googleError) Error() string { return e.err.Error() }
func (e *googleError) Unwrap() error { return e.err }

// finish saves the token and bookkeeping; it reports whether to loop (dirty was set).
func (r *run) finish(ctx context.Context, token string) (bool, error) {
	st := r.s.Store
	calRef := st.Doc(r.ref)
	again, deselected := false, false
	err := st.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		again, deselected = false, false
		// Access withdrawn while we ran (disconnect or revoked at Google): nothing this run
		// wrote may stay.
		cal, active, err := r.held(tx)
		if err != nil {
			return err
		}
		ups := []firestore.Update{
			{Path: "syncToken", Value: token}, {Path: "lastSyncAt", Value: r.now.Add(time.Since(r.t0))},
			{Path: "consecutiveFailures", Value: 0}, {Path: "lastErrorClass", Value: ""},
			{Path: "syncRuns", Value: firestore.Increment(1)},
		}
		if r.st.Full {
			ups = append(ups, firestore.Update{Path: "lastFullSyncAt", Value: r.now}, firestore.Update{Path: "horizonEnd", Value: r.horizonEnd()})
		}
		if !cal.Selected || !active {
			deselected = true
			ups[0].Value = ""
		}
		// The stored events were thrown away while we ran (deselect and reselect, revoke and
		// reconnect): pages written before that are gone, so our token would skip them.
		// Do not save it; list fully again (with sweep) in the next pass.
		epochChanged := cal.Epoch != r.cal.Epoch
		if epochChanged && !deselected {
			ups[0].Value = ""
			r.cal.SyncToken, r.cal.Epoch = "", cal.Epoch
			again = true
		}
		switch {
		case deselected:
			// Keep the lease while the data is deleted, so a sync after a reselect cannot
			// run in between and have its fresh writes deleted (see afterCleanup).
			ups = append(ups, firestore.Update{Path: "leaseUntil", Value: r.leaseUntil()})
		case (cal.Dirty || epochChanged) && cal.Selected && active:
			again = true
			ups = append(ups, firestore.Update{Path: "dirty", Value: false}, firestore.Update{Path: "leaseUntil", Value: r.leaseUntil()},
				firestore.Update{Path: "passStartedAt", Value: time.Now().Add(r.s.loopDelay())})
		default:
			ups = append(ups, firestore.Update{Path: "leaseOwner", Value: ""}, firestore.Update{Path: "leaseUntil", Value: time.Time{}})
		}
		return tx.Update(calRef, ups)
	})
	if errors.Is(err, errLeaseLost) {
		r.st.Outcome = "lease_lost"
		return false, nil
	}
	notFound := false
	if err != nil {
		if status.Code(err) == codes.NotFound {
			deselected, notFound = true, true
		} else {
			return false, fmt.Errorf("finish sync of %s: %w", r.ref, err)
		}
	}
	r.st.Writes++
	if deselected {
		// Deselected (or removed, or access withdrawn) while we ran: what we wrote must go.
		r.st.Outcome = "deselected"
		if err := st.DeleteCalendarData(ctx, r.ref); err != nil {
			return false, err
		}
		if notFound {
			return false, nil
		}
		return r.afterCleanup(ctx)
	}
	return again, nil
}

// held reads, inside tx, the calendar this run holds the lease of (errLeaseLost when it
// no longer does) and whether its connection is still active.
func (r *run) held(tx *firestore.Transaction) (*store.Calendar, bool, error) {
	snap, err := tx.Get(r.s.Store.Doc(r.ref))
	if err != nil {
		return nil, false, err
	}
	var cal store.Calendar
	if err := snap.DataTo(&cal); err != nil {
		return nil, false, err
	}
	if cal.LeaseOwner != r.owner {
		return nil, false, errLeaseLost
	}
	active, err := r.connectionActive(tx)
	return &cal, active, err
}

// connectionActive reads, inside tx, whether the calendar's connection still exists and
// is active.
func (r *run) connectionActive(tx *firestore.Transaction) (bool, error) {
	snap, err := tx.Get(r.s.Store.Connection(r.ref.Tenant, r.ref.Staff, r.ref.Connection))
	if status.Code(err) == codes.NotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	v, _ := snap.DataAt("status")
	return v == store.StatusActive, nil
}

// afterCleanup runs once a deselected calendar's data is deleted, still holding the
// lease: if the calendar was selected again meanwhile (and its connection is active), it
// keeps the lease and loops with a full listing; otherwise it releases the lease.
func (r *run) afterCleanup(ctx context.Context) (bool, error) {
	st := r.s.Store
	calRef := st.Doc(r.ref)
	again := false
	err := st.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		again = false
		cal, active, err := r.held(tx)
		if err != nil {
			return err
		}
		if cal.Selected && active {
			again = true
			r.cal.SyncToken, r.cal.Epoch = "", cal.Epoch
			return tx.Update(calRef, []firestore.Update{{Path: "dirty", Value: false}, {Path: "syncToken", Value: ""}, {Path: "leaseUntil", Value: r.leaseUntil()}})
		}
		return tx.Update(calRef, []firestore.Update{{Path: "leaseOwner", Value: ""}, {Path: "leaseUntil", Value: time.Time{}}})
	})
	switch {
	case errors.Is(err, errLeaseLost), status.Code(err) == codes.NotFound:
		return false, nil
	case err != nil:
		return false, fmt.Errorf("release %s after cleanup: %w", r.ref, err)
	}
	if again {
		r.st.Outcome = ""
	}
	return again, nil
}

func (r *run) horizonEnd() time.Time { return r.now.Add(r.s.horizon()) }

// syncOnce lists and writes every page; it returns the next sync token.
func (r *run) syncOnce(ctx context.Context, cal *calendar.Service, forceFull bool) (string, error) {
	token := r.cal.SyncToken
	horizonEnd := r.cal.HorizonEnd
	if forceFull || token == "" || horizonEnd.Before(r.now.Add(r.s.horizon()-HorizonSlack)) {
		token = ""
	}
	for attempt := 0; attempt < 2; attempt++ {
		full := token == ""
		if full {
			r.st.Full = true
			horizonEnd = r.horizonEnd()
		}
		next, err := r.listAll(ctx, cal, token, full, horizonEnd)
		if err == nil {
			r.cal.SyncToken, r.cal.HorizonEnd = next, horizonEnd
			return next, nil
		}
		if googlecal.Classify(err) == googlecal.ClassGone && !full {
			token = "" // 410: the token is dead — full resync with sweep
			continue
		}
		return "", err
	}
	return "", errors.New("syncer: full listing answered 410")
}

// listAll pages through events.list and writes every page.
func (r *run) listAll(ctx context.Context, cal *calendar.Service, token string, full bool, horizonEnd time.Time) (string, error) {
	seen := map[string]bool{}
	pageToken := ""
	for page := 1; ; page++ {
		call := cal.Events.List(r.cal.GoogleID).SingleEvents(true).ShowDeleted(true).MaxResults(r.s.pageSize()).Fields(listFields).Context(ctx)
		if token != "" {
			call = call.SyncToken(token)
		} else {
			call = call.TimeMin(r.now.Add(-r.s.past()).UTC().Format(time.RFC3339))
		}
		if pageToken != "" {
			call = call.PageToken(pageToken)
		}
		r.st.ListCalls++
		resp, err := call.Do()
		if err != nil {
			return "", &googleError{err}
		}
		r.st.Pages++
		if err := r.writePage(ctx, resp.Items, horizonEnd, seen); err != nil {
			return "", err
		}
		if err := r.renewLease(ctx); err != nil {
			return "", err
		}
		if r.s.AfterPage != nil {
			if err := r.s.AfterPage(r.ref, page); err != nil {
				return "", fmt.Errorf("%w: %v", ErrCrash, err)
			}
		}
		if resp.NextPageToken == "" {
			if full {
				if err := r.sweep(ctx, seen); err != nil {
					return "", err
				}
			}
			if resp.NextSyncToken == "" {
				return "", &googleError{errors.New("events.list: last page without nextSyncToken")}
			}
			return resp.NextSyncToken, nil
		}
		pageToken = resp.NextPageToken
	}
}

// renewLease extends the lease if it is still ours (one read and write per page).
func (r *run) renewLease(ctx context.Context) error {
	calRef := r.s.Store.Doc(r.ref)
	return r.s.Store.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(calRef)
		if err != nil {
			if status.Code(err) == codes.NotFound {
				return errCalendarGone
			}
			return err
		}
		if owner, _ := snap.DataAt("leaseOwner"); owner != r.owner {
			return errLeaseLost
		}
		return tx.Update(calRef, []firestore.Update{{Path: "leaseUntil", Value: r.leaseUntil()}})
	})
}

// change is what one page does to one event.
type change struct {
	id        string
	ev        store.Event // new content (when !del)
	del       bool
	oldMonths []string
}

// writePage applies one page: event docs and busy items.
func (r *run) writePage(ctx context.Context, items []*calendar.Event, horizonEnd time.Time, seen map[string]bool) error {
	if len(items) == 0 {
		return nil
	}
	pastEdge := r.now.Add(-r.s.past())
	byID := map[string]*change{}
	var order []string
	gone := map[string]bool{} // ids Google reported cancelled (for booking.CheckEcho)
	for _, it := range items {
		ev, cancelled, err := calevents.FromGoogle(it, r.zone)
		if err == nil && cancelled {
			gone[ev.ID] = true
		} else if it != nil {
			delete(gone, it.Id)
		}
		if err != nil {
			if it == nil || it.Id == "" {
				continue
			}
			cancelled = true // unreadable: treat as gone rather than keep stale data
			ev = store.Event{ID: it.Id}
		}
		c := &change{id: ev.ID, ev: ev, del: cancelled}
		if !c.del && (!ev.Start.Before(horizonEnd) || !ev.End.After(pastEdge)) {
			c.del = true // outside the window: not stored
		}
		if !c.del {
			seen[ev.ID] = true
		} else {
			delete(seen, ev.ID)
		}
		if _, dup := byID[ev.ID]; !dup {
			order = append(order, ev.ID)
		}
		byID[ev.ID] = c // a later item of the same id wins
	}
	events := r.s.Store.Doc(r.ref).Collection("events")
	refs := make([]*firestore.DocumentRef, len(order))
	for i, id := range order {
		refs[i] = events.Doc(id)
	}
	snaps, err := r.s.Store.FS.GetAll(ctx, refs)
	if err != nil {
		return fmt.Errorf("read events of %s: %w", r.ref, err)
	}
	for _, snap := range snaps {
		if !snap.Exists() {
			continue
		}
		c := byID[snap.Ref.ID]
		if v, err := snap.DataAt("months"); err == nil {
			if arr, ok := v.([]any); ok {
				for _, m := range arr {
					if s, ok := m.(string); ok {
						c.oldMonths = append(c.oldMonths, s)
					}
				}
			}
		}
	}
	exists := map[string]bool{}
	for _, snap := range snaps {
		if snap.Exists() {
			exists[snap.Ref.ID] = true
		}
	}
	// Phase 1: event docs with months = old ∪ new.
	var p1, p3 []write
	busy := map[string]map[string]any{} // month → id → item | Delete
	for _, id := range order {
		c := byID[id]
		if c.del {
			if !exists[id] {
				continue
			}
			for _, m := range c.oldMonths {
				addBusy(busy, m, id, firestore.Delete)
			}
			p3 = append(p3, write{ref: events.Doc(id), del: true})
			continue
		}
		newM := c.ev.Months
		union := unionMonths(c.oldMonths, newM)
		e := c.ev
		e.Months = union
		p1 = append(p1, write{ref: events.Doc(id), data: calevents.Fields(e)})
		item := calevents.Item(c.ev)
		for _, m := range newM {
			addBusy(busy, m, id, item)
		}
		for _, m := range c.oldMonths {
			if !contains(newM, m) {
				addBusy(busy, m, id, firestore.Delete)
			}
		}
		if len(union) != len(newM) {
			p3 = append(p3, write{ref: events.Doc(id), update: []firestore.Update{{Path: "months", Value: nonNil(newM)}}})
		}
	}
	var p2 []write
	calPath := r.s.Store.Doc(r.ref).Path
	for m, its := range busy {
		paths := []firestore.FieldPath{{"calendar"}, {"month"}}
		for id := range its {
			paths = append(paths, firestore.FieldPath{"items", id})
		}
		doc := r.s.Store.Busy(r.ref.Tenant, r.ref.Staff).Doc(store.BusyDocID(r.ref.Connection, r.ref.Calendar, m))
		p2 = append(p2, write{ref: doc, data: map[string]any{"calendar": calPath, "month": m, "items": its}, merge: paths})
	}
	for _, phase := range [][]write{p1, p2, p3} {
		if err := r.commit(ctx, phase); err != nil {
			return err
		}
	}
	r.checkEchoes(ctx, order, byID, gone)
	r.st.Written += len(p1)
	for _, w := range p3 {
		if w.del {
			r.st.Deleted++
		}
	}
	return nil
}

// checkEchoes reports Google-side moves and deletions of the product's own events on
// their bookings (booking.CheckEcho flags, never changes, the booking). A failure is
// logged, not returned: the events are already stored and the next sync checks again.
func (r *run) checkEchoes(ctx context.Context, order []string, byID map[string]*change, gone map[string]bool) {
	for _, id := range order {
		c := byID[id]
		var ev store.Event
		switch {
		case gone[id]:
			ev = store.Event{ID: id, Status: "cancelled"}
		case !c.del && c.ev.BookingID != "":
			ev = c.ev
		default:
			continue
		}
		if err := booking.CheckEcho(ctx, r.s.Store, r.ref.Tenant, r.ref.Staff, ev); err != nil {
			logging.FromContext(ctx).WarnContext(ctx, "sync: booking echo check failed", "calendar", r.ref.String(), "event", id, "error", err.Error())
		}
	}
}

type write struct {
	ref    *firestore.DocumentRef
	data   map[string]any
	merge  []firestore.FieldPath
	update []firestore.Update
	del    bool
}

func addBusy(b map[string]map[string]any, month, id string, v any) {
	if b[month] == nil {
		b[month] = map[string]any{}
	}
	b[month][id] = v
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func unionMonths(a, b []string) []string {
	out := append([]string{}, b...)
	for _, m := range a {
		if !contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// commit writes in batches of ≤ 500, several at once; it returns after all committed.
func (r *run) commit(ctx context.Context, ws []write) error {
	if len(ws) == 0 {
		return nil
	}
	par := r.s.Parallel
	if par <= 0 {
		par = 8
	}
	sem := make(chan struct{}, par)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for i := 0; i < len(ws); i += batchLimit {
		chunk := ws[i:min(i+batchLimit, len(ws))]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			// A write-only transaction is an atomic batch of ≤ 500 writes (WriteBatch is
			// deprecated; BulkWriter ramps up from 500 writes/s, too slow for a full sync).
			err := r.s.Store.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
				for _, w := range chunk {
					var err error
					switch {
					case w.del:
						err = tx.Delete(w.ref)
					case w.update != nil:
						err = tx.Update(w.ref, w.update)
					case w.merge != nil:
						err = tx.Set(w.ref, w.data, firestore.Merge(w.merge...))
					default:
						err = tx.Set(w.ref, w.data)
					}
					if err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	r.st.Writes += len(ws)
	mu.Unlock()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("write page of %s: %w", r.ref, err)
	}
	return nil
}

// sweep deletes stored events a full listing did not return (and their busy items).
func (r *run) sweep(ctx context.Context, seen map[string]bool) error {
	events := r.s.Store.Doc(r.ref).Collection("events")
	snaps, err := events.Select("months").Documents(ctx).GetAll()
	if err != nil {
		return fmt.Errorf("sweep events of %s: %w", r.ref, err)
	}
	busy := map[string]map[string]any{}
	var dels []write
	for _, snap := range snaps {
		id := snap.Ref.ID
		if seen[id] {
			continue
		}
		if v, err := snap.DataAt("months"); err == nil {
			if arr, ok := v.([]any); ok {
				for _, m := range arr {
					if s, ok := m.(string); ok {
						addBusy(busy, s, id, firestore.Delete)
					}
				}
			}
		}
		dels = append(dels, write{ref: snap.Ref, del: true})
	}
	// Busy items without a listed event (left by anything that went wrong before) go too.
	bq := r.s.Store.Busy(r.ref.Tenant, r.ref.Staff)
	prefix := r.ref.Connection + "_" + r.ref.Calendar + "_"
	bsnaps, err := bq.Where(firestore.DocumentID, ">=", bq.Doc(prefix)).Where(firestore.DocumentID, "<", bq.Doc(prefix+"\uf8ff")).Documents(ctx).GetAll()
	if err != nil {
		return fmt.Errorf("sweep busy of %s: %w", r.ref, err)
	}
	for _, snap := range bsnaps {
		var bm store.BusyMonth
		if err := snap.DataTo(&bm); err != nil {
			return fmt.Errorf("decode busy %s: %w", snap.Ref.ID, err)
		}
		for id := range bm.Items {
			if !seen[id] {
				addBusy(busy, bm.Month, id, firestore.Delete)
			}
		}
	}
	var p2 []write
	for m, its := range busy {
		paths := []firestore.FieldPath{}
		for id := range its {
			paths = append(paths, firestore.FieldPath{"items", id})
		}
		doc := r.s.Store.Busy(r.ref.Tenant, r.ref.Staff).Doc(store.BusyDocID(r.ref.Connection, r.ref.Calendar, m))
		p2 = append(p2, write{ref: doc, data: map[string]any{"items": its}, merge: paths})
	}
	if err := r.commit(ctx, p2); err != nil {
		return err
	}
	if err := r.commit(ctx, dels); err != nil {
		return err
	}
	r.st.Deleted += len(dels)
	return nil
}
