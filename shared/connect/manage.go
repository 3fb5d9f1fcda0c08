package connect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/accounts"
	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/watch"
)

// ErrNoCalendar is a calendar id the connection does not have.
var ErrNoCalendar = errors.New("calendar not found")

// ErrNotWritable is a write calendar the account may not write to.
var ErrNotWritable = errors.New("calendar is not writable")

// ErrInactive is a call that needs an active connection.
var ErrInactive = errors.New("connection is not active")

// Picture fetches the account's profile picture URL live. It is returned to the caller
// only — never stored, cached or logged. A revoked grant turns the connection
// reauth_required and yields "".
func (s *Service) Picture(ctx context.Context, conn *store.Connection, now time.Time) string {
	if conn.Status != store.StatusActive {
		return ""
	}
	sess, err := s.Accounts.Open(ctx, conn)
	if err != nil {
		return ""
	}
	info, err := sess.Google.FetchUserInfo(ctx, sess.Tokens)
	if err != nil {
		if googlecal.Classify(err) == googlecal.ClassAuth {
			_ = s.Accounts.MarkReauth(ctx, conn, now)
		}
		return ""
	}
	return info.Picture
}

// Calendars refreshes the calendar list from Google (names, colours, new calendars as
// unselected, removed calendars deleted with their data) and returns what is stored.
// When Google cannot be asked, the stored list is returned with fresh=false.
func (s *Service) Calendars(ctx context.Context, conn *store.Connection, now time.Time) ([]*store.Calendar, bool, error) {
	fresh := false
	if conn.Status == store.StatusActive {
		if err := s.RefreshList(ctx, conn, now); err != nil {
			logging.FromContext(ctx).WarnContext(ctx, "calendar list refresh failed; serving stored list", "connection", conn.ID, "errorClass", string(googlecal.Classify(err)))
		} else {
			fresh = true
		}
	}
	cals, err := s.Store.ListCalendars(ctx, conn.Tenant, conn.Staff, conn.ID)
	return cals, fresh, err
}

// RefreshList reconciles the stored calendars with Google's calendar list.
func (s *Service) RefreshList(ctx context.Context, conn *store.Connection, now time.Time) error {
	sess, err := s.Accounts.Open(ctx, conn)
	if err != nil {
		return err
	}
	items, err := ListGoogleCalendars(ctx, sess.Calendar)
	if err != nil {
		if googlecal.Classify(err) == googlecal.ClassAuth {
			_ = s.Accounts.MarkReauth(ctx, conn, now)
		}
		return err
	}
	bw := s.Store.FS.BulkWriter(ctx)
	for _, it := range items {
		doc := s.Store.Calendar(conn.Tenant, conn.Staff, conn.ID, store.CalendarDocID(it.Id))
		fields := []firestore.Update{{Path: "googleId", Value: it.Id}, {Path: "name", Value: entryName(it)}, {Path: "color", Value: it.BackgroundColor}, {Path: "timeZone", Value: it.TimeZone}, {Path: "primary", Value: it.Primary}, {Path: "accessRole", Value: it.AccessRole}}
		if _, err := bw.Update(doc, fields); err != nil {
			return err
		}
	}
	bw.End()
	// Update fails on new calendars; create those explicitly (unselected).
	stored, err := s.Store.ListCalendars(ctx, conn.Tenant, conn.Staff, conn.ID)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, c := range stored {
		have[c.DocID] = true
	}
	for _, it := range items {
		id := store.CalendarDocID(it.Id)
		if have[id] {
			continue
		}
		doc := s.Store.Calendar(conn.Tenant, conn.Staff, conn.ID, id)
		if _, err := doc.Set(ctx, map[string]any{"googleId": it.Id, "name": entryName(it), "color": it.BackgroundColor, "timeZone": it.TimeZone, "primary": it.Primary, "accessRole": it.AccessRole, "selected": false}, firestore.MergeAll); err != nil {
			return fmt.Errorf("add calendar %s: %w", id, err)
		}
	}
	if err := s.removeUnlisted(ctx, conn, items, sess.Calendar); err != nil {
		return err
	}
	_, err = s.Store.Connection(conn.Tenant, conn.Staff, conn.ID).Update(ctx, []firestore.Update{{Path: "lastListSyncAt", Value: now}})
	return err
}

// FindCalendar resolves a Google calendar id of a connection.
func (s *Service) FindCalendar(ctx context.Context, conn *store.Connection, googleID string) (*store.Calendar, error) {
	ref := store.CalRef{Tenant: conn.Tenant, Staff: conn.Staff, Connection: conn.ID, Calendar: store.CalendarDocID(googleID)}
	c, err := s.Store.GetCalendar(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoCalendar
	}
	return c, err
}

