// Package slotquery loads, from Firestore only, what the slot engine needs for one staff
// member and one time range: the availability rules (staff doc), the busy intervals of
// every selected calendar (busy index docs) and the product's own confirmed bookings.
// It is shared by Slots (plain reads) and Book (the same reads inside the booking
// transaction, so concurrent bookings conflict).
//
// Reads are bounded by the staff member's calendars × months in range and never depend
// on how many events exist: busy documents are addressed by computed ids
// ({connection}_{calendarDoc}_{yyyy-mm}) and fetched with one GetAll; events are never
// read. It never reads or returns titles, details or e-mail addresses.
package slotquery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/store"
)

// ErrNoAvailability means the staff member does not exist or has no availability rules:
// nobody can book them.
var ErrNoAvailability = errors.New("staff member has no availability")

// Margin is what is read beyond [from, to) on each side besides the buffers: a slot that
// starts before to ends at most MaxDuration later, and all-day items are indexed with
// ±14 h slack by the syncer, so one day covers both.
const Margin = 24 * time.Hour

// maxBookingSpan bounds how long a stored booking can be (Book accepts ≤ 480 minutes);
// the bookings query starts that much earlier so a booking that started before the range
// but still runs into it is found.
const maxBookingSpan = 24 * time.Hour

// maxBuffers is the largest possible bufferBefore + bufferAfter; the bookings query is
// issued before the rules are known (in parallel), so it uses this bound.
const maxBuffers = 2 * availability.MaxBufferMin * time.Minute

// Data is what the engine needs for one staff member.
type Data struct {
	Staff    string
	Rules    availability.Rules
	Busy     availability.Busy
	Bookings []availability.Booking
	// ReauthNeeded: one of the staff member's connections is not active (it needs
	// reauthorisation), so its calendars cannot be seen and block nothing. Slots and Book
	// then withhold the staff member unless the tenant's slotsWhenReauthNeeded says
	// otherwise (see Withheld).
	ReauthNeeded bool
	// Reads counts Firestore document reads as billed: one per document returned or
	// looked up, and one for a query that returns nothing.
	Reads int
}

// Load reads, outside any transaction, what Compute needs for staff over [from, to).
func Load(ctx context.Context, st *store.Store, tenant, staff string, from, to time.Time) (availability.Rules, availability.Busy, []availability.Booking, int, error) {
	d, err := LoadData(ctx, st.Reader(), st, tenant, staff, from, to, nil)
	if err != nil {
		return availability.Rules{}, availability.Busy{}, nil, d.Reads, err
	}
	return d.Rules, d.Busy, d.Bookings, d.Reads, nil
}

// LoadTx is Load inside a transaction: every document and query it reads becomes part of
// the transaction's read set.
func LoadTx(ctx context.Context, tx *firestore.Transaction, st *store.Store, tenant, staff string, from, to time.Time) (Data, error) {
	return LoadData(ctx, st.TxReader(tx), st, tenant, staff, from, to, nil)
}

func queryReads(n int) int { return max(n, 1) }

// LoadData does the reads in three round trips:
//  1. in parallel: the staff doc (unless staffSnap is given), the staff member's
//     connections, and the bookings whose start lies in
//     [from − Margin − maxBuffers − maxBookingSpan, to + Margin + maxBuffers);
//  2. in parallel per connection: the ids of its selected calendars;
//  3. one GetAll of the busy docs of every (connection, calendar) pair for the UTC months
//     spanning [from − Margin − buffers, to + Margin + buffers).
//
// Connections of every status count (a connection waiting for re-authorisation holds no
// busy data: revoking access at Google deletes what was synced); one that is not active
// sets Data.ReauthNeeded, read from the same projected query (no extra read).
// Transactions run the reads one after the other (the transaction object is not safe for
// concurrent use).
func LoadData(ctx context.Context, r store.Reader, st *store.Store, tenant, staff string, from, to time.Time, staffSnap *firestore.DocumentSnapshot) (Data, error) {
	return loadData(ctx, r, st, nil, tenant, staff, from, to, staffSnap)
}

