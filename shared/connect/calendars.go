package connect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/watch"
)

// ListGoogleCalendars pages through the account's calendar list, hidden entries included:
// Google leaves out calendars the user hid in its sidebar unless showHidden=true, and a
// selected calendar that went missing from the list would be removed with its events —
// its busy times would be offered again (issue 15). Hiding is a display choice in
// Google's UI, not a wish to stop blocking time.
func ListGoogleCalendars(ctx context.Context, cal *calendar.Service) ([]*calendar.CalendarListEntry, error) {
	var out []*calendar.CalendarListEntry
	call := cal.CalendarList.List().MaxResults(250).ShowDeleted(false).ShowHidden(true).
		Fields("nextPageToken", "items(id,summary,summaryOverride,backgroundColor,timeZone,primary,accessRole,deleted,hidden)")
	err := call.Pages(ctx, func(l *calendar.CalendarList) error {
		for _, it := range l.Items {
			if !it.Deleted {
				out = append(out, it)
			}
		}
		if len(out) > 5000 {
			return errors.New("calendar list longer than 5000 entries")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list calendars: %w", err)
	}
	return out, nil
}

func entryName(it *calendar.CalendarListEntry) string {
	if it.SummaryOverride != "" {
		return it.SummaryOverride
	}
	return it.Summary
}

// ErrNoCalendar is a calendar id the connection does not have.
var ErrNoCalendar = errors.New("calendar not found")

// ErrNotWritable is a write calendar the account may not write to.
var ErrNotWritable = errors.New("calendar is not writable")

// ErrInactive is a call that needs an active connection.
var ErrInactive = errors.New("connection is not active")

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
	bw := s.Store.BulkWriter(ctx)
	for _, it := range items {
		doc := s.Store.Calendar(conn.Tenant, conn.Staff, conn.ID, store.CalendarDocID(it.Id))
		fields := []firestore.Update{{Path: "googleId", Value: it.Id}, {Path: "name", Value: entryName(it)}, {Path: "color", Value: it.BackgroundColor}, {Path: "timeZone", Value: it.TimeZone}, {Path: "primary", Value: it.Primary}, {Path: "accessRole", Value: it.AccessRole}, {Path: "hidden", Value: it.Hidden}}
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
		if _, err := doc.Set(ctx, map[string]any{"googleId": it.Id, "name": entryName(it), "color": it.BackgroundColor, "timeZone": it.TimeZone, "primary": it.Primary, "accessRole": it.AccessRole, "hidden": it.Hidden, "selected": false}, firestore.MergeAll); err != nil {
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

// SelectCalendar turns a calendar on (channel + full sync) or off (channel stopped, events and
// busy data deleted). Selecting an already selected calendar re-opens its channel and
// syncs again, which heals a calendar whose channel was lost.
func (s *Service) SelectCalendar(ctx context.Context, conn *store.Connection, googleID string, selected bool, now time.Time) (*store.Calendar, error) {
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
	// Re-read the channels after the update: a renewal may have switched them meanwhile.
	fresh, err := s.Store.GetCalendar(ctx, ref)
	if err != nil {
		return err
	}
	if chans := s.calendarChannels(ctx, ref, fresh); len(chans) > 0 {
		var gcal *calendar.Service
		if conn.Status == store.StatusActive {
			if sess, err := s.Accounts.Open(ctx, conn); err == nil {
				gcal = sess.Calendar
			}
		}
		for _, ch := range chans {
			if err := watch.Stop(ctx, gcal, s.Store, ch); err != nil {
				logging.FromContext(ctx).WarnContext(ctx, "stop channel on deselect", "calendar", ref.String(), "channel", ch.ID, "error", err.Error())
			}
		}
		if _, err := s.Store.Doc(ref).Update(ctx, []firestore.Update{{Path: "channel", Value: nil}, {Path: "channelExpiry", Value: time.Time{}}}); err != nil {
			return err
		}
	}
	c.Selected = false
	c.Channel = nil
	if err := s.Store.DeleteCalendarData(ctx, ref); err != nil {
		return err
	}
	// Bump again: a sync that started after the first bump (a reselect in between) may
	// have written pages this delete just removed; it must not save its token either.
	_, err = s.Store.Doc(ref).Update(ctx, []firestore.Update{{Path: "epoch", Value: firestore.Increment(1)}})
	if store.NotFound(err) {
		return nil
	}
	return err
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
