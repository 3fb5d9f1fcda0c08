// Package health derives the sync health of a connection and of each of its selected
// calendars from the bookkeeping the syncer, the webhook and the renewal store on the
// documents (lastSyncAt, lastPushAt, lastErrorClass, consecutiveFailures, channel expiry,
// the sync lease, the connection's status). It is pure: no I/O, no clock of its own
// (callers pass now), and it reads and returns bookkeeping only — never a calendar name,
// an event, an e-mail address or a token — so its output may be shown to the staff
// member, logged and printed by the operations tool.
//
// # States, best to worst
//
//	ok            synced recently, channel live, no failures
//	syncing       selected but the first sync has not finished yet (and nothing failed)
//	no_channel    synced, but no live push channel: changes arrive only with the
//	              safety-net sync (RenewChannels re-creates the channel; reselecting heals it)
//	              — never for a calendar in polling mode (Google cannot watch it; mode
//	              "poll": RenewChannels syncs it every POLL_INTERVAL)
//	degraded      1 ≤ consecutiveFailures < FailingAfter (Pub/Sub is retrying), or the last
//	              successful sync is older than StaleAfter, or a push has waited longer than
//	              PushLagLimit for its sync
//	failing       consecutiveFailures ≥ FailingAfter, or the last error is one retrying
//	              cannot fix (not_found, forbidden, invalid) — an operator must look
//	paused_reauth the connection is reauth_required (or revoked): Google no longer accepts
//	              its grant; nothing syncs until the staff member reconnects
//
// A connection's state is the worst of its selected calendars' states (ok when none is
// selected); a connection that is not active is paused_reauth whatever its calendars say.
package health

import (
	"sort"
	"time"

	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/renewal"
	"github.com/belbo/calsync/shared/store"
)

// State is an overall health state.
type State string

// States, in order from best to worst (see the package comment).
const (
	OK           State = "ok"
	Syncing      State = "syncing"
	NoChannel    State = "no_channel"
	Degraded     State = "degraded"
	Failing      State = "failing"
	PausedReauth State = "paused_reauth"
)

var rank = map[State]int{OK: 0, Syncing: 1, NoChannel: 2, Degraded: 3, Failing: 4, PausedReauth: 5}

// Worse reports whether a is worse than b.
func Worse(a, b State) bool { return rank[a] > rank[b] }

// Actions tell the booking product what to show.
const (
	ActionNone      = "none"      // nothing to do
	ActionWait      = "wait"      // the system is catching up on its own
	ActionReconnect = "reconnect" // "Google sync paused — reconnect"
	ActionOperator  = "operator"  // an operator must look (the staff member cannot fix it)
)

// Reasons explain a state that is not ok (stable snake_case codes).
const (
	ReasonFirstSyncPending = "first_sync_pending"
	ReasonNoChannel        = "no_channel"
	ReasonChannelExpired   = "channel_expired"
	ReasonFailures         = "consecutive_failures"
	ReasonPermanentError   = "permanent_error"
	ReasonStale            = "stale"
	ReasonPushLag          = "push_lag"
	ReasonReauth           = "reauth_required"
	ReasonRevoked          = "revoked"
)

// Thresholds tune the states. Zero values take the defaults.
type Thresholds struct {
	// FailingAfter: this many consecutive failed syncs make a calendar failing
	// (default 3; Pub/Sub retries a failed message with backoff, so three failures in a
	// row mean several minutes without a successful sync).
	FailingAfter int
	// StaleAfter: a selected calendar whose last successful sync is older than this is
	// degraded (default 2 × SafetySyncInterval + 15 min = 12 h 15 min with the default 6 h
	// safety-net interval: two safety-net rounds were missed).
	StaleAfter time.Duration
	// PollStaleAfter is StaleAfter for a calendar Google cannot watch, polled every
	// POLL_INTERVAL (default 1 h: a dozen polls missed), when shorter than StaleAfter.
	PollStaleAfter time.Duration
	// PushLagLimit: a push received (lastPushAt) that no sync has followed for this long
	// makes the calendar degraded (default 10 min).
	PushLagLimit time.Duration
}

