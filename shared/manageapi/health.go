package manageapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"

	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/syncer"
)

// The sync health itself is part of GET …/connections (connect.Service.List); this is
// what the backend can do about it.

// Resync: POST …/connections/{conn}/resync, body optional {"calendarId","full"} →
// 202 {"published": n, "reason": "safety"|"full"}: one calendar-sync message per selected
// calendar (or the one named), logged as syncer.EventResync. Safe to call twice: the
// syncer serialises per calendar.
func (c *Controller) Resync(w http.ResponseWriter, r *http.Request) {
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
	conn, ok := c.connection(w, r)
	if !ok {
		return
	}
	n, reason, err := syncer.Resync(r.Context(), c.p.Store, c.p.Publish, conn, body.CalendarID, body.Full)
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
		c.fail(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusAccepted, map[string]any{"published": n, "reason": reason})
}
