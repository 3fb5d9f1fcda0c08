package renewal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/topology"
)

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
	PollSyncs   int // polled calendars (they cannot be watched) synced
	Polled      int // calendars put into polling mode by this run (events.watch refused for good)
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
			"safetySyncs", res.SafetySyncs, "fullSyncs", res.FullSyncs, "pollSyncs", res.PollSyncs, "polled", res.Polled, "listRefresh", res.ListRefresh,
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
	cr := &connRun{r: r, conn: conn, cal: sess.Calendar, now: now, res: &res, log: log}
	defer func() { res.GoogleCalls = cr.calls }()
	err = cr.renew(ctx)
	return res, err
}

// connRun is one RenewConnection on an open connection.
type connRun struct {
	r     *Renewer
	conn  *store.Connection
	cal   *calendar.Service
	now   time.Time
	res   *Result
	log   *slog.Logger
	calls int
}

func (c *connRun) call() { c.calls++; c.r.Counters.GoogleCalls.Add(1) }

// handle maps a Google error: rate limits and outages → redeliver; revoked grant →
// reauth_required, acknowledge.
func (c *connRun) handle(ctx context.Context, gerr error) (stop bool, err error) {
	switch cl := googlecal.Classify(gerr); {
	case cl == googlecal.ClassAuth:
		c.res.Outcome = "reauth_required"
		if err := c.r.Accounts.MarkReauth(ctx, c.conn, c.now); err != nil {
			return true, err
		}
		return true, nil
	case cl == googlecal.ClassRateLimited:
		c.res.Outcome = "rate_limited"
		return true, fmt.Errorf("renew connection %s: %w", c.conn.ID, gerr)
	case cl.Retryable():
		return true, fmt.Errorf("renew connection %s: %w", c.conn.ID, gerr)
	}
	return false, nil
}

// renew runs the connection's passes: calendar list, channels, safety-net syncs.
func (c *connRun) renew(ctx context.Context) error {
	r, conn, now := c.r, c.conn, c.now
	// Calendar-list pass, at most every ListInterval.
	if r.Lists != nil && conn.LastListSyncAt.Before(now.Add(-r.listEvery())) {
		c.call()
		c.res.ListRefresh = true
		if lerr := r.Lists.RefreshList(ctx, conn, now); lerr != nil {
			if stop, err := c.handle(ctx, lerr); stop {
				return err
			}
			c.log.WarnContext(ctx, "renew: calendar list refresh failed", "errorClass", string(googlecal.Classify(lerr)), "error", lerr.Error())
		}
	}
	cals, err := c.readCals(ctx)
	if err != nil {
		return err
	}
	// One read per channel: is the lookup the webhook routes by still there and right?
	lookups, err := r.lookups(ctx, cals)
	if err != nil {
		return err
	}
	errs, stop, err := c.renewChannels(ctx, cals, lookups)
	if stop {
		return err
	}
	if err := c.safetyNet(ctx, cals); err != nil {
		return err
	}
	if len(errs) > 0 {
		// Calendar-specific failures (e.g. a calendar deleted at Google, which the next
		// list pass removes) are logged per channel; they do not make the message retry.
		c.log.WarnContext(ctx, "renew: some calendars failed", "failures", len(errs), "error", errors.Join(errs...).Error())
	}
	return nil
}

// readCals reads the connection's calendar documents.
func (c *connRun) readCals(ctx context.Context) ([]*calDoc, error) {
	snaps, err := c.r.Store.CalendarDocs(ctx, c.conn.Tenant, c.conn.Staff, c.conn.ID)
	c.r.Counters.Reads.Add(int64(max(1, len(snaps))))
	if err != nil {
		return nil, err
	}
	cals := make([]*calDoc, 0, len(snaps))
	for _, s := range snaps {
		cd, err := readCal(s)
		if err != nil {
			return nil, err
		}
		cals = append(cals, cd)
	}
	return cals, nil
}

// renewChannels renews the channel of every calendar that needs it, within the call
// budget. errs are calendar-specific failures; stop ends the message with err.
func (c *connRun) renewChannels(ctx context.Context, cals []*calDoc, lookups map[string]*store.ChannelLookup) (errs []error, stop bool, err error) {
	r, conn, now, res := c.r, c.conn, c.now, c.res
	for _, cd := range cals {
		ref := store.CalRef{Tenant: conn.Tenant, Staff: conn.Staff, Connection: conn.ID, Calendar: cd.DocID}
		need := r.need(cd, lookups, now)
		if need == "" {
			continue
		}
		if need == needExpired {
			logging.Event(ctx, r.log(), logging.EventRenewExpiredUnrenewed,
				slog.String("tenant", ref.Tenant), slog.String("staff", ref.Staff), slog.String("connection", ref.Connection),
				slog.String("calendar", ref.Calendar), slog.String("channel", cd.Channel.ID),
				slog.Time("expiry", cd.Channel.Expiry), slog.Duration("expiredFor", now.Sub(cd.Channel.Expiry)))
		}
		if c.calls+2+len(cd.Renewal.Retired) > r.budget() {
			res.Deferred++
			continue
		}
		o, cerr := r.renewCalendar(ctx, c.cal, ref, cd, need, now, c.call)
		res.Stopped += o.stopped
		switch o.outcome {
		case "renewed":
			res.Renewed++
			// The old channel may have missed changes (expired, missing, rejected): catch up.
			if need != needExpiring && cd.Selected {
				cd.LastSyncAt = time.Time{}
			}
		case "busy":
			res.Busy++
		case "poll":
			// Google will never push for it: from now on it is polled, and synced now.
			res.Polled++
			cd.SyncMode, cd.LastSyncAt = store.SyncModePoll, time.Time{}
		}
		if cerr != nil {
			if errors.Is(cerr, ErrCrash) {
				return errs, true, cerr
			}
			if stop, err := c.handle(ctx, cerr); stop {
				return errs, true, err
			}
			errs = append(errs, cerr)
		}
	}
	return errs, false, nil
}

// safetyNet enqueues the safety-net and periodic full syncs: push notifications are not
// guaranteed.
func (c *connRun) safetyNet(ctx context.Context, cals []*calDoc) error {
	r, conn, now, res := c.r, c.conn, c.now, c.res
	for _, cd := range cals {
		if !cd.Selected {
			continue
		}
		reason := ""
		switch {
		case cd.LastFullSyncAt.Before(now.Add(-r.full())):
			reason = "full"
		case cd.SyncMode == store.SyncModePoll && cd.LastSyncAt.Before(r.pollDue(now)):
			reason = "poll" // no channel: this is how its changes arrive
		case cd.LastSyncAt.Before(now.Add(-r.safety())):
			reason = "safety"
		default:
			continue
		}
		msg := messages.Sync{Tenant: conn.Tenant, Staff: conn.Staff, Connection: conn.ID, Calendar: cd.DocID, Reason: reason}
		if err := r.Publish(ctx, topology.CalendarSync, msg); err != nil {
			return fmt.Errorf("enqueue %s sync of %s: %w", reason, cd.DocID, err)
		}
		r.Counters.Published.Add(1)
		switch reason {
		case "full":
			res.FullSyncs++
		case "poll":
			res.PollSyncs++
		default:
			res.SafetySyncs++
		}
	}
	return nil
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
	snaps, err := r.Store.GetAll(ctx, refs)
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
	if c.SyncMode == store.SyncModePoll {
		// Google refused a channel for good (pushNotSupportedForRequestedResource): never
		// ask again; the calendar is polled (safetyNet).
		if leftovers || c.Channel != nil {
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
