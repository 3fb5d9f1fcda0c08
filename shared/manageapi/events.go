package manageapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/belbo/calsync/shared/events"
	"github.com/belbo/calsync/shared/jsonhttp"
)

// ListEvents: GET …/events?from=&to=&pageToken= — the events of the staff member's
// selected calendars of active connections overlapping [from, to), sorted by start
// (shared/events).
func (c *Controller) ListEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, err1 := time.Parse(time.RFC3339, q.Get("from"))
	to, err2 := time.Parse(time.RFC3339, q.Get("to"))
	if err1 != nil || err2 != nil {
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_range", "from and to are required RFC 3339 instants")
		return
	}
	page, err := events.List(r.Context(), c.p.Store, r.PathValue("tenant"), r.PathValue("staff"), from, to, q.Get("pageToken"))
	switch {
	case errors.Is(err, events.ErrInvalidRange):
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_range", err.Error())
		return
	case errors.Is(err, events.ErrInvalidPageToken):
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_page_token", err.Error())
		return
	case err != nil:
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	resp := map[string]any{"events": page.Events}
	if page.NextPageToken != "" {
		resp["nextPageToken"] = page.NextPageToken
	}
	jsonhttp.Write(w, http.StatusOK, resp)
}
