package syncer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/calendar/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/belbo/calsync/shared/calevents"
	"github.com/belbo/calsync/shared/store"
)

// change is what one page does to one event.
type change struct {
	id        string
	ev        store.Event // new content (when !del)
	del       bool
	oldMonths []string
}

// atomicMax is the most events a page may hold to be written in one transaction with
// the lease check (and renewal): with at most one write per event, the busy-month docs of a
// calendar's window (about 17) and the calendar doc, it stays under batchLimit.
const atomicMax = 400

// errPageTooBig: a page planned for one transaction needs more than batchLimit writes.
var errPageTooBig = errors.New("syncer: page too big for one transaction")

// writePage applies one page: event docs and busy items. With renew, it also extends the
// lease; renewed reports that it did so (the caller renews otherwise).
//
// A page of at most atomicMax events — every incremental sync of a few changes — is read
// and written in one transaction that checks the lease and renews it: three dependent
// round trips instead of the phased path's nine (read, three phases, renewal), since each
// round trip on a sync's path adds to how soon a change shows. Larger pages are written in
// parallel batches in three phases whose order keeps the index consistent across a crash
// (see the package comment).
func (r *run) writePage(ctx context.Context, items []*calendar.Event, horizonEnd time.Time, seen map[string]bool, renew bool) (renewed bool, err error) {
	if err := r.awaitZone(); err != nil {
		return false, err
	}
	if len(items) == 0 {
		return false, nil
	}
	byID, order, gone := r.changes(items, horizonEnd, seen)
	events := r.s.Store.Events(r.ref)
	if len(order) <= atomicMax {
		err := r.writeAtomic(ctx, events, order, byID, renew)
		if err == nil {
			r.checkEchoes(ctx, order, byID, gone)
			return renew, nil
		}
		if !errors.Is(err, errPageTooBig) {
			return false, err
		}
		for _, id := range order {
			byID[id].oldMonths = nil
		}
	}
	exists, err := r.readOldMonths(ctx, events, order, byID)
	if err != nil {
		return false, err
	}
	p1, p2, p3 := r.planPage(events, order, byID, exists, false)
	for _, phase := range [][]write{p1, p2, p3} {
		if err := r.commit(ctx, phase); err != nil {
			return false, err
		}
	}
	r.checkEchoes(ctx, order, byID, gone)
	r.st.Written += len(p1)
	for _, w := range p3 {
		if w.del {
			r.st.Deleted++
		}
	}
	return false, nil
}

// writeAtomic reads the calendar (the lease fence) and the page's stored events and writes
// the page's final state — event docs with their new months, busy items, deletions, and
// with renew the lease's extension — in one transaction. Being atomic, it needs no
// months-union phase.
func (r *run) writeAtomic(ctx context.Context, events *firestore.CollectionRef, order []string, byID map[string]*change, renew bool) error {
	calRef := r.s.Store.Doc(r.ref)
	refs := make([]*firestore.DocumentRef, 0, len(order)+1)
	refs = append(refs, calRef)
	for _, id := range order {
		refs = append(refs, events.Doc(id))
	}
	var ws []write
	written := 0
	err := r.s.Store.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snaps, err := tx.GetAll(refs)
		if err != nil {
			return err
		}
		if !snaps[0].Exists() {
			return errCalendarGone
		}
		if owner, _ := snaps[0].DataAt("leaseOwner"); owner != r.owner {
			return errLeaseLost
		}
		exists := map[string]bool{}
		for i, id := range order {
			byID[id].oldMonths = nil
			if snap := snaps[i+1]; snap.Exists() {
				exists[id] = true
				byID[id].oldMonths = storedMonths(snap)
			}
		}
		p1, p2, p3 := r.planPage(events, order, byID, exists, true)
		ws, written = slices.Concat(p1, p2, p3), len(p1)
		if len(ws)+1 > batchLimit {
			return errPageTooBig
		}
		for _, w := range ws {
			if err := w.apply(tx); err != nil {
				return err
			}
		}
		if renew {
			return tx.Update(calRef, []firestore.Update{{Path: "leaseUntil", Value: r.leaseUntil()}})
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, errPageTooBig) || errors.Is(err, errLeaseLost) || errors.Is(err, errCalendarGone) {
			return err
		}
		return fmt.Errorf("write page of %s: %w", r.ref, err)
	}
	r.st.Writes += len(ws)
	if renew {
		r.st.Writes++
	}
	r.st.Written += written
	for _, w := range ws {
		if w.del {
			r.st.Deleted++
		}
	}
	return nil
}

