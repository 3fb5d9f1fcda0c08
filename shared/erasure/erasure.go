// Package erasure deletes personal data on request (GDPR Art. 17), through Manage:
//
//   - Customer: every booking of one customer (found by the hash of the normalised
//     e-mail) in a tenant: upcoming appointments are cancelled, the exported Google event
//     is deleted or anonymised (tenant setting erasure.exportedEvents; a cancelled
//     booking's event is always deleted), the synced copy of that event loses title and
//     details, and the booking loses name, e-mail, e-mail hash and cancel-token hash;
//   - Staff: the staff member's connections are disconnected (channels stopped, grant
//     revoked where no other live connection of the account needs it) and everything
//     under tenants/{t}/staff/{s} is deleted, with their channel lookups, pending
//     connection flows and account links;
//   - Tenant: every staff member as above, then the tenant document with everything
//     under it (settings, accounts, and whatever else a tenant holds).
//
// Every step is idempotent and the order is chosen so that a crash at any point leaves
// what is still to do findable: the e-mail hash is removed last, documents are deleted
// leaves first. Running the same request again finishes the job; each answer counts
// what that run did.
package erasure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/accounts"
	"github.com/belbo/calsync/shared/booking"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/connect"
	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/tenant"
)

// ErrRetry wraps a failure that a retry of the same request may get past (Google or
// Firestore unavailable, rate limited). Everything done so far stays done.
var ErrRetry = errors.New("erasure incomplete; retry")

// ErrInvalid is a request that can never succeed (no e-mail).
var ErrInvalid = errors.New("invalid erasure request")

// Service erases.
type Service struct {
	Store    *store.Store
	Accounts *accounts.Service
	Connect  *connect.Service
	Bookings *booking.Service
	Fields   []string // EXPORT_FIELDS (to rebuild an anonymised event's summary)
	// Crash, when set, is called before each step; an error ends the run there as a
	// crash would (tests use it to stop an erasure half-way).
	Crash func(step string) error
}

// New builds the service on a function's platform, disconnecting through c (which needs no
// config.Connect) and rebuilding exported events with the fields of x.
func New(p *platform.Platform, c *connect.Service, x config.Export) *Service {
	return &Service{
		Store: p.Store, Accounts: c.Accounts, Connect: c,
		Bookings: &booking.Service{Store: p.Store, Publish: p.Publish},
		Fields:   x.ExportFields,
	}
}

func (s *Service) step(name string) error {
	if s.Crash == nil {
		return nil
	}
	if err := s.Crash(name); err != nil {
		return fmt.Errorf("%w: stopped at %s: %w", ErrRetry, name, err)
	}
	return nil
}

// CustomerResult counts what one customer erasure did.
type CustomerResult struct {
	Bookings          int `json:"bookingsScrubbed"`
	Cancelled         int `json:"bookingsCancelled"`
	EventsDeleted     int `json:"googleEventsDeleted"`
	EventsAnonymised  int `json:"googleEventsAnonymised"`
	EventsUnreachable int `json:"googleEventsUnreachable"` // no active connection: left in Google
	SyncedScrubbed    int `json:"syncedEventsScrubbed"`
}

// Customer erases a customer's data in a tenant.
func (s *Service) Customer(ctx context.Context, tenantID, email string, now time.Time) (CustomerResult, error) {
	var res CustomerResult
	if store.NormaliseEmail(email) == "" || len(email) > 320 {
		return res, ErrInvalid
	}
	settings, err := s.Store.TenantSettings(ctx, tenantID)
	if err != nil {
		return res, fmt.Errorf("%w: %w", ErrRetry, err)
	}
	found, err := s.Store.BookingsByEmailHash(ctx, tenantID, store.EmailHash(tenantID, email))
	if err != nil {
		return res, fmt.Errorf("%w: %w", ErrRetry, err)
	}
	for _, b := range found {
		k := store.BookingKey{Tenant: b.Tenant, Staff: b.Staff, ID: b.ID}
		if err := s.step("cancel " + b.ID); err != nil {
			return res, err
		}
		if b.Status == store.BookingConfirmed && b.End.After(now) {
			// An appointment for nobody: cancelled, its slot offered again.
			if err := s.Bookings.CancelByStaff(ctx, b.Tenant, b.Staff, b.ID, now); err != nil && !errors.Is(err, booking.ErrNotFound) {
				return res, fmt.Errorf("%w: cancel booking %s: %w", ErrRetry, k, err)
			}
			b.Status = store.BookingCancelled
			res.Cancelled++
		}
		if err := s.step("google " + b.ID); err != nil {
			return res, err
		}
		mode := settings.Erasure.ExportedEvents
		if b.Status == store.BookingCancelled {
			mode = tenant.ExportedEventsDelete
		}
		if err := s.googleEvent(ctx, b, mode, now, &res); err != nil {
			return res, err
		}
		if err := s.step("synced " + b.ID); err != nil {
			return res, err
		}
		n, err := s.Store.ScrubBookingEvents(ctx, k)
		res.SyncedScrubbed += n
		if err != nil {
			return res, fmt.Errorf("%w: %w", ErrRetry, err)
		}
		if err := s.step("scrub " + b.ID); err != nil {
			return res, err
		}
		done, err := s.Store.ScrubBooking(ctx, k, now)
		if err != nil {
			return res, fmt.Errorf("%w: %w", ErrRetry, err)
		}
		if done {
			res.Bookings++
		}
	}
	logging.Event(ctx, logging.FromContext(ctx), "erasure.customer", slog.String("tenant", tenantID),
		slog.Int("bookings", res.Bookings), slog.Int("cancelled", res.Cancelled), slog.Int("eventsDeleted", res.EventsDeleted),
		slog.Int("eventsAnonymised", res.EventsAnonymised), slog.Int("eventsUnreachable", res.EventsUnreachable))
	return res, nil
}

