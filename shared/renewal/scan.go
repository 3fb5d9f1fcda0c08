package renewal

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/topology"
)

// ScanStats is what one tick found and published.
type ScanStats struct {
	Expiring   int // calendar docs with channelExpiry < now + margin (selected)
	SafetyDue  int // selected calendars with lastSyncAt < now − safety interval
	PollDue    int // selected calendars in polling mode due a poll
	FullDue    int // selected calendars with lastFullSyncAt < now − full interval
	ListDue    int // active connections with lastListSyncAt < now − list interval
	Candidates int // distinct connections with work
	Inactive   int // candidates skipped: connection gone or not active
	Published  int // renew-channels messages published (one per connection)
	Exports    int // bookings still waiting for their export, re-enqueued
	Reads      int // documents read (query results + connection gets)
	Pages      int // query pages
	DurationMs int64
}

func (r *Renewer) pageSize() int {
	if r.PageSize > 0 {
		return r.PageSize
	}
	return DefaultPageSize
}

// pager reads a tick scan in pages of PageSize, counting pages and reads (a query page
// that returns nothing is billed one read).
func (r *Renewer) pager(st *ScanStats) store.Pager {
	return store.Pager{Size: r.pageSize(), OnPage: func(n int) {
		st.Pages++
		st.Reads += max(n, 1)
		r.Counters.Reads.Add(int64(max(n, 1)))
	}}
}

// Scan is the scheduler tick: it finds the connections with renewal work and publishes
// one renew-channels message per connection. It reads only index-backed query results
// (projected to the ordering field) and the candidate connections; it never calls Google.
func (r *Renewer) Scan(ctx context.Context, now time.Time) (ScanStats, error) {
	t0 := time.Now()
	var st ScanStats
	found := map[store.ConnKey]bool{} // → known active
	add := func(count *int, active bool) func(store.ConnKey, bool) {
		return func(k store.ConnKey, ok bool) {
			*count++
			if ok {
				found[k] = found[k] || active
			}
		}
	}
	p := r.pager(&st)
	for _, x := range []struct {
		field string
		below time.Time
		count *int
	}{
		{"channelExpiry", now.Add(r.margin()), &st.Expiring},
		{"lastSyncAt", now.Add(-r.safety()), &st.SafetyDue},
		{"lastFullSyncAt", now.Add(-r.full()), &st.FullDue},
	} {
		if err := r.Store.CalendarsDue(ctx, p, x.field, x.below, add(x.count, false)); err != nil {
			return st, fmt.Errorf("renew tick: query calendars by %s: %w", x.field, err)
		}
	}
	if err := r.Store.PollDue(ctx, p, r.pollDue(now), add(&st.PollDue, false)); err != nil {
		return st, fmt.Errorf("renew tick: query polled calendars: %w", err)
	}
	if r.Lists != nil {
		if err := r.Store.ConnectionsListDue(ctx, p, now.Add(-r.listEvery()), add(&st.ListDue, true)); err != nil {
			return st, fmt.Errorf("renew tick: query connections: %w", err)
		}
	}
	// Connections found only through their calendars: skip those that are not active
	// (reauth_required calendars keep old timestamps until the staff member reconnects).
	if err := r.dropInactive(ctx, found, &st); err != nil {
		return st, err
	}
	st.Candidates = len(found)
	err := r.publishAll(ctx, found, &st)
	// Renewals first: a failing export requeue (say, a missing index) must not stop them.
	if xerr := r.requeueExports(ctx, now, &st); xerr != nil {
		r.log().WarnContext(ctx, "renew tick: requeue of pending exports failed", "error", xerr.Error())
	}
	st.DurationMs = time.Since(t0).Milliseconds()
	r.log().InfoContext(ctx, "renew.tick", "event", "renew.tick", "expiring", st.Expiring, "safetyDue", st.SafetyDue,
		"fullDue", st.FullDue, "pollDue", st.PollDue, "listDue", st.ListDue, "candidates", st.Candidates, "inactive", st.Inactive,
		"published", st.Published, "exports", st.Exports, "reads", st.Reads, "pages", st.Pages, "durationMs", st.DurationMs)
	return st, err
}

// dropInactive reads the connections found only through their calendars (known active
// false) and keeps only the active ones.
func (r *Renewer) dropInactive(ctx context.Context, found map[store.ConnKey]bool, st *ScanStats) error {
	var check []store.ConnKey
	for k, active := range found {
		if !active {
			check = append(check, k)
		}
	}
	for i := 0; i < len(check); i += 300 {
		chunk := check[i:min(i+300, len(check))]
		statuses, err := r.Store.ConnectionStatusesOf(ctx, chunk)
		st.Reads += len(chunk)
		r.Counters.Reads.Add(int64(len(chunk)))
		if err != nil {
			return fmt.Errorf("renew tick: %w", err)
		}
		for j, status := range statuses {
			if status == store.StatusActive {
				found[chunk[j]] = true
			} else {
				delete(found, chunk[j])
				st.Inactive++
			}
		}
	}
	return nil
}

// publishAll sends one renew-channels message per connection, a bounded number at once.
func (r *Renewer) publishAll(ctx context.Context, conns map[store.ConnKey]bool, st *ScanStats) error {
	workers := r.PublishWorkers
	if workers <= 0 {
		workers = 32
	}
	work := make(chan store.ConnKey)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for k := range work {
				err := r.Publish(ctx, topology.RenewChannels, messages.Renew{Tenant: k.Tenant, Staff: k.Staff, Connection: k.Connection})
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					st.Published++
				}
				mu.Unlock()
			}
		})
	}
	for k := range conns {
		work <- k
	}
	close(work)
	wg.Wait()
	if len(errs) > 0 {
		// Redeliver the tick; connections already published are idempotent to redo.
		return fmt.Errorf("renew tick: %d of %d publishes failed: %w", len(errs), len(conns), errs[0])
	}
	return nil
}

// ExportStall is how long a booking may wait for its export before the tick asks again.
// Book publishes the export right after its transaction; if that publish was lost (the
// instance died between commit and publish, or Pub/Sub refused it), the booking would
// otherwise stay out of the staff member's Google calendar for good.
const ExportStall = 5 * time.Minute

// requeueExports publishes calendar-export again for bookings still pending after
// ExportStall. ExportBooking is idempotent (deterministic event id, 409 = done) and reads
// the booking to decide, so a second message for a booking that was exported meanwhile
// does nothing harmful.
func (r *Renewer) requeueExports(ctx context.Context, now time.Time, st *ScanStats) error {
	var msgs []messages.Export
	err := r.Store.PendingExports(ctx, r.pager(st), now.Add(-ExportStall), func(k store.BookingKey) {
		if messages.ValidID(k.Tenant) && messages.ValidID(k.Staff) {
			msgs = append(msgs, messages.Export{Tenant: k.Tenant, Staff: k.Staff, Booking: k.ID, Op: "upsert"})
		}
	})
	if err != nil {
		return fmt.Errorf("renew tick: query pending exports: %w", err)
	}
	for _, m := range msgs {
		if err := r.Publish(ctx, topology.CalendarExport, m); err != nil {
			return fmt.Errorf("renew tick: requeue export %s: %w", m.Booking, err)
		}
		st.Exports++
	}
	return nil
}
