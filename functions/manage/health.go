package manage

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/belbo/calsync/shared/health"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/logging"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/syncer"
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
	ctx := r.Context()
	n, reason, err := syncer.Resync(ctx, a.p.Store, a.p.Publish, c, body.CalendarID, body.Full)
	switch {
	case errors.Is(err, syncer.ErrConnectionInactive):
		jsonhttp.Error(w, http.StatusConflict, "connection_inactive", err.Error())
		return
	case errors.Is(err, syncer.ErrNoCalendar):
		jsonhttp.Error(w, http.StatusNotFound, "calendar_not_found", err.Error())
		return
	case errors.Is(err, syncer.ErrNotSelected):
		jsonhttp.Error(w, http.StatusConflict, "calendar_not_selected", err.Error())
		return
	case err != nil:
		a.fail(w, r, err)
		return
	}
	logging.Event(ctx, a.p.Log, EventResync,
		slog.String("tenant", c.Tenant), slog.String("staff", c.Staff), slog.String("connection", c.ID),
		slog.String("reason", reason), slog.Int("published", n), slog.String("outcome", "ok"))
	jsonhttp.Write(w, http.StatusAccepted, map[string]any{"published": n, "reason": reason})
}