func loadData(ctx context.Context, r store.Reader, st *store.Store, idx *CalendarIndex, tenant, staff string, from, to time.Time, staffSnap *firestore.DocumentSnapshot) (Data, error) {
	d := Data{Staff: staff}
	concurrent := r.Concurrent()
	if e, ok := idx.lookup(tenant, staff); ok && concurrent {
		return loadWarm(ctx, r, st, tenant, staff, from, to, staffSnap, e)
	}
	readStaff := staffSnap == nil
	var (
		conns      []store.ConnectionStatus
		books      []*store.Booking
		errS, errC error
		errB       error
		wg         sync.WaitGroup
	)
	run := func(f func()) {
		if concurrent {
			wg.Add(1)
			go func() { defer wg.Done(); f() }()
		} else {
			f()
		}
	}
	if staffSnap == nil {
		run(func() {
			staffSnap, errS = r.Get(ctx, st.Staff(tenant, staff))
		})
	}
	run(func() { conns, errC = r.ConnectionStatuses(ctx, tenant, staff) })
	bFrom := from.Add(-Margin - maxBuffers - maxBookingSpan)
	bTo := to.Add(Margin + maxBuffers)
	run(func() {
		books, errB = r.BookingsStartingIn(ctx, tenant, staff, bFrom, bTo)
	})
	wg.Wait()
	if errS != nil {
		if status.Code(errS) == codes.NotFound {
			d.Reads++
			return d, ErrNoAvailability
		}
		return d, fmt.Errorf("read staff %s: %w", staff, errS)
	}
	if readStaff {
		d.Reads++
	}
	if !staffSnap.Exists() {
		return d, ErrNoAvailability
	}
	if errC != nil {
		return d, fmt.Errorf("list connections of %s: %w", staff, errC)
	}
	if errB != nil {
		return d, fmt.Errorf("list bookings of %s: %w", staff, errB)
	}
	d.Reads += queryReads(len(conns)) + queryReads(len(books))
	for _, c := range conns {
		if c.Status != store.StatusActive {
			d.ReauthNeeded = true
		}
	}

	var s store.Staff
	if err := staffSnap.DataTo(&s); err != nil {
		return d, fmt.Errorf("decode staff %s: %w", staff, err)
	}
	if s.Availability == nil {
		return d, ErrNoAvailability
	}
	d.Rules = *s.Availability

	// Round 2: selected calendars of each connection.
	cals := make([][]string, len(conns))
	errs := make([]error, len(conns))
	for i, c := range conns {
		run(func() {
			cals[i], errs[i] = r.SelectedCalendars(ctx, tenant, staff, c.ID)
		})
	}
	wg.Wait()
	var pairs []pair
	for i, c := range conns {
		if errs[i] != nil {
			return d, fmt.Errorf("list calendars of %s: %w", c.ID, errs[i])
		}
		d.Reads += queryReads(len(cals[i]))
		for _, cal := range cals[i] {
			pairs = append(pairs, pair{c.ID, cal})
		}
	}

	connIDs := make([]string, len(conns))
	for i, c := range conns {
		connIDs[i] = c.ID
	}
	idx.remember(tenant, staff, pairs, connIDs)

	// Round 3: one GetAll of computed busy doc refs.
	bufB := time.Duration(d.Rules.BufferBeforeMin) * time.Minute
	bufA := time.Duration(d.Rules.BufferAfterMin) * time.Minute
	refs := busyRefs(st, tenant, staff, pairs, from.Add(-Margin-bufB-bufA), to.Add(Margin+bufB+bufA))
	if len(refs) > 0 {
		snaps, err := r.GetAll(ctx, refs)
		if err != nil {
			return d, fmt.Errorf("read busy docs of %s: %w", staff, err)
		}
		d.Reads += len(refs)
		busy, err := decodeBusy(snaps)
		if err != nil {
			return d, err
		}
		d.Busy = busy
	}

	d.Bookings = confirmed(books)
	return d, nil
}

type pair struct{ conn, cal string }

// busyRefs addresses the busy documents of every pair for the UTC months of [from, to).
func busyRefs(st *store.Store, tenant, staff string, pairs []pair, from, to time.Time) []*firestore.DocumentRef {
	months := store.MonthsSpanned(from, to)
	refs := make([]*firestore.DocumentRef, 0, len(pairs)*len(months))
	for _, p := range pairs {
		for _, m := range months {
			refs = append(refs, st.Busy(tenant, staff).Doc(store.BusyDocID(p.conn, p.cal, m)))
		}
	}
	return refs
}

// confirmed is the engine's view of the confirmed bookings among books.
func confirmed(books []*store.Booking) []availability.Booking {
	var out []availability.Booking
	for _, b := range books {
		if b.Status == store.BookingConfirmed {
			out = append(out, availability.Booking{Start: b.Start, End: b.End})
		}
	}
	return out
}

// loadWarm is the one-round path when the selected calendars are known: one GetAll of
// the staff doc, the busy docs, the booking index docs (store.BookingIndexDocID) and the
// staff member's connection docs (for their status, so a connection that needs
// reauthorisation withholds the slots at once, not a TTL later) — no query, one round
// trip (two parallel RPCs would cost the slower of two waits). The months are taken with
// the largest possible buffers, since the rules arrive in the same round (at most one
// more month document per calendar).
func loadWarm(ctx context.Context, r store.Reader, st *store.Store, tenant, staff string, from, to time.Time, staffSnap *firestore.DocumentSnapshot, e indexEntry) (Data, error) {
	refs := warmRefs(st, tenant, staff, e, from, to, staffSnap == nil)
	docs, err := r.GetAll(ctx, refs)
	if err != nil {
		return Data{Staff: staff, Reads: len(refs)}, fmt.Errorf("read staff and busy docs of %s: %w", staff, err)
	}
	return decodeWarm(staff, staffSnap, docs)
}

