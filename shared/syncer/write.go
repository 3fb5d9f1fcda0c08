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

// pageEnd is what a page's transaction may do besides writing the page.
type pageEnd struct {
	renew  bool   // extend the lease: more work follows before the pass finishes
	finish bool   // finish the pass, saving token: the last page of an incremental listing
	token  string // the listing's next sync token (with finish)
}

// pageDone is what a page's transaction did besides writing the page.
type pageDone struct {
	renewed bool        // the lease was extended
	fin     *finishPlan // the pass was finished (finish must not run again)
}

// writePage applies one page: event docs and busy items.
//
// A page of at most atomicMax events — every incremental sync of a few changes — is read
// and written in one transaction that checks the lease and renews it or, on the last page
// of an incremental listing, finishes the pass (token, bookkeeping, release): three
// dependent round trips for what took a read, three phases, a renewal and the finish
// transaction (15), since every round trip on a sync's path adds to how soon a change
// shows. Larger pages are written in parallel batches in three phases whose order keeps
// the index consistent across a crash (see the package comment); end is then left to the
// caller.
func (r *run) writePage(ctx context.Context, items []*calendar.Event, horizonEnd time.Time, seen map[string]bool, end pageEnd) (pageDone, error) {
	if err := r.awaitZone(); err != nil {
		return pageDone{}, err
	}
	if len(items) == 0 {
		return pageDone{}, nil
	}
	byID, order, gone := r.changes(items, horizonEnd, seen)
	events := r.s.Store.Events(r.ref)
	if len(order) <= atomicMax {
		done, err := r.writeAtomic(ctx, events, order, byID, end)
		if err == nil {
			r.checkEchoes(ctx, order, byID, gone)
			return done, nil
		}
		if !errors.Is(err, errPageTooBig) {
			return pageDone{}, err
		}
		for _, id := range order {
			byID[id].oldMonths = nil
		}
	}
	exists, err := r.readOldMonths(ctx, events, order, byID)
	if err != nil {
		return pageDone{}, err
	}
	p1, p2, p3 := r.planPage(events, order, byID, exists, false)
	for _, phase := range [][]write{p1, p2, p3} {
		if err := r.commit(ctx, phase); err != nil {
			return pageDone{}, err
		}
	}
	r.checkEchoes(ctx, order, byID, gone)
	r.st.Written += len(p1)
	for _, w := range p3 {
		if w.del {
			r.st.Deleted++
		}
	}
	return pageDone{}, nil
}

// writeAtomic reads the calendar (the lease fence), its connection (with end.finish) and
// the page's stored events, and writes the page's final state — event docs with their new
// months, busy items, deletions — with the lease's extension (end.renew) or the pass's
// finish (end.finish) in one transaction. Being atomic, it needs no months-union phase. A
// calendar found deselected or withdrawn when finishing gets no page writes: they would
// be deleted at once.
func (r *run) writeAtomic(ctx context.Context, events *firestore.CollectionRef, order []string, byID map[string]*change, end pageEnd) (pageDone, error) {
	st := r.s.Store
	calRef := st.Doc(r.ref)
	refs := []*firestore.DocumentRef{calRef, st.Connection(r.ref.Tenant, r.ref.Staff, r.ref.Connection)}
	if !end.finish {
		refs = refs[:1] // the connection matters only to finishing
	}
	head := len(refs)
	for _, id := range order {
		refs = append(refs, events.Doc(id))
	}
	var ws []write
	var done pageDone
	written := 0
	err := st.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		ws, done, written = nil, pageDone{}, 0
		snaps, err := tx.GetAll(refs)
		if err != nil {
			return err
		}
		if !snaps[0].Exists() {
			return errCalendarGone
		}
		var cal store.Calendar
		if err := snaps[0].DataTo(&cal); err != nil {
			return err
		}
		if cal.LeaseOwner != r.owner {
			return errLeaseLost
		}
		var ups []firestore.Update
		switch {
		case end.finish:
			active := false
			if c := snaps[1]; c.Exists() {
				v, _ := c.DataAt("status")
				active = v == store.StatusActive
			}
			f := r.planFinish(&cal, active, end.token)
			done.fin, ups = &f, f.ups
		case end.renew:
			done.renewed, ups = true, []firestore.Update{{Path: "leaseUntil", Value: r.leaseUntil()}}
		}
		if done.fin == nil || !done.fin.deselected {
			exists := map[string]bool{}
			for i, id := range order {
				byID[id].oldMonths = nil
				if snap := snaps[head+i]; snap.Exists() {
					exists[id] = true
					byID[id].oldMonths = storedMonths(snap)
				}
			}
			p1, p2, p3 := r.planPage(events, order, byID, exists, true)
			ws, written = slices.Concat(p1, p2, p3), len(p1)
		}
		if len(ws)+1 > batchLimit {
			return errPageTooBig
		}
		for _, w := range ws {
			if err := w.apply(tx); err != nil {
				return err
			}
		}
		if len(ups) > 0 {
			return tx.Update(calRef, ups)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, errPageTooBig) || errors.Is(err, errLeaseLost) || errors.Is(err, errCalendarGone) {
			return pageDone{}, err
		}
		return pageDone{}, fmt.Errorf("write page of %s: %w", r.ref, err)
	}
	r.st.Writes += len(ws)
	if done.renewed {
		r.st.Writes++
	}
	r.st.Written += written
	for _, w := range ws {
		if w.del {
			r.st.Deleted++
		}
	}
	return done, nil
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
		ev.Months = calevents.ClipMonths(ev.Months, pastEdge, horizonEnd)
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
