// Package syncer runs the inbound sync of one selected Google calendar into Firestore
// (docs/design.md "Flows", docs/sync.md): a per-calendar lease with a dirty flag so that a storm of push
// notifications costs a few runs, paging events.list with the stored sync token (saved
// only after every page is written), 410 → full resync with mark-and-sweep, busy index
// docs derived in the same run, recurring instances kept inside a horizon, and Google's
// errors mapped to retry (rate limits, 5xx), reauth_required (revoked grant) or a
// recorded error (calendar gone).
//
// Crash safety: the sync token is saved only at the end, and every write is idempotent,
// so a run that dies between pages is repaired by the next run, which lists again from
// the old token. A small page (every incremental sync of a few changes) is written in one
// transaction — on an incremental listing's last page the same one that saves the token —
// so it is applied whole or not at all. A larger page is written in parallel batches:
// event documents first grow their "months" to the union of old and new months, then the
// busy docs change, then "months" shrinks; a crash at any point leaves "months" a superset
// of where the event is indexed, so the next run removes stale busy items.
//
// Logs carry ids and counts only, never titles, details or e-mail addresses.
package syncer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/belbo/calsync/shared/accounts"
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

// Syncer syncs calendars.
type Syncer struct {
	Store    *store.Store
	Accounts Accounts
	Publish  messages.Publisher
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
	// Took splits the run's wall time by phase (all loops), so a slow sync shows where it
	// waited: logged with sync.done and read by the freshness benchmark.
	Took Timing
}

// Timing is where one Run's wall time went. Phases are sequential, so they add up to the
// run's duration less bookkeeping (logging, decoding).
type Timing struct {
	Lease  time.Duration // taking the lease: calendar and connection reads, the CAS write
	Open   time.Duration // the staff member's time zone and the account's clients (decrypt)
	List   time.Duration // events.list calls, including any access-token refresh
	Write  time.Duration // page writes: reading stored months, committing, echo checks, sweep
	Renew  time.Duration // lease renewals between pages
	Finish time.Duration // the finish transaction (token, bookkeeping, release or loop)
	Wait   time.Duration // LoopDelay waits before listing again
}

// since adds the time since t0 to *d and returns now (for the next phase's start).
func since(d *time.Duration, t0 time.Time) time.Time {
	now := time.Now()
	*d += now.Sub(t0)
	return now
}

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
	// awaitZone waits for loadZone, started when the lease is taken, and returns its error.
	awaitZone func() error
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
		slog.String("outcome", r.st.Outcome), slog.String("errorClass", r.st.ErrClass),
		slog.Group("took", slog.Int64("leaseMs", ms(r.st.Took.Lease)), slog.Int64("openMs", ms(r.st.Took.Open)),
			slog.Int64("listMs", ms(r.st.Took.List)), slog.Int64("writeMs", ms(r.st.Took.Write)),
			slog.Int64("renewMs", ms(r.st.Took.Renew)), slog.Int64("finishMs", ms(r.st.Took.Finish)),
			slog.Int64("waitMs", ms(r.st.Took.Wait))),
		slog.Int64("sinceNotifiedMs", r.sinceNotified()))
}

// sinceNotified is how long after the webhook received Google's notification this run
// started (Pub/Sub delivery, a cold start, a redelivery's backoff); 0 for a message
// without notifiedAt. Clocks of different instances may differ by up to ClockSkew.
func (r *run) sinceNotified() int64 {
	if r.msg.NotifiedAt.IsZero() {
		return 0
	}
	return ms(r.t0.Sub(r.msg.NotifiedAt))
}

// ms rounds to whole milliseconds (a microsecond-resolution float would be noise in logs).
func ms(d time.Duration) int64 { return d.Milliseconds() }

// leaseUntil is the shared clock's now plus the TTL plus the real time this run took.
func (r *run) leaseUntil() time.Time {
	return r.now.Add(time.Since(r.t0) + r.s.leaseTTL())
}

func (r *run) do(ctx context.Context) error {
	ok, err := r.acquire(ctx)
	t := since(&r.st.Took.Lease, r.t0)
	if err != nil || !ok {
		return err
	}
	// The staff member's time zone is needed only to write the first page: read it while
	// the account is opened and Google lists.
	zone := make(chan error, 1)
	go func() { zone <- r.loadZone(ctx) }()
	r.awaitZone = sync.OnceValue(func() error { return <-zone })
	sess, err := r.s.Accounts.Open(ctx, r.conn)
	if err != nil {
		return r.releaseAfter(ctx, fmt.Errorf("open connection %s: %w", r.conn.ID, err))
	}
	since(&r.st.Took.Open, t)
	fullNext := r.msg.Reason == "full"
	for loop := 0; ; loop++ {
		r.st.Runs++
		token, fin, err := r.syncOnce(ctx, sess.Calendar, fullNext)
		fullNext = false
		if err != nil {
			return r.fail(ctx, err)
		}
		t := time.Now()
		var again bool
		if fin != nil { // the last page's transaction finished the pass
			again, err = r.finished(ctx, *fin, false)
		} else {
			again, err = r.finish(ctx, token)
		}
		since(&r.st.Took.Finish, t)
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
			t := time.Now()
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return r.releaseAfter(context.WithoutCancel(ctx), ctx.Err())
			}
			since(&r.st.Took.Wait, t)
		}
	}
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
