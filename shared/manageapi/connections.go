package manageapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/belbo/calsync/shared/connect"
	"github.com/belbo/calsync/shared/jsonhttp"
)

type connectionJSON struct {
	ID              string `json:"id"`
	Email           string `json:"email"`
	Status          string `json:"status"`
	PictureURL      string `json:"pictureUrl"`
	WriteCalendarID string `json:"writeCalendarId"`
	Health          any    `json:"health,omitempty"`
	// DeleteAfter: a reauth_required connection is deleted then unless reconnected.
	DeleteAfter *time.Time `json:"deleteAfter,omitempty"`
}

// listedJSON is one entry of GET …/connections; health is left out (not null) when the
// connection's calendars could not be read.
func listedJSON(l connect.Listed) connectionJSON {
	cj := connectionJSON{ID: l.ID, Email: l.Email, Status: l.Status, PictureURL: l.Picture, WriteCalendarID: l.WriteCalendarID, DeleteAfter: l.DeleteAfter}
	if l.Health != nil {
		cj.Health = l.Health
	}
	return cj
}

// StartConnection: POST …/connections {"returnUrl"} → 201 {"authUrl", "connectId"}.
func (c *Controller) StartConnection(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ReturnURL string `json:"returnUrl"`
	}
	now, ok := c.decodeNow(w, r, &body)
	if !ok {
		return
	}
	started, err := c.connect().Start(r.Context(), r.PathValue("tenant"), r.PathValue("staff"), body.ReturnURL, now)
	if errors.Is(err, connect.ErrReturnURL) {
		jsonhttp.Error(w, http.StatusBadRequest, "return_url_not_allowed", "returnUrl is not on the allow-list (ALLOWED_RETURN_URLS)")
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusCreated, map[string]string{"authUrl": started.AuthURL, "connectId": started.ConnectID})
}

// ListConnections: GET …/connections → the staff member's connections with picture,
// health and deletion date (connect.Service.List).
func (c *Controller) ListConnections(w http.ResponseWriter, r *http.Request) {
	now, ok := c.now(w, r)
	if !ok {
		return
	}
	list, err := c.connect().List(r.Context(), r.PathValue("tenant"), r.PathValue("staff"), now)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	out := make([]connectionJSON, 0, len(list))
	for _, l := range list {
		out = append(out, listedJSON(l))
	}
	w.Header().Set("Cache-Control", "no-store")
	jsonhttp.Write(w, http.StatusOK, map[string]any{"connections": out})
}

// PatchConnection: PATCH …/connections/{conn} {"writeCalendarId"} sets the calendar
// bookings are written to.
func (c *Controller) PatchConnection(w http.ResponseWriter, r *http.Request) {
	var body struct {
		WriteCalendarID string `json:"writeCalendarId"`
	}
	if err := jsonhttp.Decode(w, r, 4<<10, &body); err != nil {
		jsonhttp.Fail(w, err)
		return
	}
	if body.WriteCalendarID == "" || len(body.WriteCalendarID) > 1024 {
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_write_calendar", "writeCalendarId is required")
		return
	}
	conn, now, ok := c.connectionNow(w, r)
	if !ok {
		return
	}
	switch err := c.connect().SetWriteCalendar(r.Context(), conn, body.WriteCalendarID, now); {
	case errors.Is(err, connect.ErrNoCalendar):
		jsonhttp.Error(w, http.StatusNotFound, "calendar_not_found", "the connection has no such calendar")
		return
	case errors.Is(err, connect.ErrNotWritable):
		jsonhttp.Error(w, http.StatusUnprocessableEntity, "calendar_not_writable", "the account may not write to this calendar")
		return
	case err != nil:
		c.fail(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, connectionJSON{ID: conn.ID, Email: conn.Email, Status: conn.Status, WriteCalendarID: conn.WriteCalendarID})
}

// Disconnect: DELETE …/connections/{conn} → 204.
func (c *Controller) Disconnect(w http.ResponseWriter, r *http.Request) {
	conn, ok := c.connection(w, r)
	if !ok {
		return
	}
	if err := c.connect().Disconnect(r.Context(), conn); err != nil {
		c.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