// DefaultThresholds derives the thresholds from the safety-net interval (config
// SAFETY_SYNC_INTERVAL; 0 means its default of 6 hours).
func DefaultThresholds(safetySyncInterval time.Duration) Thresholds {
	if safetySyncInterval <= 0 {
		safetySyncInterval = renewal.DefaultSafetyInterval
	}
	return Thresholds{FailingAfter: 3, StaleAfter: 2*safetySyncInterval + 15*time.Minute, PollStaleAfter: time.Hour, PushLagLimit: 10 * time.Minute}
}

func (t Thresholds) withDefaults() Thresholds {
	d := DefaultThresholds(0)
	if t.FailingAfter <= 0 {
		t.FailingAfter = d.FailingAfter
	}
	if t.StaleAfter <= 0 {
		t.StaleAfter = d.StaleAfter
	}
	if t.PushLagLimit <= 0 {
		t.PushLagLimit = d.PushLagLimit
	}
	if t.PollStaleAfter <= 0 {
		t.PollStaleAfter = d.PollStaleAfter
	}
	return t
}

// Calendar is the health of one selected calendar.
type Calendar struct {
	// CalendarID is the Google calendar id, as GET …/calendars returns it. The operations
	// tool leaves it empty unless asked (-show-email): a primary calendar's id is the
	// account's e-mail address.
	CalendarID string `json:"calendarId,omitempty"`
	// DocID is the calendar's Firestore document id (a hash of the Google id).
	DocID               string     `json:"docId"`
	State               State      `json:"state"`
	Reasons             []string   `json:"reasons,omitempty"`
	LastSyncAt          *time.Time `json:"lastSyncAt,omitempty"`
	LastFullSyncAt      *time.Time `json:"lastFullSyncAt,omitempty"`
	LastPushAt          *time.Time `json:"lastPushAt,omitempty"`
	LastErrorAt         *time.Time `json:"lastErrorAt,omitempty"`
	LastErrorClass      string     `json:"lastErrorClass,omitempty"`
	ConsecutiveFailures int        `json:"consecutiveFailures"`
	ChannelExpiry       *time.Time `json:"channelExpiry,omitempty"`
	// PushLagSeconds is the time from the last push received to the sync that followed
	// it (lastSyncAt − lastPushAt), or, while no sync has followed yet, how long the push
	// has been waiting (now − lastPushAt). Absent when no push was recorded.
	PushLagSeconds *float64 `json:"pushLagSeconds,omitempty"`
	PushPending    bool     `json:"pushPending,omitempty"`
	// SyncingNow: a sync holds the calendar's lease at the moment of the check.
	SyncingNow bool  `json:"syncingNow,omitempty"`
	SyncRuns   int64 `json:"syncRuns"`
	// Mode is how changes reach the product: "push" (a Google watch channel) or "poll"
	// (Google cannot watch this calendar — holidays, birthdays, week numbers — so
	// RenewChannels syncs it every POLL_INTERVAL; no channel is expected).
	Mode string `json:"mode"`
}

// Sync modes (Calendar.Mode).
const (
	ModePush = "push"
	ModePoll = "poll"
)

// Connection is the health of one connection.
type Connection struct {
	State State `json:"state"`
	// Action is what the booking product should offer: none, wait, reconnect, operator.
	Action string `json:"action"`
	// Status is the connection's status (active | reauth_required | revoked).
	Status          string     `json:"status"`
	StatusChangedAt *time.Time `json:"statusChangedAt,omitempty"`
	// LastSyncAt is the oldest last successful sync of the selected calendars (absent
	// when one has never synced or none is selected).
	LastSyncAt *time.Time `json:"lastSyncAt,omitempty"`
	// ConsecutiveFailures is the highest of the selected calendars.
	ConsecutiveFailures int        `json:"consecutiveFailures"`
	CheckedAt           time.Time  `json:"checkedAt"`
	Calendars           []Calendar `json:"calendars"`
	// Slots says what the booking widget does with the staff member's times while the
	// connection is in this state (set by ApplySlotsPolicy; absent when not asked):
	// SlotsOffered, SlotsWithheld or SlotsUnchecked.
	Slots string `json:"slots,omitempty"`
	// SlotsReason explains Slots when it is not SlotsOffered (ReasonReauth).
	SlotsReason string `json:"slotsReason,omitempty"`
}

