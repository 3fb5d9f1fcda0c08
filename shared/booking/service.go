package booking

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/slotquery"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/topology"
)

// Sources of a booking.
const (
	SourceWidget = "widget"
	SourceStaff  = "staff"
)

// Export states.
const (
	ExportPending       = "pending"
	ExportExported      = "exported"
	ExportDeleted       = "deleted"
	ExportSkippedNoConn = "skipped_no_connection"
	ExportError         = "error"
)

// Conflict flags (Booking.Conflict).
const (
	ConflictMoved   = "moved_in_google"
	ConflictDeleted = "deleted_in_google"
)

var (
	// ErrTaken: the slot is not (or no longer) free.
	ErrTaken = errors.New("slot taken")
	// ErrContended: the transaction kept losing against concurrent bookings of the same
	// day until its deadline; the slot may or may not be free.
	ErrContended = errors.New("slot contended")
	// ErrNotBookable: the staff member does not exist or has no availability.
	ErrNotBookable = errors.New("staff member not bookable")
	// ErrNotFound: no such booking (or a wrong cancel token).
	ErrNotFound = errors.New("booking not found")
	// ErrServiceRequired: the request gave no serviceId and the tenant does not allow
	// free-form booking (or it gave neither).
	ErrServiceRequired = errors.New("service required")
	// ErrServiceNotFound: no such service in the tenant's catalogue.
	ErrServiceNotFound = errors.New("service not found")
	// ErrServiceNotOffered: the staff member does not offer the service.
	ErrServiceNotOffered = errors.New("service not offered by this staff member")
	// ErrReauthRequired: a Google connection of the staff member needs reauthorisation,
	// so their calendar cannot be checked, and the tenant does not offer slots then
	// (tenant setting slotsWhenReauthNeeded, off by default).
	ErrReauthRequired = errors.New("staff member's calendar needs reauthorisation")
)

// LimitError is a booking quota that is used up (answered 429 with Retry-After).
type LimitError struct {
	Dimension  string // ip | email | staff | tenant
	Window     string // hour | day
	RetryAfter time.Duration
}

func (e *LimitError) Error() string {
	return "booking limit per " + e.Dimension + " and " + e.Window + " reached"
}

// Service creates and cancels bookings.
type Service struct {
	Store   *store.Store
	Publish messages.Publisher
	// Local serialises this process's booking transactions per staff member, so one
	// instance never races itself on Firestore (nil: a process-wide registry). Correctness
	// across instances still comes from the transaction alone.
	Local *Locks
	// ContentionDeadline bounds how long Create keeps retrying aborted transactions, and
	// so how long it holds the staff member's local lock (default 10 s); then it answers
	// ErrContended.
	ContentionDeadline time.Duration
	// LockWait bounds how long Create waits for the local lock (default 20 s); then it
	// answers ErrContended. The queue behind one staff member is itself bounded by the
	// booking limits, which are taken before the lock.
	LockWait time.Duration
	// NewIDs makes a booking's id and cancel token (default NewID, NewCancelToken); tests
	// fix them to replay a commit whose answer was lost.
	NewIDs func(tenant, staff string) (id, token string)
}

// Created is a new booking and its cancel token (returned once, never stored).
type Created struct {
	Booking     *store.Booking
	CancelToken string
	Zone        *time.Location
}

// Options of Create.
type Options struct {
	// Source is SourceWidget or SourceStaff. Staff-created bookings skip minimum notice
	// and the booking horizon (the staff member knows what they are doing), but must still
	// lie in the future, on the slot grid inside working hours and be free.
	Source string
	// Quotas are taken (store.TakeQuota) after the staff member is known to exist and
	// before the booking transaction; an exhausted one is a *LimitError.
	Quotas []store.Quota
}

