package syncer

import (
	"context"
	"errors"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/googlecal"
)

// ErrCrash is returned when AfterPage aborted a run.
var ErrCrash = errors.New("syncer: run aborted between pages")

var errLeaseLost = errors.New("syncer: lease lost")

// errCalendarGone: the calendar document vanished while the sync ran (disconnect, or the
// calendar was removed): whatever this run wrote under it must be deleted again.
var errCalendarGone = errors.New("syncer: calendar removed during the sync")

// ErrLeaseStalled is returned (so Pub/Sub redelivers) when another run's lease has not
// been renewed for more than half its TTL: its worker probably died.
var ErrLeaseStalled = errors.New("syncer: calendar leased by a stalled run; retry later")

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