// What the widget does with a staff member's times (Connection.Slots).
const (
	SlotsOffered = "offered" // normal: free times are computed from the synced calendars
	// SlotsWithheld: the connection needs reauthorisation, its calendars cannot be seen,
	// so no slots are offered and Book answers calendar_reauth_required until the staff
	// member reconnects (the tenant default).
	SlotsWithheld = "withheld"
	// SlotsUnchecked: the connection needs reauthorisation but the tenant chose to offer
	// slots anyway (slotsWhenReauthNeeded): times may collide with Google events.
	SlotsUnchecked = "offered_unchecked"
)

// ApplySlotsPolicy fills Slots and SlotsReason from the connection's status and the
// tenant setting slotsWhenReauthNeeded (offerWhenReauth).
func (c *Connection) ApplySlotsPolicy(offerWhenReauth bool) {
	switch {
	case c.Status == store.StatusActive:
		c.Slots, c.SlotsReason = SlotsOffered, ""
	case offerWhenReauth:
		c.Slots, c.SlotsReason = SlotsUnchecked, ReasonReauth
	default:
		c.Slots, c.SlotsReason = SlotsWithheld, ReasonReauth
	}
}

func ptr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// permanent error classes: retrying the same message will not help (googlecal.Class values).
var permanent = map[string]bool{"not_found": true, "forbidden": true, "invalid": true}

// ForCalendar derives one selected calendar's health. active is whether its connection
// is active.
func ForCalendar(c *store.Calendar, active bool, now time.Time, th Thresholds) Calendar {
	th = th.withDefaults()
	h := Calendar{
		DocID:               c.DocID,
		LastSyncAt:          ptr(c.LastSyncAt),
		LastFullSyncAt:      ptr(c.LastFullSyncAt),
		LastPushAt:          ptr(c.LastPushAt),
		LastErrorAt:         ptr(c.LastErrorAt),
		LastErrorClass:      c.LastErrorClass,
		ConsecutiveFailures: c.Failures,
		SyncRuns:            c.SyncRuns,
		SyncingNow:          c.LeaseOwner != "" && c.LeaseUntil.After(now),
		Mode:                ModePush,
	}
	if c.SyncMode == store.SyncModePoll {
		h.Mode = ModePoll
	}
	expiry := c.ChannelExpiry
	if c.Channel != nil && !c.Channel.Expiry.IsZero() {
		expiry = c.Channel.Expiry
	}
	if c.Channel != nil {
		h.ChannelExpiry = ptr(expiry)
	}
	var pushLag time.Duration
	if !c.LastPushAt.IsZero() {
		if !c.LastSyncAt.Before(c.LastPushAt) {
			pushLag = c.LastSyncAt.Sub(c.LastPushAt)
		} else {
			h.PushPending = true
			pushLag = max(now.Sub(c.LastPushAt), 0)
		}
		secs := pushLag.Seconds()
		h.PushLagSeconds = &secs
	}
	state := OK
	raise := func(s State, reason string) {
		if Worse(s, state) {
			state = s
		}
		h.Reasons = append(h.Reasons, reason)
	}
	if !active {
		raise(PausedReauth, ReasonReauth)
	}
	if c.LastSyncAt.IsZero() && c.Failures == 0 {
		raise(Syncing, ReasonFirstSyncPending)
	}
	switch {
	case h.Mode == ModePoll:
		// No channel by design: polled, and PollStaleAfter catches polls that stop.
	case c.Channel == nil:
		if active {
			raise(NoChannel, ReasonNoChannel)
		}
	case !expiry.After(now):
		raise(NoChannel, ReasonChannelExpired)
	}
	switch {
	case c.Failures > 0 && permanent[c.LastErrorClass]:
		raise(Failing, ReasonPermanentError)
	case c.Failures >= th.FailingAfter:
		raise(Failing, ReasonFailures)
	case c.Failures > 0:
		raise(Degraded, ReasonFailures)
	}
	staleAfter := th.StaleAfter
	if h.Mode == ModePoll {
		staleAfter = min(staleAfter, th.PollStaleAfter)
	}
	if !c.LastSyncAt.IsZero() && now.Sub(c.LastSyncAt) > staleAfter {
		raise(Degraded, ReasonStale)
	}
	if h.PushPending && pushLag > th.PushLagLimit {
		raise(Degraded, ReasonPushLag)
	}
	h.State = state
	return h
}

