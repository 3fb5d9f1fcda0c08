package syncer

import (
	"time"

	"github.com/belbo/calsync/shared/store"
)

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
