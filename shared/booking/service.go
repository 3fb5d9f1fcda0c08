package booking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/belbo/calsync/shared/availability"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/slotquery"
	"github.com/belbo/calsync/shared/store"
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
		var sd store.Staff
		staffSnap, err := txGet(tx, s.Store.Staff(in.Tenant, in.Staff), ErrNotBookable, &sd)
		if err != nil {
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
		d, err := slotquery.LoadData(ctx, s.Store.Reader(), s.Store, in.Tenant, in.Staff, b.Start, b.End, staffSnap)
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
