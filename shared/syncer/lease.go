package syncer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/belbo/calsync/shared/store"
)

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
	var conn *store.Connection // read once, with the calendar's first read
	for attempt := 0; attempt < 50; attempt++ {
		snap, connSnap, err := r.readLease(ctx, calRef, connRef, conn == nil)
		if err != nil {
			return false, err
		}
		if !snap.Exists() {
			r.st.Outcome = "skipped_missing"
			return false, nil
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
			raced, err := r.markDirty(ctx, calRef, &cal, pre)
			if raced {
				continue
			}
			return false, err
		}
		if cal.LeaseOwner == "" && r.covered(&cal) {
			// Released after a successful pass that began listing after this notification.
			r.st.Outcome = "coalesced"
			return false, nil
		}
		if conn == nil {
			if conn, err = r.decodeConnection(connSnap); conn == nil || err != nil {
				return false, err
			}
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

// readLease reads the calendar document and, with it in the same round trip when withConn,
// its connection: a free lease needs both, and a sync run is a chain of dependent round
// trips, so the connection is not read after the calendar. (A message that finds the
// lease held reads the connection for nothing: one document read.) A missing document
// comes back as a snapshot that does not exist.
func (r *run) readLease(ctx context.Context, calRef, connRef *firestore.DocumentRef, withConn bool) (cal, conn *firestore.DocumentSnapshot, err error) {
	if withConn {
		snaps, err := r.s.Store.GetAll(ctx, []*firestore.DocumentRef{calRef, connRef})
		if err != nil {
			return nil, nil, fmt.Errorf("read calendar %s and its connection: %w", r.ref, err)
		}
		return snaps[0], snaps[1], nil
	}
	cal, err = calRef.Get(ctx)
	if err != nil && status.Code(err) != codes.NotFound {
		return nil, nil, fmt.Errorf("read calendar %s: %w", r.ref, err)
	}
	return cal, nil, nil
}

// markDirty handles a calendar whose lease another run holds: it sets dirty (a
// compare-and-set against pre) so the holder loops. raced reports that the document
// changed meanwhile and the caller must read it again.
func (r *run) markDirty(ctx context.Context, calRef *firestore.DocumentRef, cal *store.Calendar, pre firestore.Precondition) (raced bool, err error) {
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
	if r.covered(cal) && !stalled {
		return false, nil // the holder's pass lists after this notification arrived
	}
	if cal.Dirty {
		if stalled {
			return false, ErrLeaseStalled
		}
		return false, nil
	}
	_, err = calRef.Update(ctx, r.pushed([]firestore.Update{{Path: "dirty", Value: true}}), pre)
	if err == nil {
		if stalled {
			return false, ErrLeaseStalled
		}
		return false, nil
	}
	if !casFailed(err) {
		return false, fmt.Errorf("mark %s dirty: %w", r.ref, err)
	}
	return true, nil
}

// decodeConnection decodes the calendar's connection; nil without an error when it is
// missing (the outcome is then recorded).
func (r *run) decodeConnection(snap *firestore.DocumentSnapshot) (*store.Connection, error) {
	if !snap.Exists() {
		r.st.Outcome = "skipped_missing"
		return nil, nil
	}
	conn := &store.Connection{}
	if err := snap.DataTo(conn); err != nil {
		return nil, fmt.Errorf("decode connection %s: %w", r.ref.Connection, err)
	}
	conn.ID = snap.Ref.ID
	return conn, nil
}

// pushed adds lastPushAt for a push-triggered message. The webhook itself writes nothing
// (one read per notification); the time is recorded here, in a write that happens anyway,
// so health can tell a push that no sync has followed (lastPushAt > lastSyncAt).
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

// release clears the lease (if still ours) with extra updates.
func (r *run) release(ctx context.Context, extra map[string]any) error {
	st := r.s.Store
	calRef := st.Doc(r.ref)
	withdrawn := false
	err := st.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		withdrawn = false
		snap, active, err := r.readWithConnection(tx)
		if err != nil {
			if status.Code(err) == codes.NotFound {
				return nil
			}
			return err
		}
		// A run that fails after its calendar was deselected (or its access withdrawn) may
		// have written pages after the delete; no later sync comes to remove them.
		if sel, _ := snap.DataAt("selected"); sel != true || !active {
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

// held reads, inside tx, the calendar this run holds the lease of (errLeaseLost when it
// no longer does) and whether its connection is still active, both in one round trip.
func (r *run) held(tx *firestore.Transaction) (*store.Calendar, bool, error) {
	snap, active, err := r.readWithConnection(tx)
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
	return &cal, active, nil
}

// readWithConnection reads, inside tx and in one round trip, the calendar document (a
// NotFound error when it is gone) and whether its connection still exists and is active.
func (r *run) readWithConnection(tx *firestore.Transaction) (*firestore.DocumentSnapshot, bool, error) {
	st := r.s.Store
	snaps, err := tx.GetAll([]*firestore.DocumentRef{st.Doc(r.ref), st.Connection(r.ref.Tenant, r.ref.Staff, r.ref.Connection)})
	if err != nil {
		return nil, false, err
	}
	if !snaps[0].Exists() {
		return nil, false, status.Errorf(codes.NotFound, "calendar %s not found", r.ref)
	}
	if !snaps[1].Exists() {
		return snaps[0], false, nil
	}
	v, _ := snaps[1].DataAt("status")
	return snaps[0], v == store.StatusActive, nil
}

// renewLease extends the lease if it is still ours (one read and write per page).
func (r *run) renewLease(ctx context.Context) error {
	calRef := r.s.Store.Doc(r.ref)
	return r.s.Store.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
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
