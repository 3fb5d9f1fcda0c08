package renewal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/googleapi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/watch"
)

type calOutcome struct {
	outcome string // renewed | cleaned | fresh | busy | gone | error
	stopped int
}

// calRun is one renewCalendar: the calendar's lease, the channel it opens and the
// retired channels it stops.
type calRun struct {
	r     *Renewer
	cal   *calendar.Service
	ref   store.CalRef
	seen  *calDoc
	need  string
	now   time.Time
	call  func()
	t0    time.Time
	owner string
	doc   *firestore.DocumentRef

	oldID, newID string
	open         bool // we will open a new channel
	old          *store.Channel
	googleID     string
	resID        string
	toStop       []chanRef // channels to stop after the switch
	o            calOutcome
}

func (c *calRun) leaseUntil() time.Time { return c.now.Add(time.Since(c.t0) + c.r.leaseTTL()) }

// renewCalendar replaces (or creates) one calendar's channel and stops what is retired.
func (r *Renewer) renewCalendar(ctx context.Context, cal *calendar.Service, ref store.CalRef, seen *calDoc, need string, now time.Time, call func()) (o calOutcome, err error) {
	c := &calRun{r: r, cal: cal, ref: ref, seen: seen, need: need, now: now, call: call, t0: time.Now(), owner: newOwner(), doc: r.Store.Doc(ref)}
	if seen.Channel != nil {
		c.oldID = seen.Channel.ID
	}
	defer func() { c.log(ctx, o, err) }()

	// T1: lease + write-ahead of the channel id we are about to open.
	err = r.Store.RunTransaction(ctx, c.lease)
	switch {
	case errors.Is(err, errBusy):
		return calOutcome{outcome: "busy"}, nil
	case errors.Is(err, errFresh):
		return calOutcome{outcome: "fresh"}, nil
	case status.Code(err) == codes.NotFound:
		return calOutcome{outcome: "gone"}, nil
	case err != nil:
		return c.o, fmt.Errorf("lease calendar %s: %w", ref, err)
	}
	if c.old != nil {
		c.oldID = c.old.ID
	}

	var created *store.Channel
	if c.open {
		var done bool
		if created, done, err = c.openChannel(ctx); done || err != nil {
			return c.o, err
		}
	}
	if err := c.stopRetired(ctx); err != nil {
		return c.o, err
	}
	switch {
	case created != nil:
		c.o.outcome = "renewed"
	default:
		c.o.outcome = "cleaned"
	}
	return c.o, nil
}

// log records the outcome of one calendar's renewal.
func (c *calRun) log(ctx context.Context, o calOutcome, err error) {
	if o.outcome == "" {
		o.outcome = "error"
	}
	ref := c.ref
	attrs := []slog.Attr{
		slog.String("tenant", ref.Tenant), slog.String("staff", ref.Staff), slog.String("connection", ref.Connection),
		slog.String("calendar", ref.Calendar), slog.String("reason", c.need), slog.String("oldChannel", c.oldID),
		slog.String("newChannel", c.newID), slog.String("outcome", o.outcome), slog.Int("stopped", o.stopped),
		slog.Int64("durationMs", time.Since(c.t0).Milliseconds()),
	}
	if err != nil {
		attrs = append(attrs, slog.String("errorClass", string(googlecal.Classify(err))), slog.String("error", err.Error()))
	}
	logging.Event(ctx, c.r.log(), logging.EventRenewChannel, attrs...)
}

