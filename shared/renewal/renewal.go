// Package renewal keeps the sync alive unattended (DESIGN.md "Renew", issue 6): it replaces
// Google watch channels before they expire, re-creates missing or rejected ones, stops
// channels we no longer reference, enqueues safety-net and periodic full syncs, and
// refreshes the calendar list of each connection about once an hour.
//
// Two entry points, both driven by the renew-channels topic:
//
//   - Scan (a scheduler tick): a few paginated collection-group queries find the
//     connections that have work; one renew-channels message per such connection fans the
//     work out across function instances. The tick itself never calls Google.
//   - RenewConnection (one connection's share): opens the account once and does the work
//     for that connection, within a per-run budget of Google calls.
//
// Crash and concurrency safety of one channel replacement (see docs/renewal.md):
//
//	T1 (transaction) take the calendar's renewal lease and write the new channel id as
//	   "pending" (write-ahead), with the calendar's resource id;
//	   events.watch with that id;
//	T2 (transaction) if the lease is still ours and the calendar still selected: switch
//	   channel + lookup to the new channel, move the old one to "retired";
//	   otherwise the new channel is stopped again;
//	   channels.stop every retired channel (and its lookup is deleted);
//	T3 (transaction) release the lease, drop what was stopped, set channelExpiry.
//
// A run that dies anywhere leaves the lease to expire; the next run moves a leftover
// "pending" channel to "retired" and stops every retired channel, so Google ends up with
// exactly one live channel per selected calendar. channelExpiry (the field the tick
// queries) is only set to the new channel's expiry in T3, and to "now" in T2 while
// retired channels wait to be stopped, so an interrupted run is found by the next tick.
package renewal

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/googleapi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/belbo/calsync/shared/accounts"
	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/topology"
	"github.com/belbo/calsync/shared/watch"
)

// Defaults.
const (
	DefaultTTL            = 7 * 24 * time.Hour
	DefaultMargin         = 24 * time.Hour
	DefaultSafetyInterval = 30 * time.Minute
	DefaultFullInterval   = 24 * time.Hour
	DefaultListInterval   = time.Hour
	DefaultLeaseTTL       = 2 * time.Minute
	// DefaultCallBudget bounds the Google calls one RenewConnection makes (a replacement
	// costs two: events.watch and channels.stop). What does not fit waits for the next
	// tick a few minutes later — the renewal margin is a day — so one user never sees a
	// burst near Google's per-user quota (~600/min).
	DefaultCallBudget = 120
	DefaultPageSize   = 500
)

// Accounts opens connections and turns revoked ones reauth_required (*accounts.Service).
type Accounts interface {
	Open(ctx context.Context, conn *store.Connection) (*accounts.Session, error)
	MarkReauth(ctx context.Context, conn *store.Connection, now time.Time) error
}

// ListRefresher reconciles a connection's calendar list with Google
// (*connect.Service.RefreshList): renamed/recoloured updated, new ones unselected,
// removed ones deleted with their data; it sets lastListSyncAt.
type ListRefresher interface {
	RefreshList(ctx context.Context, conn *store.Connection, now time.Time) error
}

// Publisher sends a Pub/Sub message (platform.Publish).
type Publisher func(ctx context.Context, topic string, v any) error

// Renewer does the renewal work.
type Renewer struct {
	Store      *store.Store
	Accounts   Accounts
	Lists      ListRefresher // nil: no calendar-list pass
	Publish    Publisher
	Log        *slog.Logger
	WebhookURL string

	TTL            time.Duration // channel lifetime asked of Google (config.ChannelTTL)
	Margin         time.Duration // renew channels expiring within this (config.ChannelRenewMargin)
	SafetyInterval time.Duration // safety-net sync when not synced for this long
	FullInterval   time.Duration // full resync when the last one is older
	ListInterval   time.Duration // calendar-list pass at most this often per connection
	LeaseTTL       time.Duration // per-calendar renewal lease
	CallBudget     int           // Google calls per RenewConnection
	PageSize       int           // tick query page size
	PublishWorkers int           // concurrent publishes in a tick (default 32)

	// OnTick runs after every tick's scan (the retention sweep, shared/retention); its
	// error has the tick redelivered.
	OnTick func(ctx context.Context, now time.Time) error

	// Test hooks: returning an error aborts the run right there, as if the instance died
	// (nothing is cleaned up, the lease stays held until it expires).
	AfterWatch  func(ref store.CalRef) error // after events.watch, before the switch
	AfterSwitch func(ref store.CalRef) error // after the switch, before the old channel is stopped

	// Counters (cumulative, for benchmarks and logs).
	Counters Counters
}

