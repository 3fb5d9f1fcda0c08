package manageapi

import (
	"errors"
	"net/http"

	"github.com/belbo/calsync/shared/connect"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/store"
)

type calendarJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Color    string `json:"color"`
	Selected bool   `json:"selected"`
	Primary  bool   `json:"primary"`
	Writable bool   `json:"writable"`
	// AccessRole is the account's role on the calendar (owner, writer, reader,
	// freeBusyReader); Hidden says the user hid it in Google Calendar's sidebar.
	AccessRole string `json:"accessRole"`
	Hidden     bool   `json:"hidden"`
}

func calJSON(c *store.Calendar) calendarJSON {
	return calendarJSON{ID: c.GoogleID, Name: c.Name, Color: c.Color, Selected: c.Selected, Primary: c.Primary, Writable: c.AccessRole == "owner" || c.AccessRole == "writer", AccessRole: c.AccessRole, Hidden: c.Hidden}
}

// ListCalendars: GET …/connections/{conn}/calendars → the account's calendars, refreshed
// from Google when they are old ("fresh" says whether they were).
func (c *Controller) ListCalendars(w http.ResponseWriter, r *http.Request) {
	conn, now, ok := c.connectionNow(w, r)
	if !ok {
		return
	}
	cals, fresh, err := c.connect().Calendars(r.Context(), conn, now)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	out := make([]calendarJSON, 0, len(cals))
	for _, cal := range cals {
		out = append(out, calJSON(cal))
	}
	w.Header().Set("Cache-Control", "no-store")
	jsonhttp.Write(w, http.StatusOK, map[string]any{"calendars": out, "fresh": fresh})
}

// SelectCalendar: PUT …/connections/{conn}/calendars/{cal} {"selected": bool}.
func (c *Controller) SelectCalendar(w http.ResponseWriter, r *http.Request) {
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
	conn, now, ok := c.connectionNow(w, r)
	if !ok {
		return
	}
	cal, err := c.connect().SelectCalendar(r.Context(), conn, r.PathValue("cal"), *body.Selected, now)
	switch {
	case errors.Is(err, connect.ErrNoCalendar):
		jsonhttp.Error(w, http.StatusNotFound, "calendar_not_found", "the connection has no such calendar")
		return
	case errors.Is(err, connect.ErrInactive):
		jsonhttp.Error(w, http.StatusConflict, "connection_inactive", "the connection needs to be reconnected first")
		return
	case err != nil:
		c.fail(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, calJSON(cal))
}
