package syncer

import (
	"context"
	"errors"
	"log/slog"

	"github.com/belbo/calsync/shared/health"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/topology"
)

// Errors of Resync.
var (
	ErrConnectionInactive = errors.New("the connection needs to be reconnected first")
	ErrNoCalendar         = errors.New("the connection has no such calendar")
	ErrNotSelected        = errors.New("only selected calendars are synced; select it first")
)

// EventResync is logged (with the context's logger) for every accepted resync request.
const EventResync = "manage.resync"

// Resync asks for the connection's selected calendars (or the one Google calendar id
// names) to be synced now: one calendar-sync message each, reason "safety", or "full"
// (drop the sync token, list everything). It returns how many were published and the
// reason, and logs EventResync. Safe to call twice: the syncer serialises per calendar.
func Resync(ctx context.Context, st *store.Store, publish messages.Publisher, c *store.Connection, calendarID string, full bool) (int, string, error) {
	if c.Status != store.StatusActive {
		return 0, "", ErrConnectionInactive
	}
	var cals []*store.Calendar
	if calendarID != "" {
		ref := store.CalRef{Tenant: c.Tenant, Staff: c.Staff, Connection: c.ID, Calendar: store.CalendarDocID(calendarID)}
		cal, err := st.GetCalendar(ctx, ref)
		if errors.Is(err, store.ErrNotFound) {
			return 0, "", ErrNoCalendar
		}
		if err != nil {
			return 0, "", err
		}
		if !cal.Selected {
			return 0, "", ErrNotSelected
		}
		cals = []*store.Calendar{cal}
	} else {
		var err error
		if cals, err = st.ListCalendars(ctx, c.Tenant, c.Staff, c.ID); err != nil {
			return 0, "", err
		}
	}
	msgs := health.ResyncMessages(c, cals, "", full)
	for _, m := range msgs {
		if err := publish(ctx, topology.CalendarSync, m); err != nil {
			return 0, "", err
		}
	}
	reason := health.ReasonSafetySync
	if full {
		reason = health.ReasonFullSync
	}
	logging.Event(ctx, logging.FromContext(ctx), EventResync,
		slog.String("tenant", c.Tenant), slog.String("staff", c.Staff), slog.String("connection", c.ID),
		slog.String("reason", reason), slog.Int("published", len(msgs)), slog.String("outcome", "ok"))
	return len(msgs), reason, nil
}
