package connect

import (
	"context"
	"fmt"

	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/watch"
)

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
	var gcal *calendar.Service
	if sess != nil && conn.Status == store.StatusActive {
		gcal = sess.Calendar
	}
	for _, c := range cals {
		ref := store.CalRef{Tenant: conn.Tenant, Staff: conn.Staff, Connection: conn.ID, Calendar: c.DocID}
		for _, ch := range s.calendarChannels(ctx, ref, c) {
			if err := watch.Stop(ctx, gcal, s.Store, ch); err != nil {
				log.WarnContext(ctx, "disconnect: stop channel", "channel", ch.ID, "errorClass", string(googlecal.Classify(err)))
			}
		}
	}
	// Revoking ends the account's whole grant: only when no other live connection of the
	// same account (any tenant) still uses it.
	if revoke && sess != nil && s.mayRevoke(ctx, conn.Subject, connPath(conn)) {
		if err := sess.Google.RevokeToken(ctx, sess.RefreshToken()); err != nil {
			// Deleting what we hold matters more than Google's answer; the token is gone from
			// our store either way and can never be used again.
			log.WarnContext(ctx, "disconnect: revoke failed", "errorClass", string(googlecal.Classify(err)))
		}
	}
	if err := s.Store.DeleteConnectionData(ctx, conn.Tenant, conn.Staff, conn.ID); err != nil {
		return fmt.Errorf("disconnect %s: %w", conn.ID, err)
	}
	// Bookings remember where they were exported (calendar ids are often the account's
	// e-mail address): forget that too.
	if _, err := s.Store.ClearExportsOf(ctx, conn.Tenant, conn.Staff, conn.ID); err != nil {
		return fmt.Errorf("disconnect %s: %w", conn.ID, err)
	}
	log.InfoContext(ctx, "disconnect: connection deleted", "calendars", len(cals))
	return nil
}

// calendarChannels lists every channel a calendar may have at Google: its current one and
// those a renewal run left half-done (the renewal record's pending and retired channels).
func (s *Service) calendarChannels(ctx context.Context, ref store.CalRef, c *store.Calendar) []*store.Channel {
	var out []*store.Channel
	if c.Channel != nil {
		out = append(out, c.Channel)
	}
	snap, err := s.Store.Doc(ref).Get(ctx)
	if err != nil {
		return out
	}
	add := func(v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		id, _ := m["id"].(string)
		res, _ := m["resourceId"].(string)
		if id != "" && (c.Channel == nil || id != c.Channel.ID) {
			out = append(out, &store.Channel{ID: id, ResourceID: res})
		}
	}
	if v, err := snap.DataAt("renewal.pending"); err == nil {
		add(v)
	}
	if v, err := snap.DataAt("renewal.retired"); err == nil {
		if list, ok := v.([]any); ok {
			for _, it := range list {
				add(it)
			}
		}
	}
	return out
}