// lockRefs are tenants/{t}/staff/{s}/bookingLocks/{yyyy-mm-dd}: one per UTC day. Every
// booking transaction reads and writes the lock docs of the UTC days its occupied span
// [start − bufferBefore, end + bufferAfter) touches. Two bookings whose occupied spans
// overlap share at least one such day, so their transactions conflict and Firestore
// serialises them, whatever its isolation of queries is.
func lockRefs(st *store.Store, tenant, staff string, from, to time.Time) []*firestore.DocumentRef {
	var refs []*firestore.DocumentRef
	d := time.Date(from.UTC().Year(), from.UTC().Month(), from.UTC().Day(), 0, 0, 0, 0, time.UTC)
	for ; d.Before(to); d = d.AddDate(0, 0, 1) {
		refs = append(refs, st.BookingLock(tenant, staff, d))
	}
	return refs
}

// lockExpiry is when a lock doc (id yyyy-mm-dd) may go: two days after its UTC day.
func lockExpiry(day string) time.Time {
	d, err := time.Parse("2006-01-02", day)
	if err != nil {
		return time.Time{}
	}
	return d.AddDate(0, 0, 2)
}

// index sets (item) or removes (firestore.Delete) a booking in the booking index
// documents of the UTC months it spans (see store.BookingIndexDocID).
func (s *Service) index(tx *firestore.Transaction, b *store.Booking, item any) error {
	for _, m := range store.MonthsSpanned(b.Start, b.End) {
		ref := s.Store.Busy(b.Tenant, b.Staff).Doc(store.BookingIndexDocID(m))
		if err := tx.Set(ref, map[string]any{"month": m, "items": map[string]any{b.ID: item}}, firestore.MergeAll); err != nil {
			return fmt.Errorf("index booking %s: %w", b.ID, err)
		}
	}
	return nil
}