// googleEvent deletes or anonymises the booking's exported event in Google.
func (s *Service) googleEvent(ctx context.Context, b *store.Booking, mode string, now time.Time, res *CustomerResult) error {
	if b.GoogleEventID == "" || b.ExportConn == "" || b.ExportCalendar == "" {
		return nil // never exported, or its connection is gone (disconnect forgets exports)
	}
	c, err := s.Store.GetConnection(ctx, b.Tenant, b.Staff, b.ExportConn)
	if store.NotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRetry, err)
	}
	if c.Status != store.StatusActive {
		res.EventsUnreachable++
		return nil
	}
	sess, err := s.Accounts.Open(ctx, c)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRetry, err)
	}
	if mode == tenant.ExportedEventsAnonymise {
		anon := *b
		anon.CustomerName, anon.CustomerEmail = "", ""
		var fields []string
		for _, f := range s.Fields {
			if f == "service" {
				fields = append(fields, f)
			}
		}
		summary, _ := booking.EventText(&anon, fields)
		_, err = sess.Calendar.Events.Patch(b.ExportCalendar, b.GoogleEventID, &calendar.Event{Summary: summary, Description: "", NullFields: []string{"Description"}}).Context(ctx).Do()
	} else {
		err = sess.Calendar.Events.Delete(b.ExportCalendar, b.GoogleEventID).Context(ctx).Do()
	}
	switch class := googlecal.Classify(err); {
	case class == googlecal.ClassNone:
		if mode == tenant.ExportedEventsAnonymise {
			res.EventsAnonymised++
		} else {
			res.EventsDeleted++
		}
	case class == googlecal.ClassNotFound || class == googlecal.ClassGone:
		// Already gone (a retry, or the staff member deleted it).
	case class == googlecal.ClassAuth:
		if err := s.Accounts.MarkReauth(ctx, c, now); err != nil {
			return fmt.Errorf("%w: %w", ErrRetry, err)
		}
		res.EventsUnreachable++
	default:
		return fmt.Errorf("%w: google %s for booking %s: %w", ErrRetry, class, b.ID, err)
	}
	return nil
}

// Result counts deleted documents per collection id, and disconnected connections.
type Result struct {
	Staff        int            `json:"staff"`
	Disconnected int            `json:"connectionsDisconnected"`
	Documents    map[string]int `json:"documentsDeleted"`
}

// Staff erases a staff member.
func (s *Service) Staff(ctx context.Context, tenantID, staff string) (Result, error) {
	res := Result{Documents: map[string]int{}}
	if err := s.staff(ctx, tenantID, staff, &res); err != nil {
		return res, err
	}
	logging.Event(ctx, logging.FromContext(ctx), "erasure.staff", slog.String("tenant", tenantID), slog.String("staff", staff),
		slog.Int("connections", res.Disconnected), slog.Any("documents", res.Documents))
	return res, nil
}

func (s *Service) staff(ctx context.Context, tenantID, staff string, res *Result) error {
	conns, err := s.Store.ListConnections(ctx, tenantID, staff)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRetry, err)
	}
	for _, c := range conns {
		if err := s.step("disconnect " + c.ID); err != nil {
			return err
		}
		if err := s.Connect.Disconnect(ctx, c); err != nil {
			return fmt.Errorf("%w: %w", ErrRetry, err)
		}
		res.Disconnected++
		res.Documents["connections"]++
	}
	if err := s.step("lookups"); err != nil {
		return err
	}
	for _, del := range []func(context.Context, string, string, map[string]int) error{
		s.Store.DeleteChannelLookupsOf, s.Store.DeleteOAuthStatesOf, s.Store.DeleteAccountLinksOf,
	} {
		if err := del(ctx, tenantID, staff, res.Documents); err != nil {
			return fmt.Errorf("%w: %w", ErrRetry, err)
		}
	}
	if err := s.step("tree"); err != nil {
		return err
	}
	before := res.Documents["staff"]
	if err := s.Store.DeleteStaffTree(ctx, tenantID, staff, res.Documents); err != nil {
		return fmt.Errorf("%w: %w", ErrRetry, err)
	}
	if res.Documents["staff"] > before || res.Disconnected > 0 {
		res.Staff++
	}
	return nil
}

// Tenant erases a whole tenant.
func (s *Service) Tenant(ctx context.Context, tenantID string) (Result, error) {
	res := Result{Documents: map[string]int{}}
	staff, err := s.Store.StaffIDs(ctx, tenantID)
	if err != nil {
		return res, fmt.Errorf("%w: %w", ErrRetry, err)
	}
	for _, st := range staff {
		if err := s.staff(ctx, tenantID, st, &res); err != nil {
			return res, err
		}
	}
	if err := s.step("tenant"); err != nil {
		return res, err
	}
	for _, del := range []func(context.Context, string, string, map[string]int) error{
		s.Store.DeleteChannelLookupsOf, s.Store.DeleteOAuthStatesOf, s.Store.DeleteAccountLinksOf,
	} {
		if err := del(ctx, tenantID, "", res.Documents); err != nil {
			return res, fmt.Errorf("%w: %w", ErrRetry, err)
		}
	}
	if err := s.Store.DeleteTenantTree(ctx, tenantID, res.Documents); err != nil {
		return res, fmt.Errorf("%w: %w", ErrRetry, err)
	}
	logging.Event(ctx, logging.FromContext(ctx), "erasure.tenant", slog.String("tenant", tenantID),
		slog.Int("staff", len(staff)), slog.Int("connections", res.Disconnected), slog.Any("documents", res.Documents))
	return res, nil
}