// lease is T1 (inside a transaction): take the calendar's renewal lease, decide whether to
// open a channel and what to stop, and write ahead the id of the channel to open.
func (c *calRun) lease(ctx context.Context, tx *firestore.Transaction) error {
	r := c.r
	c.open, c.old, c.toStop, c.newID = false, nil, nil, ""
	snap, err := tx.Get(c.doc)
	if err != nil {
		return err
	}
	cd, err := readCal(snap)
	if err != nil {
		return err
	}
	st := cd.Renewal
	if st.Owner != "" && st.Owner != c.owner && st.Until.After(c.now) {
		return errBusy
	}
	c.googleID, c.resID, c.old = cd.GoogleID, st.ResourceID, cd.Channel
	retired := append([]chanRef(nil), st.Retired...)
	if st.Pending != nil {
		// A run died between events.watch and the switch: that channel may exist.
		retired = append(retired, *st.Pending)
	}
	if !cd.Selected && cd.Channel != nil {
		retired = append(retired, chanRef{cd.Channel.ID, cd.Channel.ResourceID})
	}
	switch n := r.need(cd, nil, c.now); n {
	case needMissing, needExpired, needExpiring:
		c.open = cd.Selected
	case "":
		// The lookup of the channel we saw was gone or wrong, and it is still that channel.
		c.open = cd.Selected && c.need == needRejected && cd.Channel != nil && cd.Channel.ID == c.oldID
	}
	if !c.open && len(retired) == 0 {
		return errFresh // someone else did it meanwhile
	}
	state := map[string]any{"owner": c.owner, "until": c.leaseUntil(), "retired": retired, "resourceId": c.resID, "pending": nil}
	if c.open {
		c.newID = watch.NewChannelID()
		state["pending"] = chanRef{ID: c.newID, ResourceID: c.resID}
	}
	c.toStop = retired
	r.Counters.Reads.Add(1)
	r.Counters.Writes.Add(1)
	return tx.Update(c.doc, []firestore.Update{{Path: "renewal", Value: state}})
}

// openChannel calls events.watch and switches the calendar to the new channel (T2); done
// reports that the run ends here (the watch failed or the new channel was superseded).
func (c *calRun) openChannel(ctx context.Context) (created *store.Channel, done bool, err error) {
	r := c.r
	c.call()
	created, err = r.watch(ctx, c.cal, c.googleID, c.newID, c.now)
	if err != nil {
		var ge *googleapi.Error
		keep := !errors.As(err, &ge) // no answer from Google: the channel may exist
		if rerr := r.release(ctx, c.doc, c.owner, c.toStop, keep, c.newID, c.resID, c.now); rerr != nil {
			err = errors.Join(err, rerr)
		}
		if googlecal.Classify(err) == googlecal.ClassNotFound {
			c.o.outcome = "gone" // deleted at Google; the list pass removes it
		}
		if googlecal.PushNotSupported(err) {
			// A generated calendar (holidays, birthdays, week numbers): it will never be
			// watched. Poll it instead, and never ask for a channel again.
			if perr := r.Store.SetPollMode(ctx, c.ref); perr != nil {
				return nil, true, errors.Join(err, perr)
			}
			c.o.outcome = "poll"
			return nil, true, nil
		}
		return nil, true, err
	}
	r.Counters.Opened.Add(1)
	if r.AfterWatch != nil {
		if herr := r.AfterWatch(c.ref); herr != nil {
			return nil, true, fmt.Errorf("%w: %v", ErrCrash, herr)
		}
	}
	// T2: switch only if the lease is still ours and the calendar still selected.
	switched := false
	err = r.Store.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		var err error
		switched, err = c.switchTo(tx, created)
		return err
	})
	if err != nil {
		// Unknown whether the switch happened: the pending record lets the next run
		// stop the new channel if it did not.
		return nil, true, fmt.Errorf("switch channel of %s: %w", c.ref, err)
	}
	if !switched {
		// Lost the lease (it expired and another run took over) or deselected: the
		// channel we opened is nobody's. Stop it.
		c.o.outcome = "superseded"
		c.call()
		if serr := watch.Stop(ctx, c.cal, r.Store, created); serr != nil {
			return nil, true, serr
		}
		r.Counters.Writes.Add(1)
		r.Counters.Stopped.Add(1)
		c.o.stopped++
		return nil, true, nil
	}
	if r.AfterSwitch != nil {
		if herr := r.AfterSwitch(c.ref); herr != nil {
			return nil, true, fmt.Errorf("%w: %v", ErrCrash, herr)
		}
	}
	return created, false, nil
}