// Create books in.Start for in.Duration if it is free at now, in one transaction, then
// asks ExportBooking to write it to Google.
func (s *Service) Create(ctx context.Context, in Input, now time.Time, o Options) (*Created, error) {
	if o.Source == "" {
		o.Source = SourceWidget
	}
	if !in.Start.After(now) {
		return nil, ErrTaken
	}
	settings, err := s.Store.TenantSettings(ctx, in.Tenant)
	if err != nil {
		return nil, fmt.Errorf("book: %w", err)
	}
	id, tok := NewID(), NewCancelToken(in.Tenant, in.Staff)
	if s.NewIDs != nil {
		id, tok = s.NewIDs(in.Tenant, in.Staff)
	}
	// The staff member must exist and take bookings before anything is counted or
	// locked: random staff ids cost one read and leave nothing behind.
	if err := s.checkStaff(ctx, in.Tenant, in.Staff); err != nil {
		return nil, err
	}
	if len(o.Quotas) > 0 {
		denied, err := s.Store.TakeQuota(ctx, in.Tenant, o.Quotas, now)
		if err != nil && contention(err) {
			// So many bookings of this tenant at once that the counters keep aborting:
			// a limit of its own, answered like the others (never a 5xx).
			return nil, &LimitError{Dimension: "tenant", Window: "second", RetryAfter: time.Second}
		}
		if err != nil {
			return nil, err
		}
		if denied != nil {
			window := "hour"
			if denied.Quota.Window >= 24*time.Hour {
				window = "day"
			}
			return nil, &LimitError{Dimension: denied.Quota.Dimension, Window: window, RetryAfter: denied.WindowEnd.Sub(now)}
		}
	}
	b := &store.Booking{
		ID: id, Tenant: in.Tenant, Staff: in.Staff,
		Start: in.Start.UTC(), End: in.Start.Add(in.Duration).UTC(),
		Service: in.Service, ServiceID: in.ServiceID, CustomerName: in.CustomerName, CustomerEmail: in.CustomerEmail,
		Status: store.BookingConfirmed, CancelTokenHash: store.HashToken(tok), Source: o.Source,
		ExportState: ExportPending, CreatedAt: now, UpdatedAt: now,
		CustomerEmailHash: store.EmailHash(in.Tenant, in.CustomerEmail),
	}
	// The customer's name and e-mail go CustomerDataDays after the appointment ends
	// (shared/retention's sweep).
	b.ScrubAt = settings.Retention.ScrubAt(b.End)
	var zone *time.Location
	txn := func(ctx context.Context, tx *firestore.Transaction) error {
		// Inside the transaction: the staff doc (rules, buffers) and the lock docs of the
		// UTC days the appointment occupies. Any booking whose occupied span overlaps
		// this one writes one of these lock docs, so if one commits after our read, our
		// commit aborts; if it committed before, the strongly consistent reads below see
		// it. The other reads (calendars, busy docs, bookings) therefore run outside the
		// transaction: the emulator locks queries coarsely, and in a transaction they
		// would make bookings of unrelated staff members abort each other.
		// A commit whose answer was lost (timeout, Unavailable) may have landed: the retry
		// then finds our own booking, and that is success, not "slot taken".
		if prev, err := tx.Get(s.Store.Bookings(in.Tenant, in.Staff).Doc(id)); err == nil && prev.Exists() {
			if h, _ := prev.DataAt("cancelTokenHash"); h == b.CancelTokenHash {
				return nil
			}
			return fmt.Errorf("booking id %s already taken", id)
		} else if err != nil && status.Code(err) != codes.NotFound {
			return err
		}
		staffSnap, err := tx.Get(s.Store.Staff(in.Tenant, in.Staff))
		if status.Code(err) == codes.NotFound {
			return ErrNotBookable
		}
		if err != nil {
			return err
		}
		var sd store.Staff
		if err := staffSnap.DataTo(&sd); err != nil {
			return err
		}
		if sd.Availability == nil {
			return ErrNotBookable
		}
		before := max(sd.Availability.BufferBeforeMin, in.BufferBeforeMin)
		after := max(sd.Availability.BufferAfterMin, in.BufferAfterMin)
		locks := lockRefs(s.Store, in.Tenant, in.Staff,
			b.Start.Add(-time.Duration(before)*time.Minute),
			b.End.Add(time.Duration(after)*time.Minute))
		if _, err := tx.GetAll(locks); err != nil {
			return err
		}
		d, err := slotquery.LoadData(ctx, slotquery.PlainReader(s.Store.FS), s.Store, in.Tenant, in.Staff, b.Start, b.End, staffSnap)
		if errors.Is(err, slotquery.ErrNoAvailability) {
			return ErrNotBookable
		}
		if err != nil {
			return err
		}
		// Checked before the slot: the busy data of a connection awaiting reauthorisation
		// is gone, so "free" would mean nothing.
		if withheld, err := slotquery.Withheld(ctx, s.Store, in.Tenant, d); err != nil {
			return err
		} else if withheld {
			return ErrReauthRequired
		}
		rules := d.Rules
		rules.BufferBeforeMin, rules.BufferAfterMin = before, after
		if o.Source == SourceStaff {
			rules.MinNoticeMin = 0
			rules.HorizonDays = availability.MaxHorizonDays
		}
		free, err := availability.Free(rules, d.Busy, d.Bookings, in.Start, in.Duration, now)
		if err != nil {
			return err
		}
		if !free {
			return ErrTaken
		}
		if loc, err := slotquery.LoadZone(rules.TimeZone); err == nil {
			zone = loc
		}
		if err := tx.Create(s.Store.Bookings(in.Tenant, in.Staff).Doc(id), b); err != nil {
			return err
		}
		if err := s.index(tx, b, map[string]any{"s": b.Start, "e": b.End}); err != nil {
			return err
		}
		for _, l := range locks {
			// A lock doc matters only while its day can still be booked: Firestore's TTL
			// policy on expireAt removes it two days after the day.
			if err := tx.Set(l, map[string]any{"lastBooking": id, "updatedAt": now, "expireAt": lockExpiry(l.ID)}); err != nil {
				return err
			}
		}
		return nil
	}
	locks := s.Local
	if locks == nil {
		locks = processLocks
	}
	wait := s.LockWait
	if wait <= 0 {
		wait = 20 * time.Second
	}
	unlock, err := locks.lock(ctx, in.Tenant+"/"+in.Staff, wait)
	if err != nil {
		return nil, ErrContended
	}
	err = s.runContended(ctx, txn)
	unlock()
	if err != nil {
		return nil, err
	}
	logging.Event(ctx, logging.FromContext(ctx), "booking.created",
		slog.String("tenant", in.Tenant), slog.String("staff", in.Staff), slog.String("booking", id), slog.String("bookingSource", o.Source))
	s.publish(ctx, messages.Export{Tenant: in.Tenant, Staff: in.Staff, Booking: id, Op: "upsert"})
	if zone == nil {
		zone = time.UTC
	}
	return &Created{Booking: b, CancelToken: tok, Zone: zone}, nil
}