// Counters count what the renewer did. Firestore reads/writes are counted per document.
type Counters struct {
	GoogleCalls atomic.Int64
	Reads       atomic.Int64
	Writes      atomic.Int64
	Opened      atomic.Int64
	Stopped     atomic.Int64
	Published   atomic.Int64
}

// ErrCrash is returned when a test hook aborted a run.
var ErrCrash = errors.New("renewal: run aborted by test hook")

func (r *Renewer) dur(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

func (r *Renewer) ttl() time.Duration       { return r.dur(r.TTL, DefaultTTL) }
func (r *Renewer) margin() time.Duration    { return r.dur(r.Margin, DefaultMargin) }
func (r *Renewer) safety() time.Duration    { return r.dur(r.SafetyInterval, DefaultSafetyInterval) }
func (r *Renewer) full() time.Duration      { return r.dur(r.FullInterval, DefaultFullInterval) }
func (r *Renewer) listEvery() time.Duration { return r.dur(r.ListInterval, DefaultListInterval) }
func (r *Renewer) leaseTTL() time.Duration  { return r.dur(r.LeaseTTL, DefaultLeaseTTL) }

func (r *Renewer) budget() int {
	if r.CallBudget > 0 {
		return r.CallBudget
	}
	return DefaultCallBudget
}

func (r *Renewer) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

// chanRef names a channel at Google (what channels.stop needs).
type chanRef struct {
	ID         string `firestore:"id"`
	ResourceID string `firestore:"resourceId"`
}

// renewState is the calendar document's "renewal" map: the lease and the write-ahead
// record of channels that may exist at Google but are not the calendar's channel.
type renewState struct {
	Owner      string    `firestore:"owner"`
	Until      time.Time `firestore:"until"`
	Pending    *chanRef  `firestore:"pending"`    // being opened by Owner
	Retired    []chanRef `firestore:"retired"`    // to be stopped
	ResourceID string    `firestore:"resourceId"` // the calendar's resource id at Google (stable)
}

// calDoc is a calendar document as renewal reads it.
type calDoc struct {
	store.Calendar
	Renewal *renewState `firestore:"renewal"`
}

func readCal(snap *firestore.DocumentSnapshot) (*calDoc, error) {
	var c calDoc
	if err := snap.DataTo(&c); err != nil {
		return nil, fmt.Errorf("decode calendar %s: %w", snap.Ref.ID, err)
	}
	c.DocID = snap.Ref.ID
	if c.Renewal == nil {
		c.Renewal = &renewState{}
	}
	if c.Renewal.ResourceID == "" && c.Channel != nil {
		c.Renewal.ResourceID = c.Channel.ResourceID
	}
	return &c, nil
}

func newOwner() string {
	b := make([]byte, 9)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "renew-" + base64.RawURLEncoding.EncodeToString(b)
}

func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Handle consumes one renew-channels message: a tick (empty or any other payload) or
// one connection's share.
func (r *Renewer) Handle(ctx context.Context, data []byte, now time.Time) error {
	m := messages.DecodeRenew(data)
	if m.Connection == "" {
		_, err := r.Scan(ctx, now)
		if r.OnTick != nil {
			err = errors.Join(err, r.OnTick(ctx, now))
		}
		return err
	}
	_, err := r.RenewConnection(ctx, m, now)
	return err
}

// Result is what one RenewConnection did.
type Result struct {
	Outcome     string // ok | not_found | inactive | reauth_required | rate_limited | error
	Renewed     int    // channels replaced or re-created
	Stopped     int    // channels stopped at Google
	Busy        int    // calendars another run was renewing
	Deferred    int    // calendars left for the next run (call budget)
	SafetySyncs int
	FullSyncs   int
	ListRefresh bool
	GoogleCalls int
}

// why a calendar needs a new channel.
const (
	needMissing  = "missing"
	needRejected = "rejected"
	needExpired  = "expired"
	needExpiring = "expiring"
	needCleanup  = "cleanup" // only leftovers to stop
)

// RenewConnection does one connection's renewal work. nil means acknowledge; an error
// asks Pub/Sub to redeliver (Google rate limits and outages, Firestore trouble).
func (r *Renewer) RenewConnection(ctx context.Context, m messages.Renew, now time.Time) (res Result, err error) {
	t0 := time.Now()
	log := r.log().With("tenant", m.Tenant, "staff", m.Staff, "connection", m.Connection)
	defer func() {
		if res.Outcome == "" {
			res.Outcome = "ok"
			if err != nil {
				res.Outcome = "error"
			}
		}
		log.InfoContext(ctx, "renew.connection", "event", "renew.connection", "outcome", res.Outcome,
			"renewed", res.Renewed, "stopped", res.Stopped, "busy", res.Busy, "deferred", res.Deferred,
			"safetySyncs", res.SafetySyncs, "fullSyncs", res.FullSyncs, "listRefresh", res.ListRefresh,
			"googleCalls", res.GoogleCalls, "durationMs", time.Since(t0).Milliseconds())
	}()
	conn, err := r.Store.GetConnection(ctx, m.Tenant, m.Staff, m.Connection)
	r.Counters.Reads.Add(1)
	if errors.Is(err, store.ErrNotFound) {
		res.Outcome = "not_found"
		return res, nil
	}
	if err != nil {
		return res, err
	}
	if conn.Status != store.StatusActive {
		res.Outcome = "inactive"
		return res, nil
	}
	sess, err := r.Accounts.Open(ctx, conn)
	if err != nil {
		return res, fmt.Errorf("open connection %s: %w", conn.ID, err)
	}
	calls := 0
	call := func() { calls++; r.Counters.GoogleCalls.Add(1) }
	defer func() { res.GoogleCalls = calls }()

	// handle maps a Google error: rate limits and outages → redeliver; revoked grant →
	// reauth_required, acknowledge.
	handle := func(gerr error) (stop bool, err error) {
		switch c := googlecal.Classify(gerr); {
		case c == googlecal.ClassAuth:
			res.Outcome = "reauth_required"
			if err := r.Accounts.MarkReauth(ctx, conn, now); err != nil {
				return true, err
			}
			return true, nil
		case c == googlecal.ClassRateLimited:
			res.Outcome = "rate_limited"
			return true, fmt.Errorf("renew connection %s: %w", conn.ID, gerr)
		case c.Retryable():
			return true, fmt.Errorf("renew connection %s: %w", conn.ID, gerr)
		}
		return false, nil
	}

	// Calendar-list pass, at most every ListInterval.
	if r.Lists != nil && conn.LastListSyncAt.Before(now.Add(-r.listEvery())) {
		call()
		res.ListRefresh = true
		if lerr := r.Lists.RefreshList(ctx, conn, now); lerr != nil {
			if stop, err := handle(lerr); stop {
				return res, err
			}
			log.WarnContext(ctx, "renew: calendar list refresh failed", "errorClass", string(googlecal.Classify(lerr)), "error", lerr.Error())
		}
	}

	snaps, err := r.Store.Calendars(conn.Tenant, conn.Staff, conn.ID).Documents(ctx).GetAll()
	r.Counters.Reads.Add(int64(max(1, len(snaps))))
	if err != nil {
		return res, fmt.Errorf("list calendars of %s: %w", conn.ID, err)
	}
	cals := make([]*calDoc, 0, len(snaps))
	for _, s := range snaps {
		c, err := readCal(s)
		if err != nil {
			return res, err
		}
		cals = append(cals, c)
	}
	// One read per channel: is the lookup the webhook routes by still there and right?
	lookups, err := r.lookups(ctx, cals)
	if err != nil {
		return res, err
	}

	var errs []error
	for _, c := range cals {
		ref := store.CalRef{Tenant: conn.Tenant, Staff: conn.Staff, Connection: conn.ID, Calendar: c.DocID}
		need := r.need(c, lookups, now)
		if need == "" {
			continue
		}
		if need == needExpired {
			logging.Event(ctx, r.log(), logging.EventRenewExpiredUnrenewed,
				slog.String("tenant", ref.Tenant), slog.String("staff", ref.Staff), slog.String("connection", ref.Connection),
				slog.String("calendar", ref.Calendar), slog.String("channel", c.Channel.ID),
				slog.Time("expiry", c.Channel.Expiry), slog.Duration("expiredFor", now.Sub(c.Channel.Expiry)))
		}
		if calls+2+len(c.Renewal.Retired) > r.budget() {
			res.Deferred++
			continue
		}
		o, cerr := r.renewCalendar(ctx, sess.Calendar, ref, c, need, now, call)
		res.Stopped += o.stopped
		switch o.outcome {
		case "renewed":
			res.Renewed++
			// The old channel may have missed changes (expired, missing, rejected): catch up.
			if need != needExpiring && c.Selected {
				c.LastSyncAt = time.Time{}
			}
		case "busy":
			res.Busy++
		}
		if cerr != nil {
			if errors.Is(cerr, ErrCrash) {
				return res, cerr
			}
			if stop, err := handle(cerr); stop {
				return res, err
			}
			errs = append(errs, cerr)
		}
	}

	// Safety net: push notifications are not guaranteed.
	for _, c := range cals {
		if !c.Selected {
			continue
		}
		reason := ""
		switch {
		case c.LastFullSyncAt.Before(now.Add(-r.full())):
			reason = "full"
		case c.LastSyncAt.Before(now.Add(-r.safety())):
			reason = "safety"
		default:
			continue
		}
		msg := messages.Sync{Tenant: conn.Tenant, Staff: conn.Staff, Connection: conn.ID, Calendar: c.DocID, Reason: reason}
		if err := r.Publish(ctx, topology.CalendarSync, msg); err != nil {
			return res, fmt.Errorf("enqueue %s sync of %s: %w", reason, c.DocID, err)
		}
		r.Counters.Published.Add(1)
		if reason == "full" {
			res.FullSyncs++
		} else {
			res.SafetySyncs++
		}
	}
	if len(errs) > 0 {
		// Calendar-specific failures (e.g. a calendar deleted at Google, which the next
		// list pass removes) are logged per channel; they do not make the message retry.
		log.WarnContext(ctx, "renew: some calendars failed", "failures", len(errs), "error", errors.Join(errs...).Error())
	}
	return res, nil
}

// lookups reads channels/{id} of every recorded channel in one batched call.
func (r *Renewer) lookups(ctx context.Context, cals []*calDoc) (map[string]*store.ChannelLookup, error) {
	var refs []*firestore.DocumentRef
	for _, c := range cals {
		if c.Selected && c.Channel != nil && c.Channel.ID != "" {
			refs = append(refs, r.Store.Channel(c.Channel.ID))
		}
	}
	out := map[string]*store.ChannelLookup{}
	if len(refs) == 0 {
		return out, nil
	}
	snaps, err := r.Store.FS.GetAll(ctx, refs)
	r.Counters.Reads.Add(int64(len(refs)))
	if err != nil {
		return nil, fmt.Errorf("read channel lookups: %w", err)
	}
	for _, s := range snaps {
		if !s.Exists() {
			continue
		}
		var l store.ChannelLookup
		if s.DataTo(&l) == nil {
			out[s.Ref.ID] = &l
		}
	}
	return out, nil
}

// need says why a calendar needs renewal work ("" = none).
func (r *Renewer) need(c *calDoc, lookups map[string]*store.ChannelLookup, now time.Time) string {
	leftovers := len(c.Renewal.Retired) > 0 || (c.Renewal.Pending != nil && !c.Renewal.Until.After(now))
	if !c.Selected {
		if c.Channel != nil || leftovers {
			return needCleanup
		}
		return ""
	}
	switch {
	case c.Channel == nil || c.Channel.ID == "":
		return needMissing
	case !c.Channel.Expiry.After(now):
		return needExpired
	case lookups != nil && !lookupMatches(lookups[c.Channel.ID], c.Channel):
		return needRejected
	case c.Channel.Expiry.Before(now.Add(r.margin())):
		return needExpiring
	case leftovers:
		return needCleanup
	}
	return ""
}

func lookupMatches(l *store.ChannelLookup, ch *store.Channel) bool {
	return l != nil && l.ResourceID == ch.ResourceID && l.TokenHash == ch.TokenHash && l.ResourceID != ""
}

type calOutcome struct {
	outcome string // renewed | cleaned | fresh | busy | gone | error
	stopped int
}

// renewCalendar replaces (or creates) one calendar's channel and stops what is retired.
func (r *Renewer) renewCalendar(ctx context.Context, cal *calendar.Service, ref store.CalRef, seen *calDoc, need string, now time.Time, call func()) (o calOutcome, err error) {
	t0 := time.Now()
	owner := newOwner()
	var oldID, newID string
	if seen.Channel != nil {
		oldID = seen.Channel.ID
	}
	defer func() {
		if o.outcome == "" {
			o.outcome = "error"
		}
		attrs := []slog.Attr{
			slog.String("tenant", ref.Tenant), slog.String("staff", ref.Staff), slog.String("connection", ref.Connection),
			slog.String("calendar", ref.Calendar), slog.String("reason", need), slog.String("oldChannel", oldID),
			slog.String("newChannel", newID), slog.String("outcome", o.outcome), slog.Int("stopped", o.stopped),
			slog.Int64("durationMs", time.Since(t0).Milliseconds()),
		}
		if err != nil {
			attrs = append(attrs, slog.String("errorClass", string(googlecal.Classify(err))), slog.String("error", err.Error()))
		}
		logging.Event(ctx, r.log(), logging.EventRenewChannel, attrs...)
	}()

	doc := r.Store.Doc(ref)
	leaseUntil := func() time.Time { return now.Add(time.Since(t0) + r.leaseTTL()) }

	// T1: lease + write-ahead of the channel id we are about to open.
	var (
		open     bool // we will open a new channel
		old      *store.Channel
		googleID string
		resID    string
		toStop   []chanRef // channels to stop after the switch
	)
	err = r.Store.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		open, old, toStop, newID = false, nil, nil, ""
		snap, err := tx.Get(doc)
		if err != nil {
			return err
		}
		c, err := readCal(snap)
		if err != nil {
			return err
		}
		st := c.Renewal
		if st.Owner != "" && st.Owner != owner && st.Until.After(now) {
			return errBusy
		}
		googleID, resID, old = c.GoogleID, st.ResourceID, c.Channel
		retired := append([]chanRef(nil), st.Retired...)
		if st.Pending != nil {
			// A run died between events.watch and the switch: that channel may exist.
			retired = append(retired, *st.Pending)
		}
		if !c.Selected && c.Channel != nil {
			retired = append(retired, chanRef{c.Channel.ID, c.Channel.ResourceID})
		}
		switch n := r.need(c, nil, now); n {
		case needMissing, needExpired, needExpiring:
			open = c.Selected
		case "":
			// The lookup of the channel we saw was gone or wrong, and it is still that channel.
			open = c.Selected && need == needRejected && c.Channel != nil && c.Channel.ID == oldID
		}
		if !open && len(retired) == 0 {
			return errFresh // someone else did it meanwhile
		}
		state := map[string]any{"owner": owner, "until": leaseUntil(), "retired": retired, "resourceId": resID, "pending": nil}
		if open {
			newID = watch.NewChannelID()
			state["pending"] = chanRef{ID: newID, ResourceID: resID}
		}
		toStop = retired
		r.Counters.Reads.Add(1)
		r.Counters.Writes.Add(1)
		return tx.Update(doc, []firestore.Update{{Path: "renewal", Value: state}})
	})
	switch {
	case errors.Is(err, errBusy):
		return calOutcome{outcome: "busy"}, nil
	case errors.Is(err, errFresh):
		return calOutcome{outcome: "fresh"}, nil
	case status.Code(err) == codes.NotFound:
		return calOutcome{outcome: "gone"}, nil
	case err != nil:
		return o, fmt.Errorf("lease calendar %s: %w", ref, err)
	}
	if old != nil {
		oldID = old.ID
	}

	var created *store.Channel
	if open {
		call()
		created, err = r.watch(ctx, cal, googleID, newID, now)
		if err != nil {
			var ge *googleapi.Error
			keep := !errors.As(err, &ge) // no answer from Google: the channel may exist
			if rerr := r.release(ctx, doc, owner, toStop, keep, newID, resID, now); rerr != nil {
				err = errors.Join(err, rerr)
			}
			if googlecal.Classify(err) == googlecal.ClassNotFound {
				o.outcome = "gone" // deleted at Google; the list pass removes it
			}
			return o, err
		}
		r.Counters.Opened.Add(1)
		if r.AfterWatch != nil {
			if herr := r.AfterWatch(ref); herr != nil {
				return o, fmt.Errorf("%w: %v", ErrCrash, herr)
			}
		}
		// T2: switch only if the lease is still ours and the calendar still selected.
		switched := false
		err = r.Store.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
			switched = false
			snap, err := tx.Get(doc)
			if err != nil {
				return err
			}
			c, err := readCal(snap)
			if err != nil {
				return err
			}
			r.Counters.Reads.Add(1)
			if c.Renewal.Owner != owner || !c.Selected {
				return nil
			}
			retired := append([]chanRef(nil), c.Renewal.Retired...)
			if c.Channel != nil && c.Channel.ID != "" {
				retired = append(retired, chanRef{c.Channel.ID, c.Channel.ResourceID})
			}
			expiry := created.Expiry
			if len(retired) > 0 {
				expiry = now // found again by the next tick if we die before T3
			}
			state := map[string]any{"owner": owner, "until": leaseUntil(), "retired": retired, "resourceId": created.ResourceID, "pending": nil}
			lookup := store.ChannelLookup{
				CalendarPath: doc.Path, Tenant: ref.Tenant, Staff: ref.Staff, Connection: ref.Connection, Calendar: ref.Calendar,
				TokenHash: created.TokenHash, ResourceID: created.ResourceID, Expiry: created.Expiry,
			}
			if err := tx.Set(r.Store.Channel(created.ID), lookup); err != nil {
				return err
			}
			switched = true
			toStop = retired
			r.Counters.Writes.Add(2)
			return tx.Update(doc, []firestore.Update{
				{Path: "channel", Value: created}, {Path: "channelExpiry", Value: expiry}, {Path: "renewal", Value: state},
			})
		})
		if err != nil {
			// Unknown whether the switch happened: the pending record lets the next run
			// stop the new channel if it did not.
			return o, fmt.Errorf("switch channel of %s: %w", ref, err)
		}
		if !switched {
			// Lost the lease (it expired and another run took over) or deselected: the
			// channel we opened is nobody's. Stop it.
			o.outcome = "superseded"
			call()
			if serr := watch.Stop(ctx, cal, r.Store, created); serr != nil {
				return o, serr
			}
			r.Counters.Writes.Add(1)
			r.Counters.Stopped.Add(1)
			o.stopped++
			return o, nil
		}
		if r.AfterSwitch != nil {
			if herr := r.AfterSwitch(ref); herr != nil {
				return o, fmt.Errorf("%w: %v", ErrCrash, herr)
			}
		}
	}

	// Stop every retired channel (the old one, leftovers of crashed runs).
	var remaining []chanRef
	var stopErr error
	for i, ch := range toStop {
		if stopErr != nil {
			remaining = append(remaining, toStop[i:]...)
			break
		}
		if ch.ResourceID == "" {
			// Cannot be stopped without its resource id: its lookup goes, so any push is
			// ignored, and Google expires it.
			r.log().WarnContext(ctx, "renew: channel without resource id left to expire", "calendar", ref.String(), "channel", ch.ID)
			_ = watch.Stop(ctx, nil, r.Store, &store.Channel{ID: ch.ID})
			continue
		}
		call()
		if err := watch.Stop(ctx, cal, r.Store, &store.Channel{ID: ch.ID, ResourceID: ch.ResourceID}); err != nil {
			stopErr = err
			remaining = append(remaining, ch)
			continue
		}
		r.Counters.Writes.Add(1)
		r.Counters.Stopped.Add(1)
		o.stopped++
	}
	// T3: release the lease, keep what could not be stopped, publish the real expiry.
	if err := r.release(ctx, doc, owner, remaining, false, "", "", now); err != nil {
		return o, errors.Join(stopErr, err)
	}
	if stopErr != nil {
		return o, stopErr
	}
	switch {
	case created != nil:
		o.outcome = "renewed"
	default:
		o.outcome = "cleaned"
	}
	return o, nil
}