// Select turns a calendar on (channel + full sync) or off (channel stopped, events and
// busy data deleted). Selecting an already selected calendar re-opens its channel and
// syncs again, which heals a calendar whose channel was lost.
func (s *Service) Select(ctx context.Context, conn *store.Connection, googleID string, selected bool, now time.Time) (*store.Calendar, error) {
	c, err := s.FindCalendar(ctx, conn, googleID)
	if err != nil {
		return nil, err
	}
	ref := store.CalRef{Tenant: conn.Tenant, Staff: conn.Staff, Connection: conn.ID, Calendar: c.DocID}
	if selected {
		if conn.Status != store.StatusActive {
			return nil, ErrInactive
		}
		sess, err := s.Accounts.Open(ctx, conn)
		if err != nil {
			return nil, err
		}
		if _, err := s.Store.Doc(ref).Update(ctx, []firestore.Update{{Path: "selected", Value: true}}); err != nil {
			return nil, fmt.Errorf("select %s: %w", ref, err)
		}
		c.Selected = true
		if err := s.startCalendar(ctx, sess, conn, c, now); err != nil {
			if googlecal.Classify(err) == googlecal.ClassAuth {
				_ = s.Accounts.MarkReauth(ctx, conn, now)
			}
			return nil, err
		}
		return s.Store.GetCalendar(ctx, ref)
	}
	return c, s.deselect(ctx, conn, c)
}

func (s *Service) deselect(ctx context.Context, conn *store.Connection, c *store.Calendar) error {
	ref := store.CalRef{Tenant: conn.Tenant, Staff: conn.Staff, Connection: conn.ID, Calendar: c.DocID}
	if _, err := s.Store.Doc(ref).Update(ctx, []firestore.Update{
		{Path: "selected", Value: false}, {Path: "syncToken", Value: ""}, {Path: "dirty", Value: false},
		{Path: "epoch", Value: firestore.Increment(1)},
	}); err != nil {
		return fmt.Errorf("deselect %s: %w", ref, err)
	}
	if c.Channel != nil {
		var cal *accounts.Session
		if conn.Status == store.StatusActive {
			cal, _ = s.Accounts.Open(ctx, conn)
		}
		var err error
		if cal != nil {
			err = watch.Stop(ctx, cal.Calendar, s.Store, c.Channel)
		} else {
			err = watch.Stop(ctx, nil, s.Store, c.Channel)
		}
		if err != nil {
			logging.FromContext(ctx).WarnContext(ctx, "stop channel on deselect", "calendar", ref.String(), "error", err.Error())
		}
		if _, err := s.Store.Doc(ref).Update(ctx, []firestore.Update{{Path: "channel", Value: nil}, {Path: "channelExpiry", Value: time.Time{}}}); err != nil {
			return err
		}
	}
	c.Selected = false
	c.Channel = nil
	return s.Store.DeleteCalendarData(ctx, ref)
}

// SetWriteCalendar chooses the calendar bookings are written to.
func (s *Service) SetWriteCalendar(ctx context.Context, conn *store.Connection, googleID string, now time.Time) error {
	c, err := s.FindCalendar(ctx, conn, googleID)
	if err != nil {
		return err
	}
	if c.AccessRole != "owner" && c.AccessRole != "writer" {
		return ErrNotWritable
	}
	_, err = s.Store.Connection(conn.Tenant, conn.Staff, conn.ID).Update(ctx, []firestore.Update{{Path: "writeCalendarId", Value: googleID}, {Path: "updatedAt", Value: now}})
	conn.WriteCalendarID = googleID
	return err
}

// Disconnect stops every channel (needs a valid token, so first), revokes the grant at
// Google, then deletes the connection with its calendars, events and busy data.
func (s *Service) Disconnect(ctx context.Context, conn *store.Connection) error {
	return s.removeConnection(ctx, conn, true)
}

func (s *Service) removeConnection(ctx context.Context, conn *store.Connection, revoke bool) error {
	log := logging.FromContext(ctx).With("connection", conn.ID)
	sess, err := s.Accounts.Open(ctx, conn)
	if err != nil {
		log.WarnContext(ctx, "disconnect: cannot open account; deleting without stopping channels", "error", err.Error())
	}
	cals, err := s.Store.ListCalendars(ctx, conn.Tenant, conn.Staff, conn.ID)
	if err != nil {
		return err
	}
	for _, c := range cals {
		if c.Channel == nil {
			continue
		}
		var svc = (*accounts.Session)(nil)
		if sess != nil && conn.Status == store.StatusActive {
			svc = sess
		}
		if svc != nil {
			err = watch.Stop(ctx, svc.Calendar, s.Store, c.Channel)
		} else {
			err = watch.Stop(ctx, nil, s.Store, c.Channel)
		}
		if err != nil {
			log.WarnContext(ctx, "disconnect: stop channel", "channel", c.Channel.ID, "errorClass", string(googlecal.Classify(err)))
		}
	}
	if revoke && sess != nil {
		if err := sess.Google.RevokeToken(ctx, sess.RefreshToken()); err != nil {
			// Deleting what we hold matters more than Google's answer; the token is gone from
			// our store either way and can never be used again.
			log.WarnContext(ctx, "disconnect: revoke failed", "errorClass", string(googlecal.Classify(err)))
		}
	}
	if err := s.Store.DeleteConnectionData(ctx, conn.Tenant, conn.Staff, conn.ID); err != nil {
		return fmt.Errorf("disconnect %s: %w", conn.ID, err)
	}
	log.InfoContext(ctx, "disconnect: connection deleted", "calendars", len(cals))
	return nil
}
