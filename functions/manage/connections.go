package manage

import (
	"errors"
	"net/http"
	"time"

	"github.com/belbo/calsync/shared/connect"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/store"
)

func (a *api) connect() *connect.Service { return connect.New(a.p) }

func (a *api) now(w http.ResponseWriter, r *http.Request) (time.Time, bool) {
	now, err := a.p.Now(r.Context())
	if err != nil {
		jsonhttp.Error(w, http.StatusServiceUnavailable, "clock_unavailable", "the clock could not be read")
		return now, false
	}
	return now, true
}

// connection loads the path's connection, answering 404 when it is not this staff
// member's (tenant isolation: the path is the only way in).
func (a *api) connection(w http.ResponseWriter, r *http.Request) (*store.Connection, bool) {
	c, err := a.p.Store.GetConnection(r.Context(), r.PathValue("tenant"), r.PathValue("staff"), r.PathValue("conn"))
	if errors.Is(err, store.ErrNotFound) {
		jsonhttp.Error(w, http.StatusNotFound, "connection_not_found", "no such connection for this staff member")
		return nil, false
	}
	if err != nil {
		a.fail(w, r, err)
		return nil, false
	}
	return c, true
}

// connectionNow loads the path's connection and reads the clock, answering on failure.
func (a *api) connectionNow(w http.ResponseWriter, r *http.Request) (*store.Connection, time.Time, bool) {
	c, ok := a.connection(w, r)
	if !ok {
		return nil, time.Time{}, false
	}
	now, ok := a.now(w, r)
	return c, now, ok
}

func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	var p *jsonhttp.Problem
	if !errors.As(err, &p) {
		a.p.Log.ErrorContext(r.Context(), "manage: request failed", "path", r.URL.Path, "error", err.Error())
	}
	jsonhttp.Fail(w, err)
}

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

func (a *api) startConnection(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ReturnURL string `json:"returnUrl"`
	}
	if err := jsonhttp.Decode(w, r, 4<<10, &body); err != nil {
		jsonhttp.Fail(w, err)
		return
	}
	now, ok := a.now(w, r)
	if !ok {
		return
	}
	started, err := a.connect().Start(r.Context(), r.PathValue("tenant"), r.PathValue("staff"), body.ReturnURL, now)
	if errors.Is(err, connect.ErrReturnURL) {
		jsonhttp.Error(w, http.StatusBadRequest, "return_url_not_allowed", "returnUrl is not on the allow-list (ALLOWED_RETURN_URLS)")
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusCreated, map[string]string{"authUrl": started.AuthURL, "connectId": started.ConnectID})
}

func (a *api) listConnections(w http.ResponseWriter, r *http.Request) {
	now, ok := a.now(w, r)
	if !ok {
		return
	}
	conns, err := a.p.Store.ListConnections(r.Context(), r.PathValue("tenant"), r.PathValue("staff"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	settings, err := a.p.Store.TenantSettings(r.Context(), r.PathValue("tenant"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	svc := a.connect()
	out := make([]connectionJSON, 0, len(conns))
	for _, c := range conns {
		pic := svc.Picture(r.Context(), c, now) // may turn c reauth_required
		cj := connectionJSON{ID: c.ID, Email: c.Email, Status: c.Status, PictureURL: pic, WriteCalendarID: c.WriteCalendarID, Health: a.health(r, c, now)}
		if c.Status == store.StatusReauthRequired {
			at := settings.Retention.ReauthDeleteAt(c.StatusChangedAt).UTC()
			cj.DeleteAfter = &at
		}
		out = append(out, cj)
	}
	w.Header().Set("Cache-Control", "no-store")
	jsonhttp.Write(w, http.StatusOK, map[string]any{"connections": out})
}

func (a *api) patchConnection(w http.ResponseWriter, r *http.Request) {
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
	c, now, ok := a.connectionNow(w, r)
	if !ok {
		return
	}
	switch err := a.connect().SetWriteCalendar(r.Context(), c, body.WriteCalendarID, now); {
	case errors.Is(err, connect.ErrNoCalendar):
		jsonhttp.Error(w, http.StatusNotFound, "calendar_not_found", "the connection has no such calendar")
		return
	case errors.Is(err, connect.ErrNotWritable):
		jsonhttp.Error(w, http.StatusUnprocessableEntity, "calendar_not_writable", "the account may not write to this calendar")
		return
	case err != nil:
		a.fail(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, connectionJSON{ID: c.ID, Email: c.Email, Status: c.Status, WriteCalendarID: c.WriteCalendarID})
}

func (a *api) disconnect(w http.ResponseWriter, r *http.Request) {
	c, ok := a.connection(w, r)
	if !ok {
		return
	}
	if err := a.connect().Disconnect(r.Context(), c); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type calendarJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Color    string `json:"color"`
	Selected bool   `json:"selected"`
	Primary  bool   `json:"primary"`
	Writable bool   `json:"writable"`
}

func calJSON(c *store.Calendar) calendarJSON {
	return calendarJSON{ID: c.GoogleID, Name: c.Name, Color: c.Color, Selected: c.Selected, Primary: c.Primary, Writable: c.AccessRole == "owner" || c.AccessRole == "writer"}
}

func (a *api) listCalendars(w http.ResponseWriter, r *http.Request) {
	c, now, ok := a.connectionNow(w, r)
	if !ok {
		return
	}
	cals, fresh, err := a.connect().Calendars(r.Context(), c, now)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]calendarJSON, 0, len(cals))
	for _, cal := range cals {
		out = append(out, calJSON(cal))
	}
	w.Header().Set("Cache-Control", "no-store")
	jsonhttp.Write(w, http.StatusOK, map[string]any{"calendars": out, "fresh": fresh})
}

func (a *api) selectCalendar(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Selected *bool `json:"selected"`
	}
	if err := jsonhttp.Decode(w, r, 1<<10, &body); err != nil {
		jsonhttp.Fail(w, err)
		return
	}
	if body.Selected == nil {
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_request", `body must be {"selected": true|false}`)
		return
	}
	c, now, ok := a.connectionNow(w, r)
	if !ok {
		return
	}
	cal, err := a.connect().Select(r.Context(), c, r.PathValue("cal"), *body.Selected, now)
	switch {
	case errors.Is(err, connect.ErrNoCalendar):
		jsonhttp.Error(w, http.StatusNotFound, "calendar_not_found", "the connection has no such calendar")
		return
	case errors.Is(err, connect.ErrInactive):
		jsonhttp.Error(w, http.StatusConflict, "connection_inactive", "the connection needs to be reconnected first")
		return
	case err != nil:
		a.fail(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, calJSON(cal))
}