var (
	errBusy  = errors.New("renewal lease held by another run")
	errFresh = errors.New("nothing to do")
)

// release ends a run on a calendar: the lease is freed if still ours, retired is set to
// what is left to stop (plus the pending channel when keepPending), and channelExpiry is
// set from the calendar's channel (deleted when it has none and is not selected).
func (r *Renewer) release(ctx context.Context, doc *firestore.DocumentRef, owner string, remaining []chanRef, keepPending bool, pendingID, resID string, now time.Time) error {
	err := r.Store.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(doc)
		if err != nil {
			return err
		}
		c, err := readCal(snap)
		if err != nil {
			return err
		}
		r.Counters.Reads.Add(1)
		if c.Renewal.Owner != owner {
			// Someone took over after our lease expired: add what we still hold.
			if len(remaining) == 0 && !keepPending {
				return nil
			}
			ups := make([]any, 0, len(remaining)+1)
			for _, ch := range remaining {
				ups = append(ups, ch)
			}
			if keepPending {
				ups = append(ups, chanRef{pendingID, resID})
			}
			r.Counters.Writes.Add(1)
			return tx.Update(doc, []firestore.Update{{Path: "renewal.retired", Value: firestore.ArrayUnion(ups...)}})
		}
		retired := append([]chanRef(nil), remaining...)
		if keepPending {
			retired = append(retired, chanRef{pendingID, resID})
		}
		rid := c.Renewal.ResourceID
		state := map[string]any{"owner": "", "until": time.Time{}, "retired": retired, "resourceId": rid, "pending": nil}
		ups := []firestore.Update{{Path: "renewal", Value: state}}
		switch {
		case c.Channel != nil && !c.Selected:
			// Stopped above: the calendar no longer has a channel, and leaves the index.
			ups = append(ups, firestore.Update{Path: "channel", Value: nil}, firestore.Update{Path: "channelExpiry", Value: firestore.Delete})
		case c.Channel == nil && !c.Selected:
			ups = append(ups, firestore.Update{Path: "channelExpiry", Value: firestore.Delete})
		case c.Channel == nil:
			// Selected without a channel (watch failed): the next tick tries again.
			ups = append(ups, firestore.Update{Path: "channelExpiry", Value: time.Time{}})
		case len(retired) == 0:
			ups = append(ups, firestore.Update{Path: "channelExpiry", Value: c.Channel.Expiry})
		default:
			ups = append(ups, firestore.Update{Path: "channelExpiry", Value: now})
		}
		r.Counters.Writes.Add(1)
		return tx.Update(doc, ups)
	})
	if status.Code(err) == codes.NotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("release calendar %s: %w", doc.ID, err)
	}
	return nil
}

// watch calls events.watch with a chosen id and a fresh random token.
func (r *Renewer) watch(ctx context.Context, cal *calendar.Service, googleID, id string, now time.Time) (*store.Channel, error) {
	token := newToken()
	ttl := r.ttl()
	req := &calendar.Channel{
		Id: id, Type: "web_hook", Address: r.WebhookURL, Token: token,
		Params: map[string]string{"ttl": fmt.Sprint(int64(ttl / time.Second))},
	}
	got, err := cal.Events.Watch(googleID, req).Context(ctx).Do()
	if err != nil {
		return nil, fmt.Errorf("watch calendar: %w", err)
	}
	expiry := now.Add(ttl)
	if got.Expiration > 0 {
		expiry = time.UnixMilli(got.Expiration).UTC()
	}
	return &store.Channel{ID: id, ResourceID: got.ResourceId, Expiry: expiry, TokenHash: store.HashToken(token)}, nil
}