// changes turns one page's items into one change per event id (in first-seen order) and
// updates seen; gone holds the ids Google reported cancelled (for booking.CheckEcho).
func (r *run) changes(items []*calendar.Event, horizonEnd time.Time, seen map[string]bool) (byID map[string]*change, order []string, gone map[string]bool) {
	pastEdge := r.now.Add(-r.s.past())
	byID = map[string]*change{}
	gone = map[string]bool{}
	for _, it := range items {
		ev, cancelled, err := calevents.FromGoogle(it, r.zone)
		if err == nil && cancelled {
			gone[ev.ID] = true
		} else if it != nil {
			delete(gone, it.Id)
		}
		if err != nil {
			if it == nil || it.Id == "" {
				continue
			}
			cancelled = true // unreadable: treat as gone rather than keep stale data
			ev = store.Event{ID: it.Id}
		}
		c := &change{id: ev.ID, ev: ev, del: cancelled}
		if !c.del && (!ev.Start.Before(horizonEnd) || !ev.End.After(pastEdge)) {
			c.del = true // outside the window: not stored
		}
		if !c.del {
			seen[ev.ID] = true
		} else {
			delete(seen, ev.ID)
		}
		if _, dup := byID[ev.ID]; !dup {
			order = append(order, ev.ID)
		}
		byID[ev.ID] = c // a later item of the same id wins
	}
	return byID, order, gone
}

// readOldMonths reads the stored documents of the page's events: it fills each change's
// oldMonths and reports which events exist.
func (r *run) readOldMonths(ctx context.Context, events *firestore.CollectionRef, order []string, byID map[string]*change) (map[string]bool, error) {
	refs := make([]*firestore.DocumentRef, len(order))
	for i, id := range order {
		refs[i] = events.Doc(id)
	}
	snaps, err := r.s.Store.GetAll(ctx, refs)
	if err != nil {
		return nil, fmt.Errorf("read events of %s: %w", r.ref, err)
	}
	for _, snap := range snaps {
		if !snap.Exists() {
			continue
		}
		c := byID[snap.Ref.ID]
		c.oldMonths = append(c.oldMonths, storedMonths(snap)...)
	}
	exists := map[string]bool{}
	for _, snap := range snaps {
		if snap.Exists() {
			exists[snap.Ref.ID] = true
		}
	}
	return exists, nil
}