// switchTo is T2 (inside a transaction): when the lease is still ours and the calendar
// still selected, the calendar gets the created channel and its lookup, and the channel
// it had is retired.
func (c *calRun) switchTo(tx *firestore.Transaction, created *store.Channel) (bool, error) {
	r := c.r
	snap, err := tx.Get(c.doc)
	if err != nil {
		return false, err
	}
	cd, err := readCal(snap)
	if err != nil {
		return false, err
	}
	r.Counters.Reads.Add(1)
	if cd.Renewal.Owner != c.owner || !cd.Selected {
		return false, nil
	}
	retired := append([]chanRef(nil), cd.Renewal.Retired...)
	if cd.Channel != nil && cd.Channel.ID != "" {
		retired = append(retired, chanRef{cd.Channel.ID, cd.Channel.ResourceID})
	}
	expiry := created.Expiry
	if len(retired) > 0 {
		expiry = c.now // found again by the next tick if we die before T3
	}
	state := map[string]any{"owner": c.owner, "until": c.leaseUntil(), "retired": retired, "resourceId": created.ResourceID, "pending": nil}
	ref := c.ref
	lookup := store.ChannelLookup{
		CalendarPath: c.doc.Path, Tenant: ref.Tenant, Staff: ref.Staff, Connection: ref.Connection, Calendar: ref.Calendar,
		TokenHash: created.TokenHash, ResourceID: created.ResourceID, Expiry: created.Expiry,
	}
	if err := tx.Set(r.Store.Channel(created.ID), lookup); err != nil {
		return false, err
	}
	c.toStop = retired
	r.Counters.Writes.Add(2)
	return true, tx.Update(c.doc, []firestore.Update{
		{Path: "channel", Value: created}, {Path: "channelExpiry", Value: expiry}, {Path: "renewal", Value: state},
	})
}

// stopRetired stops every retired channel (the old one, leftovers of crashed runs), then
// releases the lease (T3), keeping what could not be stopped.
func (c *calRun) stopRetired(ctx context.Context) error {
	r := c.r
	var remaining []chanRef
	var stopErr error
	for i, ch := range c.toStop {
		if stopErr != nil {
			remaining = append(remaining, c.toStop[i:]...)
			break
		}
		if ch.ResourceID == "" {
			// Cannot be stopped without its resource id: its lookup goes, so any push is
			// ignored, and Google expires it.
			r.log().WarnContext(ctx, "renew: channel without resource id left to expire", "calendar", c.ref.String(), "channel", ch.ID)
			_ = watch.Stop(ctx, nil, r.Store, &store.Channel{ID: ch.ID})
			continue
		}
		c.call()
		if err := watch.Stop(ctx, c.cal, r.Store, &store.Channel{ID: ch.ID, ResourceID: ch.ResourceID}); err != nil {
			stopErr = err
			remaining = append(remaining, ch)
			continue
		}
		r.Counters.Writes.Add(1)
		r.Counters.Stopped.Add(1)
		c.o.stopped++
	}
	// T3: release the lease, keep what could not be stopped, publish the real expiry.
	if err := r.release(ctx, c.doc, c.owner, remaining, false, "", "", c.now); err != nil {
		return errors.Join(stopErr, err)
	}
	return stopErr
}

var (
	errBusy  = errors.New("renewal lease held by another run")
	errFresh = errors.New("nothing to do")
)

// release ends a run on a calendar: the lease is freed if still ours, retired is set to
// what is left to stop (plus the pending channel when keepPending), and channelExpiry is
// set from the calendar's channel (deleted when it has none and is not selected).
func (r *Renewer) release(ctx context.Context, doc *firestore.DocumentRef, owner string, remaining []chanRef, keepPending bool, pendingID, resID string, now time.Time) error {
	err := r.Store.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
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