// runContended runs a booking transaction, retrying aborted attempts (lost races on the
// day's lock docs) with jittered backoff until ContentionDeadline. A transaction that
// never gets through is ErrContended — never an internal error.
func (s *Service) runContended(ctx context.Context, f func(context.Context, *firestore.Transaction) error) error {
	limit := s.ContentionDeadline
	if limit <= 0 {
		limit = 10 * time.Second
	}
	deadline := time.Now().Add(limit)
	// One attempt per RunTransaction: the client's own retry backs off from 1 s up to
	// 30 s, far too slow for a customer waiting on a slot; this loop starts at 10 ms.
	backoff := 10 * time.Millisecond
	for {
		err := s.Store.RunTransaction(ctx, f, firestore.MaxAttempts(1))
		if err == nil || !contention(err) {
			return err
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return ErrContended
		}
		sleep := backoff/2 + rand.N(backoff)
		select {
		case <-ctx.Done():
			return ErrContended
		case <-time.After(sleep):
		}
		backoff = min(2*backoff, time.Second)
	}
}

func contention(err error) bool {
	switch status.Code(err) {
	case codes.Aborted, codes.Unavailable, codes.ResourceExhausted, codes.DeadlineExceeded:
		return true
	}
	return false
}

func (s *Service) publish(ctx context.Context, m messages.Export) {
	if s.Publish == nil {
		return
	}
	// The booking stands even if the message is lost: exportState stays pending and is
	// visible through the management API.
	if err := s.Publish(context.WithoutCancel(ctx), topology.CalendarExport, m); err != nil {
		logging.FromContext(ctx).ErrorContext(ctx, "booking: publish export failed", "tenant", m.Tenant, "staff", m.Staff, "booking", m.Booking, "op", m.Op, "error", err.Error())
	}
}

// Cancel cancels a booking with the customer's cancel token. A wrong token is
// ErrNotFound (it does not reveal whether the booking exists). Cancelling twice is fine.
func (s *Service) Cancel(ctx context.Context, id, token string, now time.Time) error {
	tenant, staff, err := ParseCancelToken(token)
	if err != nil || !messages.ValidID(id) {
		return ErrNotFound
	}
	return s.cancel(ctx, tenant, staff, id, token, now)
}

// CancelByStaff cancels a booking from the management API.
func (s *Service) CancelByStaff(ctx context.Context, tenant, staff, id string, now time.Time) error {
	return s.cancel(ctx, tenant, staff, id, "", now)
}