// ForConnection derives a connection's health from its calendars (unselected ones are
// ignored). The calendars' CalendarID is filled only when withCalendarIDs is set.
func ForConnection(conn *store.Connection, cals []*store.Calendar, now time.Time, th Thresholds, withCalendarIDs bool) Connection {
	active := conn.Status == store.StatusActive
	out := Connection{
		State:           OK,
		Status:          conn.Status,
		StatusChangedAt: ptr(conn.StatusChangedAt),
		CheckedAt:       now.UTC(),
		Calendars:       []Calendar{},
	}
	var oldest time.Time
	neverSynced := false
	for _, c := range cals {
		if !c.Selected {
			continue
		}
		h := ForCalendar(c, active, now, th)
		if withCalendarIDs {
			h.CalendarID = c.GoogleID
		}
		out.Calendars = append(out.Calendars, h)
		if Worse(h.State, out.State) {
			out.State = h.State
		}
		out.ConsecutiveFailures = max(out.ConsecutiveFailures, h.ConsecutiveFailures)
		switch {
		case c.LastSyncAt.IsZero():
			neverSynced = true
		case oldest.IsZero() || c.LastSyncAt.Before(oldest):
			oldest = c.LastSyncAt
		}
	}
	if !neverSynced {
		out.LastSyncAt = ptr(oldest)
	}
	sort.Slice(out.Calendars, func(i, j int) bool {
		a, b := out.Calendars[i], out.Calendars[j]
		if a.CalendarID != b.CalendarID {
			return a.CalendarID < b.CalendarID
		}
		return a.DocID < b.DocID
	})
	if !active {
		out.State = PausedReauth
	}
	out.Action = ActionFor(out.State)
	return out
}

// ActionFor maps a state to what the booking product should offer the staff member.
func ActionFor(s State) string {
	switch s {
	case PausedReauth:
		return ActionReconnect
	case Failing:
		return ActionOperator
	case Syncing, Degraded, NoChannel:
		return ActionWait
	}
	return ActionNone
}

// Resync reasons (messages.Sync.Reason).
const (
	ReasonSafetySync = "safety" // incremental sync with the stored token
	ReasonFullSync   = "full"   // drop the token: list everything, sweep what is gone
)

// ResyncMessages lists the calendar-sync messages that resync a connection's selected
// calendars: all of them, or only the one whose Google id or document id is calendar.
// full chooses reason "full" (list everything again and delete what Google no longer
// has) over "safety" (an incremental sync). Unselected calendars are never synced.
// Publishing the result twice is safe: the syncer serialises per calendar and every
// write is idempotent.
func ResyncMessages(conn *store.Connection, cals []*store.Calendar, calendar string, full bool) []messages.Sync {
	reason := ReasonSafetySync
	if full {
		reason = ReasonFullSync
	}
	var out []messages.Sync
	for _, c := range cals {
		if !c.Selected {
			continue
		}
		if calendar != "" && calendar != c.GoogleID && calendar != c.DocID {
			continue
		}
		out = append(out, messages.Sync{Tenant: conn.Tenant, Staff: conn.Staff, Connection: conn.ID, Calendar: c.DocID, Reason: reason})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Calendar < out[j].Calendar })
	return out
}
