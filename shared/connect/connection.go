package connect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/calendar/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/belbo/calsync/shared/accounts"
	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/topology"
	"github.com/belbo/calsync/shared/watch"
)

// saveConnection writes the connection, its account link and its calendars in one
// transaction, keeping selection and sync state of calendars that already exist.
// Calendars no longer listed are returned for removal by the caller's reconciliation.
func (s *Service) saveConnection(ctx context.Context, conn *store.Connection, items []*calendar.CalendarListEntry, now time.Time) (*store.Connection, error) {
	var prev *store.Connection
	ref := s.Store.Connection(conn.Tenant, conn.Staff, conn.ID)
	err := s.Store.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		prev = nil
		snap, err := tx.Get(ref)
		switch {
		case status.Code(err) == codes.NotFound:
			conn.CreatedAt = now
		case err != nil:
			return err
		default:
			var p store.Connection
			if err := snap.DataTo(&p); err != nil {
				return err
			}
			prev = &p
			conn.CreatedAt = p.CreatedAt
			conn.WriteCalendarID = p.WriteCalendarID
			if p.Status == store.StatusActive {
				conn.StatusChangedAt = p.StatusChangedAt
			}
		}
		existing := map[string]bool{}
		ids, err := s.Store.TxReader(tx).CalendarIDs(ctx, conn.Tenant, conn.Staff, conn.ID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			existing[id] = true
		}
		if conn.WriteCalendarID == "" {
			for _, it := range items {
				if it.Primary {
					conn.WriteCalendarID = it.Id
				}
			}
		}
		if err := tx.Set(ref, conn); err != nil {
			return err
		}
		if err := tx.Set(s.Store.AccountLink(conn.Tenant, conn.ID), store.AccountLink{Staff: conn.Staff, UpdatedAt: now}); err != nil {
			return err
		}
		for _, it := range items {
			doc := s.Store.Calendar(conn.Tenant, conn.Staff, conn.ID, store.CalendarDocID(it.Id))
			fields := map[string]any{"googleId": it.Id, "name": entryName(it), "color": it.BackgroundColor, "timeZone": it.TimeZone, "primary": it.Primary, "accessRole": it.AccessRole, "hidden": it.Hidden}
			if !existing[doc.ID] {
				fields["selected"] = false
			}
			if err := tx.Set(doc, fields, firestore.MergeAll); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Calendars that disappeared from the list are removed with their data.
	if err := s.removeUnlisted(ctx, conn, items, nil); err != nil {
		return prev, err
	}
	return prev, nil
}

// removeUnlisted deletes calendars (and their events, busy docs and channels) that Google
// no longer lists. cal may be nil when channels cannot be stopped (no session).
func (s *Service) removeUnlisted(ctx context.Context, conn *store.Connection, items []*calendar.CalendarListEntry, cal *calendar.Service) error {
	listed := map[string]bool{}
	for _, it := range items {
		listed[store.CalendarDocID(it.Id)] = true
	}
	stored, err := s.Store.ListCalendars(ctx, conn.Tenant, conn.Staff, conn.ID)
	if err != nil {
		return err
	}
	for _, c := range stored {
		if listed[c.DocID] {
			continue
		}
		ref := store.CalRef{Tenant: conn.Tenant, Staff: conn.Staff, Connection: conn.ID, Calendar: c.DocID}
		if c.Channel != nil {
			if err := watch.Stop(ctx, cal, s.Store, c.Channel); err != nil {
				logging.FromContext(ctx).WarnContext(ctx, "stop channel of removed calendar", "calendar", ref.String(), "error", err.Error())
			}
		}
		if err := s.Store.DeleteCalendarData(ctx, ref); err != nil {
			return err
		}
		if _, err := s.Store.Doc(ref).Delete(ctx); err != nil {
			return fmt.Errorf("delete calendar %s: %w", ref, err)
		}
	}
	return nil
}

// moveFromOtherStaff: one Google account is connected once per tenant. If another staff
// member holds it, that connection (and everything synced for it) is removed first; its
// channels are stopped with its own token when still possible.
func (s *Service) moveFromOtherStaff(ctx context.Context, tenant, staff, connID string) error {
	snap, err := s.Store.AccountLink(tenant, connID).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read account link: %w", err)
	}
	var l store.AccountLink
	if err := snap.DataTo(&l); err != nil {
		return err
	}
	if l.Staff == staff {
		return nil
	}
	old, err := s.Store.GetConnection(ctx, tenant, l.Staff, connID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	logging.FromContext(ctx).InfoContext(ctx, "connect: account moves to another staff member", "connection", connID, "fromStaff", l.Staff, "toStaff", staff)
	return s.removeConnection(ctx, old, false)
}

func (s *Service) resumeSelected(ctx context.Context, conn *store.Connection, now time.Time) error {
	sess, err := s.Accounts.Open(ctx, conn)
	if err != nil {
		return err
	}
	cals, err := s.Store.ListCalendars(ctx, conn.Tenant, conn.Staff, conn.ID)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range cals {
		if c.Selected {
			errs = append(errs, s.startCalendar(ctx, sess, conn, c, now))
		}
	}
	return errors.Join(errs...)
}

// startCalendar opens a fresh channel (stopping an old one) and enqueues a full sync.
func (s *Service) startCalendar(ctx context.Context, sess *accounts.Session, conn *store.Connection, c *store.Calendar, now time.Time) error {
	ref := store.CalRef{Tenant: conn.Tenant, Staff: conn.Staff, Connection: conn.ID, Calendar: c.DocID}
	if c.Channel != nil {
		if err := watch.Stop(ctx, sess.Calendar, s.Store, c.Channel); err != nil {
			logging.FromContext(ctx).WarnContext(ctx, "stop previous channel", "calendar", ref.String(), "error", err.Error())
		}
	}
	if _, err := s.Opener.Open(ctx, sess.Calendar, ref, c.GoogleID, now); err != nil {
		if !googlecal.PushNotSupported(err) {
			return err
		}
		// A calendar Google generates (holidays, birthdays, week numbers) cannot be
		// watched, and never will be: it is polled instead (RenewChannels, POLL_INTERVAL).
		if err := s.Store.SetPollMode(ctx, ref); err != nil {
			return err
		}
		c.SyncMode, c.Channel = store.SyncModePoll, nil
		logging.FromContext(ctx).InfoContext(ctx, "connect: calendar cannot be watched; polling it", "calendar", ref.String())
	}
	return s.Publish(ctx, topology.CalendarSync, messages.Sync{Tenant: ref.Tenant, Staff: ref.Staff, Connection: ref.Connection, Calendar: ref.Calendar, Reason: "select"})
}

// exportWaiting asks ExportBooking again for the staff member's upcoming bookings that
// could not reach Google while no connection was active (skipped_no_connection, or error
// after a revoked grant): now that one is, they are written into its calendar.
func (s *Service) exportWaiting(ctx context.Context, tenant, staff string, now time.Time) error {
	bookings, err := s.Store.UpcomingExportStates(ctx, tenant, staff, now)
	if err != nil {
		return err
	}
	for _, b := range bookings {
		if b.State != "skipped_no_connection" && b.State != "error" {
			continue
		}
		if err := s.Publish(ctx, topology.CalendarExport, messages.Export{Tenant: tenant, Staff: staff, Booking: b.ID, Op: "upsert"}); err != nil {
			return err
		}
	}
	return nil
}