func (s *Service) cancel(ctx context.Context, tenant, staff, id, token string, now time.Time) error {
	ref := s.Store.Bookings(tenant, staff).Doc(id)
	settings, err := s.Store.TenantSettings(ctx, tenant)
	if err != nil {
		return fmt.Errorf("cancel %s: %w", id, err)
	}
	err = s.Store.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if status.Code(err) == codes.NotFound {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		var b store.Booking
		if err := snap.DataTo(&b); err != nil {
			return err
		}
		if token != "" && subtle.ConstantTimeCompare([]byte(store.HashToken(token)), []byte(b.CancelTokenHash)) != 1 {
			return ErrNotFound
		}
		if b.Status == store.BookingCancelled {
			return nil
		}
		b.ID = id
		if err := s.index(tx, &b, firestore.Delete); err != nil {
			return err
		}
		ups := []firestore.Update{{Path: "status", Value: store.BookingCancelled}, {Path: "updatedAt", Value: now}}
		// A cancelled appointment needs the customer's data for less long.
		if b.ScrubbedAt.IsZero() {
			ups = append(ups, firestore.Update{Path: "scrubAt", Value: settings.Retention.CancelledScrubAt(b.End, now)})
		}
		return tx.Update(ref, ups)
	})
	if err != nil {
		return err
	}
	logging.Event(ctx, logging.FromContext(ctx), "booking.cancelled",
		slog.String("tenant", tenant), slog.String("staff", staff), slog.String("booking", id))
	s.publish(ctx, messages.Export{Tenant: tenant, Staff: staff, Booking: id, Op: "delete"})
	return nil
}

// MaxList bounds GET /bookings.
const MaxList = 1000

// List returns the bookings (any status) whose start lies in [from, to), by start.
func (s *Service) List(ctx context.Context, tenant, staff string, from, to time.Time) ([]*store.Booking, error) {
	snaps, err := s.Store.Bookings(tenant, staff).Where("start", ">=", from).Where("start", "<", to).
		OrderBy("start", firestore.Asc).Limit(MaxList).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("list bookings of %s/%s: %w", tenant, staff, err)
	}
	out := make([]*store.Booking, 0, len(snaps))
	for _, sn := range snaps {
		var b store.Booking
		if err := sn.DataTo(&b); err != nil {
			return nil, fmt.Errorf("decode booking %s: %w", sn.Ref.ID, err)
		}
		b.ID = sn.Ref.ID
		out = append(out, &b)
	}
	return out, nil
}

// Get reads one booking.
func Get(ctx context.Context, st *store.Store, tenant, staff, id string) (*store.Booking, error) {
	snap, err := st.Bookings(tenant, staff).Doc(id).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get booking %s: %w", id, err)
	}
	var b store.Booking
	if err := snap.DataTo(&b); err != nil {
		return nil, fmt.Errorf("decode booking %s: %w", id, err)
	}
	b.ID = id
	return &b, nil
}

// checkStaff reads the staff document outside any transaction: ErrNotBookable when it
// does not exist or has no availability rules.
func (s *Service) checkStaff(ctx context.Context, tenant, staff string) error {
	snap, err := s.Store.Staff(tenant, staff).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return ErrNotBookable
	}
	if err != nil {
		return fmt.Errorf("read staff %s: %w", staff, err)
	}
	if av, err := snap.DataAt("availability"); err != nil || av == nil {
		return ErrNotBookable
	}
	return nil
}

// lockStripes is the fixed number of local locks: a key (tenant/staff) maps to one of
// them by hash, so memory never grows with the ids callers send. Two staff members that
// share a stripe only wait for each other on this instance; correctness comes from the
// transaction either way.
const lockStripes = 256

// Locks serialises this process's booking transactions per staff member with a fixed
// set of striped, context- and time-bounded mutexes.
type Locks struct {
	once    sync.Once
	stripes [lockStripes]chan struct{}
}

var processLocks = &Locks{}

func (l *Locks) lock(ctx context.Context, key string, wait time.Duration) (func(), error) {
	l.once.Do(func() {
		for i := range l.stripes {
			l.stripes[i] = make(chan struct{}, 1)
		}
	})
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	ch := l.stripes[h.Sum32()%lockStripes]
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, ErrContended
	}
}