// planPage builds the page's three phases of writes: event docs with months = old ∪ new
// (p1), busy items (p2), then deletions and the months shrink (p3). For a page written in
// one transaction (atomic), event docs get their new months at once and p3 holds only
// deletions.
func (r *run) planPage(events *firestore.CollectionRef, order []string, byID map[string]*change, exists map[string]bool, atomic bool) (p1, p2, p3 []write) {
	// Phase 1: event docs with months = old ∪ new.
	busy := map[string]map[string]any{} // month → id → item | Delete
	for _, id := range order {
		c := byID[id]
		if c.del {
			if !exists[id] {
				continue
			}
			for _, m := range c.oldMonths {
				addBusy(busy, m, id, firestore.Delete)
			}
			p3 = append(p3, write{ref: events.Doc(id), del: true})
			continue
		}
		newM := c.ev.Months
		union := unionMonths(c.oldMonths, newM)
		if atomic {
			union = newM
		}
		e := c.ev
		e.Months = union
		p1 = append(p1, write{ref: events.Doc(id), data: calevents.Fields(e)})
		item := calevents.Item(c.ev)
		for _, m := range newM {
			addBusy(busy, m, id, item)
		}
		for _, m := range c.oldMonths {
			if !slices.Contains(newM, m) {
				addBusy(busy, m, id, firestore.Delete)
			}
		}
		if len(union) != len(newM) {
			p3 = append(p3, write{ref: events.Doc(id), update: []firestore.Update{{Path: "months", Value: nonNil(newM)}}})
		}
	}
	calPath := r.s.Store.Doc(r.ref).Path
	for m, its := range busy {
		paths := []firestore.FieldPath{{"calendar"}, {"month"}}
		for id := range its {
			paths = append(paths, firestore.FieldPath{"items", id})
		}
		doc := r.s.Store.Busy(r.ref.Tenant, r.ref.Staff).Doc(store.BusyDocID(r.ref.Connection, r.ref.Calendar, m))
		p2 = append(p2, write{ref: doc, data: map[string]any{"calendar": calPath, "month": m, "items": its}, merge: paths})
	}
	return p1, p2, p3
}

type write struct {
	ref    *firestore.DocumentRef
	data   map[string]any
	merge  []firestore.FieldPath
	update []firestore.Update
	del    bool
}

// apply adds the write to tx.
func (w write) apply(tx *firestore.Transaction) error {
	switch {
	case w.del:
		return tx.Delete(w.ref)
	case w.update != nil:
		return tx.Update(w.ref, w.update)
	case w.merge != nil:
		return tx.Set(w.ref, w.data, firestore.Merge(w.merge...))
	default:
		return tx.Set(w.ref, w.data)
	}
}

// storedMonths reads an event document's "months" (the busy docs it is indexed in).
func storedMonths(snap *firestore.DocumentSnapshot) []string {
	var out []string
	if v, err := snap.DataAt("months"); err == nil {
		if arr, ok := v.([]any); ok {
			for _, m := range arr {
				if s, ok := m.(string); ok {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

func addBusy(b map[string]map[string]any, month, id string, v any) {
	if b[month] == nil {
		b[month] = map[string]any{}
	}
	b[month][id] = v
}

func unionMonths(a, b []string) []string {
	out := append([]string{}, b...)
	for _, m := range a {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// fence reads, inside a write transaction, that this run still holds the lease. A worker
// that stalled longer than its lease (a slow Google answer, a pause) may find another run
// holding the calendar, which has already written newer data and saved a token past it:
// writing its stale page then would stay wrong until the next full resync. The read
// orders the transaction before any later acquire of the lease.
func (r *run) fence(tx *firestore.Transaction) error {
	snap, err := tx.Get(r.s.Store.Doc(r.ref))
	if status.Code(err) == codes.NotFound {
		return errCalendarGone
	}
	if err != nil {
		return err
	}
	if owner, _ := snap.DataAt("leaseOwner"); owner != r.owner {
		return errLeaseLost
	}
	return nil
}

// commit writes in batches of ≤ 500, several at once; it returns after all committed.
func (r *run) commit(ctx context.Context, ws []write) error {
	if len(ws) == 0 {
		return nil
	}
	par := r.s.Parallel
	if par <= 0 {
		par = 8
	}
	sem := make(chan struct{}, par)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for i := 0; i < len(ws); i += batchLimit {
		chunk := ws[i:min(i+batchLimit, len(ws))]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			// A write-only transaction is an atomic batch of ≤ 500 writes (WriteBatch is
			// deprecated; BulkWriter ramps up from 500 writes/s, too slow for a full sync).
			err := r.s.Store.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
				if err := r.fence(tx); err != nil {
					return err
				}
				for _, w := range chunk {
					if err := w.apply(tx); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	r.st.Writes += len(ws)
	mu.Unlock()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("write page of %s: %w", r.ref, err)
	}
	return nil
}
