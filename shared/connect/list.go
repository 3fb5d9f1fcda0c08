package connect

import (
	"context"
	"time"

	"github.com/belbo/calsync/shared/health"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/store"
)

// Listed is one connection as the management API lists it.
type Listed struct {
	*store.Connection
	// Picture is the account's profile picture URL, fetched live ("" when unavailable).
	Picture string
	// Health is the connection's sync health (docs/api.md "Sync health") with the
	// tenant's slotsWhenReauthNeeded applied; nil when its calendars could not be read.
	Health *health.Connection
	// DeleteAfter: a reauth_required connection is deleted then unless reconnected.
	DeleteAfter *time.Time
}

// List reads a staff member's connections for the management API, each with its picture
// (fetching it may turn the connection reauth_required), its sync health and, when it
// awaits reauthorisation, when it will be deleted. A connection whose calendars cannot be
// read is still listed, with no health, rather than failing the whole list.
func (s *Service) List(ctx context.Context, tenant, staff string, now time.Time) ([]Listed, error) {
	conns, err := s.Store.ListConnections(ctx, tenant, staff)
	if err != nil {
		return nil, err
	}
	settings, err := s.Store.TenantSettings(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]Listed, 0, len(conns))
	for _, c := range conns {
		l := Listed{Connection: c, Picture: s.Picture(ctx, c, now)} // may turn c reauth_required
		if l.Health = s.health(ctx, c, now); l.Health != nil {
			l.Health.ApplySlotsPolicy(settings.SlotsWhenReauthNeeded)
		}
		if c.Status == store.StatusReauthRequired {
			at := settings.Retention.ReauthDeleteAt(c.StatusChangedAt).UTC()
			l.DeleteAfter = &at
		}
		out = append(out, l)
	}
	return out, nil
}

// health derives the connection's sync health from its calendars' bookkeeping; nil (with
// a warning) when the calendars cannot be read.
func (s *Service) health(ctx context.Context, c *store.Connection, now time.Time) *health.Connection {
	cals, err := s.Store.ListCalendars(ctx, c.Tenant, c.Staff, c.ID)
	if err != nil {
		logging.FromContext(ctx).WarnContext(ctx, "manage: health unavailable", "connection", c.ID, "error", err.Error())
		return nil
	}
	h := health.ForConnection(c, cals, now, health.DefaultThresholds(s.Schedule.SafetySyncInterval), true)
	return &h
}