// warmRefs are the documents a warm load reads: the staff doc first (withStaff), then the
// busy docs of every pair, the booking index docs of the months in range and the
// connection docs.
func warmRefs(st *store.Store, tenant, staff string, e indexEntry, from, to time.Time, withStaff bool) []*firestore.DocumentRef {
	var refs []*firestore.DocumentRef
	if withStaff {
		refs = append(refs, st.Staff(tenant, staff))
	}
	refs = append(refs, busyRefs(st, tenant, staff, e.pairs, from.Add(-Margin-maxBuffers), to.Add(Margin+maxBuffers))...)
	for _, m := range store.MonthsSpanned(from.Add(-Margin-maxBuffers-maxBookingSpan), to.Add(Margin+maxBuffers)) {
		refs = append(refs, st.Busy(tenant, staff).Doc(store.BookingIndexDocID(m)))
	}
	for _, c := range e.conns {
		refs = append(refs, st.Connection(tenant, staff, c))
	}
	return refs
}

// decodeWarm turns what warmRefs read into Data; with staffSnap nil, docs[0] is the staff doc.
func decodeWarm(staff string, staffSnap *firestore.DocumentSnapshot, docs []*firestore.DocumentSnapshot) (Data, error) {
	d := Data{Staff: staff, Reads: len(docs)}
	if staffSnap == nil {
		staffSnap, docs = docs[0], docs[1:]
	}
	if !staffSnap.Exists() {
		return d, ErrNoAvailability
	}
	var s store.Staff
	if err := staffSnap.DataTo(&s); err != nil {
		return d, fmt.Errorf("decode staff %s: %w", staff, err)
	}
	if s.Availability == nil {
		return d, ErrNoAvailability
	}
	d.Rules = *s.Availability
	var busy []*firestore.DocumentSnapshot
	seen := map[string]bool{}
	for _, doc := range docs {
		if store.IsConnectionDoc(doc.Ref) {
			if doc.Exists() {
				if v, _ := doc.DataAt("status"); v != store.StatusActive {
					d.ReauthNeeded = true
				}
			}
			continue
		}
		if !strings.HasPrefix(doc.Ref.ID, store.BookingIndexPrefix) {
			busy = append(busy, doc)
			continue
		}
		if !doc.Exists() {
			continue
		}
		var bm store.BusyMonth
		if err := doc.DataTo(&bm); err != nil {
			return d, fmt.Errorf("decode booking index %s: %w", doc.Ref.ID, err)
		}
		for id, it := range bm.Items {
			if !seen[id] {
				seen[id] = true
				d.Bookings = append(d.Bookings, availability.Booking{Start: it.Start, End: it.End})
			}
		}
	}
	var err error
	d.Busy, err = decodeBusy(busy)
	return d, err
}

// loadWarmMany is loadWarm for several staff members in one GetAll (staff=any, or a list):
// one round trip instead of one per staff member. ok is false when any of them is not in
// the index (the caller loads them one by one). pre, when not nil, holds staff docs read
// already (pre[i] for staff[i]).
func loadWarmMany(ctx context.Context, st *store.Store, idx *CalendarIndex, tenant string, staff []string, pre []*firestore.DocumentSnapshot, from, to time.Time) ([]Data, []error, bool) {
	var all []*firestore.DocumentRef
	offs := make([]int, len(staff)+1)
	for i, s := range staff {
		e, ok := idx.lookup(tenant, s)
		if !ok {
			return nil, nil, false
		}
		all = append(all, warmRefs(st, tenant, s, e, from, to, pre == nil)...)
		offs[i+1] = len(all)
	}
	datas := make([]Data, len(staff))
	errs := make([]error, len(staff))
	docs, err := st.GetAll(ctx, all)
	if err != nil {
		for i := range staff {
			datas[i] = Data{Staff: staff[i], Reads: offs[i+1] - offs[i]}
			errs[i] = fmt.Errorf("read staff and busy docs: %w", err)
		}
		return datas, errs, true
	}
	for i, s := range staff {
		var snap *firestore.DocumentSnapshot
		if pre != nil {
			snap = pre[i]
		}
		datas[i], errs[i] = decodeWarm(s, snap, docs[offs[i]:offs[i+1]])
	}
	return datas, errs, true
}

// decodeBusy turns busy month docs into engine input. An event spanning several months
// sits in each of their docs; it is taken once.
func decodeBusy(snaps []*firestore.DocumentSnapshot) (availability.Busy, error) {
	var out availability.Busy
	seen := map[string]bool{}
	for _, s := range snaps {
		if !s.Exists() {
			continue
		}
		var bm store.BusyMonth
		if err := s.DataTo(&bm); err != nil {
			return out, fmt.Errorf("decode busy doc %s: %w", s.Ref.ID, err)
		}
		// The calendar part of the doc id ({conn}_{cal}_{month}) scopes event ids.
		calKey := s.Ref.ID
		if len(calKey) > 8 {
			calKey = calKey[:len(calKey)-8]
		}
		for id, it := range bm.Items {
			k := calKey + "\x00" + id
			if seen[k] {
				continue
			}
			seen[k] = true
			if it.StartDate != "" {
				out.AllDay = append(out.AllDay, availability.AllDay{StartDate: it.StartDate, EndDate: it.EndDate})
				continue
			}
			out.Intervals = append(out.Intervals, availability.Interval{Start: it.Start, End: it.End})
		}
	}
	return out, nil
}
