package fakegoogle

// The calendarList endpoints (list and get) and how a caller's calendar id resolves.

import (
	"fmt"
	"net/http"
)

type calendarListEntry struct {
	Kind             string `json:"kind"`
	Etag             string `json:"etag"`
	ID               string `json:"id"`
	Summary          string `json:"summary"`
	Description      string `json:"description,omitempty"`
	TimeZone         string `json:"timeZone"`
	ColorID          string `json:"colorId"`
	BackgroundColor  string `json:"backgroundColor"`
	ForegroundColor  string `json:"foregroundColor"`
	Selected         bool   `json:"selected,omitempty"`
	AccessRole       string `json:"accessRole"`
	Primary          bool   `json:"primary,omitempty"`
	Hidden           bool   `json:"hidden,omitempty"`
	Deleted          bool   `json:"deleted,omitempty"`
	DefaultReminders []any  `json:"defaultReminders"`
}

func entryOf(c *calData) calendarListEntry {
	return calendarListEntry{Kind: "calendar#calendarListEntry", Etag: fmt.Sprintf(`"%d"`, len(c.summary)+len(c.bg)*7),
		ID: c.id, Summary: c.summary, Description: c.description, TimeZone: c.tz, ColorID: c.colorID,
		BackgroundColor: c.bg, ForegroundColor: c.fg, Selected: true, AccessRole: "owner", Primary: c.primary,
		DefaultReminders: []any{}}
}

func (s *Server) handleCalendarList(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		googleError(w, 405, "httpMethodNotAllowed", "Method Not Allowed")
		return
	}
	c, ok := s.apiCall(w, r, "calendarList.list", "", scopesCalendarList...)
	if !ok {
		return
	}
	sel, ok := mask(w, r, typeCalendarList)
	if !ok {
		return
	}
	q := r.URL.Query()
	max, err := intParam(q.Get("maxResults"), defaultCalendarListMaxResults, maxCalendarListMaxResults)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ps *pageState
	if pt := q.Get("pageToken"); pt != "" {
		ps = s.pages[pt]
		if ps == nil || ps.owner != c.key || ps.kind != "calendarList" {
			writeErr(w, errf(400, "invalid", "Invalid page token value."))
			return
		}
		cp := *ps // page tokens can be reused (retries)
		ps = &cp
	} else {
		ps = &pageState{kind: "calendarList", owner: c.key, max: max}
		ps.items = s.listEntriesLocked(c.key, q.Get("showHidden") == "true", q.Get("showDeleted") == "true")
		ps.syncToken = "cl" + randomString(syncTokenRandomLen, tokenChrs)
	}
	if q.Get("maxResults") != "" {
		ps.max = max
	}
	items, next := s.nextPage(ps)
	resp := map[string]any{"kind": "calendar#calendarList", "etag": `"p33a"`, "items": items}
	if next != "" {
		resp["nextPageToken"] = next
	} else {
		resp["nextSyncToken"] = ps.syncToken
	}
	writeMasked(w, 200, resp, sel)
}

func (s *Server) handleCalendarListEntry(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "watch" && r.Method == http.MethodPost {
		s.handleWatch(w, r, "")
		return
	}
	if r.Method != http.MethodGet {
		googleError(w, 405, "httpMethodNotAllowed", "Method Not Allowed")
		return
	}
	c, ok := s.apiCall(w, r, "calendarList.get", id, scopesCalendarList...)
	if !ok {
		return
	}
	sel, ok := mask(w, r, typeListEntry)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cd, err := s.calendarFor(c, id)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeMasked(w, 200, s.entryForLocked(cd, c.key), sel)
}

// calendarFor resolves a calendar id ("primary" included) for the caller. Locked.
func (s *Server) calendarFor(c *caller, id string) (*calData, *apiError) {
	if id == "primary" {
		for _, cid := range s.calOrder {
			cd := s.calendars[cid]
			if cd.owner == c.key && cd.primary && !cd.deleted {
				return cd, nil
			}
		}
	}
	cd := s.calendars[id]
	if cd == nil || cd.deleted || s.roleLocked(c.key, cd) == "" {
		return nil, errf(404, "notFound", "Not Found")
	}
	return cd, nil
}
