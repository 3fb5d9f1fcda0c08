// Package renewal keeps the sync alive unattended (docs/renewal.md, issue 6): it replaces
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

	"github.com/belbo/calsync/shared/accounts"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
)

// Defaults.
const (
	DefaultTTL    = 7 * 24 * time.Hour
	DefaultMargin = 24 * time.Hour
	// DefaultSafetyInterval: a watched calendar not synced for this long is synced anyway,
	// in case Google dropped a notification (docs/design.md, "The safety net's interval").
	DefaultSafetyInterval = 6 * time.Hour
	DefaultPollInterval   = 5 * time.Minute
	// PollSlack: a polled calendar is due once its last sync is PollInterval − PollSlack
	// old, so a poll that ran a little after one tick is due again at the tick one
	// interval later (ticks come every 5 minutes; without the slack a 5-minute interval
	// would poll every 10).
	PollSlack           = time.Minute
	DefaultFullInterval = 24 * time.Hour
	// DefaultListInterval is the shortest calendar-list interval; the pass runs with the
	// safety net when that is longer (ListEvery).
	DefaultListInterval = time.Hour
	DefaultLeaseTTL     = 2 * time.Minute
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

// Renewer does the renewal work.
type Renewer struct {
	Store      *store.Store
	Accounts   Accounts
	Lists      ListRefresher // nil: no calendar-list pass
	Publish    messages.Publisher
	Log        *slog.Logger
	WebhookURL string

	TTL            time.Duration // channel lifetime asked of Google (config.Channels ChannelTTL)
	Margin         time.Duration // renew channels expiring within this (config.Channels ChannelRenewMargin)
	SafetyInterval time.Duration // safety-net sync when not synced for this long
	PollInterval   time.Duration // sync interval of calendars in polling mode (config.SyncSchedule PollInterval)
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

func (r *Renewer) ttl() time.Duration    { return r.dur(r.TTL, DefaultTTL) }
func (r *Renewer) margin() time.Duration { return r.dur(r.Margin, DefaultMargin) }
func (r *Renewer) safety() time.Duration { return r.dur(r.SafetyInterval, DefaultSafetyInterval) }
func (r *Renewer) poll() time.Duration   { return r.dur(r.PollInterval, DefaultPollInterval) }

// pollDue is the lastSyncAt below which a polled calendar is synced again.
func (r *Renewer) pollDue(now time.Time) time.Time {
	return now.Add(-max(r.poll()-PollSlack, PollSlack))
}
func (r *Renewer) full() time.Duration      { return r.dur(r.FullInterval, DefaultFullInterval) }
func (r *Renewer) listEvery() time.Duration { return ListEvery(r.ListInterval, r.safety()) }

// ListEvery is how often a connection's calendar list is reconciled: list when set, else
// the safety interval but at least DefaultListInterval — the list pass rides on the same
// tick as the safety syncs, so an idle account costs one round per interval.
func ListEvery(list, safety time.Duration) time.Duration {
	if list > 0 {
		return list
	}
	return max(DefaultListInterval, safety)
}
func (r *Renewer) leaseTTL() time.Duration { return r.dur(r.LeaseTTL, DefaultLeaseTTL) }

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
