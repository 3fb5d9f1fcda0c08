package manage

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/belbo/calsync/shared/connect"
	"github.com/belbo/calsync/shared/health"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/topology"
)

// EventResync is logged for every accepted resync request.
const EventResync = "manage.resync"

// health derives the connection's sync health from its calendars' bookkeeping
// (docs/api.md "Sync health"). When the calendars cannot be read the connection is still
// listed, with health null, rather than failing the whole list.
func (a *api) health(r *http.Request, c *store.Connection, now time.Time) *health.Connection {
	cals, err := a.p.Store.ListCalendars(r.Context(), c.Tenant, c.Staff, c.ID)
	if err != nil {
		a.p.Log.WarnContext(r.Context(), "manage: health unavailable", "connection", c.ID, "error", err.Error())
		return nil
	}
	h := health.ForConnection(c, cals, now, health.DefaultThresholds(a.p.Env.SafetySyncInterval), true)
	return &h
}

// resync: POST …/connections/{conn}/resync, body optional {"calendarId","full"} →
// 202 {"published": n, "reason": "safety"|"full"}: one calendar-sync message per selected
// calendar (or the one named). Safe to call twice: the syncer serialises per calendar.
func (a *api) resync(w http.ResponseWriter, r *http.Request) {
	var body struct {
		CalendarID string `json:"calendarId"`
		Full       bool   `json:"full"`
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 2<<10))
	if err != nil {
		jsonhttp.Error(w, http.StatusRequestEntityTooLarge, "body_too_large", "request body exceeds 2048 bytes")
		return
	}
	if len(bytes.TrimSpace(raw)) > 0 { // the body is optional
		r.Body = io.NopCloser(bytes.NewReader(raw))
		if err := jsonhttp.Decode(w, r, 2<<10, &body); err != nil {
			jsonhttp.Fail(w, err)
			return
		}
	}
	if len(body.CalendarID) > 1024 {
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_id", "calendarId is not valid")
		return
	}
	c, ok := a.connection(w, r)
	if !ok {
		return
	}
	if c.Status != store.StatusActive {
		jsonhttp.Error(w, http.StatusConflict, "connection_inactive", "the connection needs to be reconnected first")
		return
	}
	ctx := r.Context()
	var cals []*store.Calendar
	if body.CalendarID != "" {
		cal, err := a.connect().FindCalendar(ctx, c, body.CalendarID)
		if errors.Is(err, connect.ErrNoCalendar) {
			jsonhttp.Error(w, http.StatusNotFound, "calendar_not_found", "the connection has no such calendar")
			return
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if !cal.Selected {
			jsonhttp.Error(w, http.StatusConflict, "calendar_not_selected", "only selected calendars are synced; select it first")
			return
		}
		cals = []*store.Calendar{cal}
	} else {
		var err error
		if cals, err = a.p.Store.ListCalendars(ctx, c.Tenant, c.Staff, c.ID); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	msgs := health.ResyncMessages(c, cals, "", body.Full)
	for _, m := range msgs {
		if err := a.p.Publish(ctx, topology.CalendarSync, m); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	reason := health.ReasonSafetySync
	if body.Full {
		reason = health.ReasonFullSync
	}
	logging.Event(ctx, a.p.Log, EventResync,
		slog.String("tenant", c.Tenant), slog.String("staff", c.Staff), slog.String("connection", c.ID),
		slog.String("reason", reason), slog.Int("published", len(msgs)), slog.String("outcome", "ok"))
	jsonhttp.Write(w, http.StatusAccepted, map[string]any{"published": len(msgs), "reason": reason})
}
