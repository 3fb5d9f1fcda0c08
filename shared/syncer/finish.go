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

// finishPlan is what finishing a pass writes to the calendar document and does next.
type finishPlan struct {
	ups        []firestore.Update
	again      bool // loop: dirty was set, or the stored events were thrown away meanwhile
	deselected bool // deselected or access withdrawn while we ran: delete what was written
	epochReset bool // the epoch changed: list fully (without our token) in the next pass
	epoch      int64
}

// planFinish decides, from the calendar and connection read in the finishing transaction,
// how a pass that listed up to token ends.
func (r *run) planFinish(cal *store.Calendar, active bool, token string) finishPlan {
	ups := []firestore.Update{
		{Path: "syncToken", Value: token}, {Path: "lastSyncAt", Value: r.now.Add(time.Since(r.t0))},
		{Path: "consecutiveFailures", Value: 0}, {Path: "lastErrorClass", Value: ""},
		{Path: "syncRuns", Value: firestore.Increment(1)},
	}
	if r.st.Full {
		ups = append(ups, firestore.Update{Path: "lastFullSyncAt", Value: r.now}, firestore.Update{Path: "horizonEnd", Value: r.horizonEnd()})
	}
	f := finishPlan{}
	// Access withdrawn while we ran (disconnect or revoked at Google): nothing this run
	// wrote may stay.
	if !cal.Selected || !active {
		f.deselected = true
		ups[0].Value = ""
	}
	// The stored events were thrown away while we ran (deselect and reselect, revoke and
	// reconnect): pages written before that are gone, so our token would skip them.
	// Do not save it; list fully again (with sweep) in the next pass.
	epochChanged := cal.Epoch != r.cal.Epoch
	if epochChanged && !f.deselected {
		ups[0].Value = ""
		f.epochReset, f.epoch = true, cal.Epoch
		f.again = true
	}
	switch {
	case f.deselected:
		// Keep the lease while the data is deleted, so a sync after a reselect cannot
		// run in between and have its fresh writes deleted (see afterCleanup).
		ups = append(ups, firestore.Update{Path: "leaseUntil", Value: r.leaseUntil()})
	case (cal.Dirty || epochChanged) && cal.Selected && active:
		f.again = true
		ups = append(ups, firestore.Update{Path: "dirty", Value: false}, firestore.Update{Path: "leaseUntil", Value: r.leaseUntil()},
			firestore.Update{Path: "passStartedAt", Value: time.Now().Add(r.s.loopDelay())})
	default:
		ups = append(ups, firestore.Update{Path: "leaseOwner", Value: ""}, firestore.Update{Path: "leaseUntil", Value: time.Time{}})
	}
	f.ups = ups
	return f
}

// finish saves the token and bookkeeping; it reports whether to loop (dirty was set).
func (r *run) finish(ctx context.Context, token string) (bool, error) {
	st := r.s.Store
	calRef := st.Doc(r.ref)
	var f finishPlan
	err := st.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		cal, active, err := r.held(tx)
		if err != nil {
			return err
		}
		f = r.planFinish(cal, active, token)
		return tx.Update(calRef, f.ups)
	})
	if errors.Is(err, errLeaseLost) {
		r.st.Outcome = "lease_lost"
		return false, nil
	}
	if err != nil && status.Code(err) != codes.NotFound {
		return false, fmt.Errorf("finish sync of %s: %w", r.ref, err)
	}
	return r.finished(ctx, f, status.Code(err) == codes.NotFound)
}

// finished completes a pass whose finishing transaction committed f (or found the
// calendar gone): with the calendar deselected or removed meanwhile, what the run wrote
// is deleted.
func (r *run) finished(ctx context.Context, f finishPlan, notFound bool) (bool, error) {
	r.st.Writes++
	if f.epochReset {
		r.cal.SyncToken, r.cal.Epoch = "", f.epoch
	}
	if f.deselected || notFound {
		// Deselected (or removed, or access withdrawn) while we ran: what we wrote must go.
		r.st.Outcome = "deselected"
		if err := r.s.Store.DeleteCalendarData(ctx, r.ref); err != nil {
			return false, err
		}
		if notFound {
			return false, nil
		}
		return r.afterCleanup(ctx)
	}
	return f.again, nil
}

// afterCleanup runs once a deselected calendar's data is deleted, still holding the
// lease: if the calendar was selected again meanwhile (and its connection is active), it
// keeps the lease and loops with a full listing; otherwise it releases the lease.
func (r *run) afterCleanup(ctx context.Context) (bool, error) {
	st := r.s.Store
	calRef := st.Doc(r.ref)
	again := false
	err := st.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
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
