package fakegoogle

// The events endpoints other than list: insert, get, patch, update, delete and
// instances.

import (
	"encoding/json"
	"net/http"
	"time"

	"google.golang.org/api/calendar/v3"
)

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		s.listEvents(w, r)
	case http.MethodPost:
		s.insertHTTP(w, r)
	default:
		googleError(w, 405, "httpMethodNotAllowed", "Method Not Allowed")
	}
}

func (s *Server) insertHTTP(w http.ResponseWriter, r *http.Request) {
	calID := r.PathValue("cal")
	c, ok := s.apiCall(w, r, "events.insert", calID, scopesEventsWrite...)
	if !ok {
		return
	}
	sel, ok := mask(w, r, typeEvent)
	if !ok {
		return
	}
	var ev calendar.Event
	if err := readJSON(r, &ev); err != nil {
		writeErr(w, err)
		return
	}
	s.mu.Lock()
	cd, aerr := s.calendarFor(c, calID)
	if aerr != nil {
		s.mu.Unlock()
		writeErr(w, aerr)
		return
	}
	if aerr := s.canWriteLocked(c.key, cd); aerr != nil {
		s.mu.Unlock()
		writeErr(w, aerr)
		return
	}
	out, aerr := s.insertEvent(cd, &ev)
	s.mu.Unlock()
	if aerr != nil {
		writeErr(w, aerr)
		return
	}
	s.notify(cd.id)
	writeMasked(w, 200, out, sel)
}

func (s *Server) handleEvent(w http.ResponseWriter, r *http.Request) {
	calID, id := r.PathValue("cal"), r.PathValue("id")
	var op string
	var scopes []string
	switch r.Method {
	case http.MethodGet:
		op, scopes = "events.get", scopesEventsRead
	case http.MethodPatch:
		op, scopes = "events.patch", scopesEventsWrite
	case http.MethodPut:
		op, scopes = "events.update", scopesEventsWrite
	case http.MethodDelete:
		op, scopes = "events.delete", scopesEventsWrite
	case http.MethodPost:
		if id == "watch" {
			s.handleWatch(w, r, calID)
			return
		}
		fallthrough
	default:
		googleError(w, 405, "httpMethodNotAllowed", "Method Not Allowed")
		return
	}
	c, ok := s.apiCall(w, r, op, calID, scopes...)
	if !ok {
		return
	}
	sel, ok := mask(w, r, typeEvent)
	if !ok {
		return
	}
	var body []byte
	if r.Method == http.MethodPatch || r.Method == http.MethodPut {
		var raw json.RawMessage
		if err := readJSON(r, &raw); err != nil {
			writeErr(w, err)
			return
		}
		body = raw
	}
	s.mu.Lock()
	cd, aerr := s.calendarFor(c, calID)
	if aerr != nil {
		s.mu.Unlock()
		writeErr(w, aerr)
		return
	}
	if aerr := s.canWriteLocked(c.key, cd); aerr != nil && r.Method != http.MethodGet {
		s.mu.Unlock()
		writeErr(w, aerr)
		return
	}
	switch r.Method {
	case http.MethodGet:
		ev := s.redactLocked(c.key, cd, s.getEvent(cd, id))
		s.mu.Unlock()
		if ev == nil {
			writeErr(w, errf(404, "notFound", "Not Found"))
			return
		}
		writeMasked(w, 200, ev, sel)
	case http.MethodDelete:
		aerr := s.deleteEvent(cd, id)
		s.mu.Unlock()
		if aerr != nil {
			writeErr(w, aerr)
			return
		}
		s.notify(cd.id)
		w.WriteHeader(http.StatusNoContent)
	default:
		out, aerr := s.changeEvent(cd, id, body, r.Method == http.MethodPut)
		s.mu.Unlock()
		if aerr != nil {
			writeErr(w, aerr)
			return
		}
		s.notify(cd.id)
		writeMasked(w, 200, out, sel)
	}
}

// getEvent returns an event, exception or virtual instance (deleted ones with status
// cancelled, as Google does). Locked.
func (s *Server) getEvent(c *calData, id string) *calendar.Event {
	if rec := c.events[id]; rec != nil {
		return cloneEvent(rec.ev)
	}
	if _, inst := s.resolveInstance(c, id); inst != nil {
		return inst
	}
	return nil
}

func (s *Server) handleInstances(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		googleError(w, 405, "httpMethodNotAllowed", "Method Not Allowed")
		return
	}
	calID, id := r.PathValue("cal"), r.PathValue("id")
	c, ok := s.apiCall(w, r, "events.instances", calID, scopesEventsRead...)
	if !ok {
		return
	}
	sel, ok := mask(w, r, typeEvents)
	if !ok {
		return
	}
	q := r.URL.Query()
	showDeleted, aerr := boolParam(q.Get("showDeleted"))
	if aerr != nil {
		writeErr(w, aerr)
		return
	}
	var p listParams
	for name, dst := range map[string]*time.Time{"timeMin": &p.timeMin, "timeMax": &p.timeMax} {
		if *dst, aerr = parseTimeParam(q, name); aerr != nil {
			writeErr(w, aerr)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cd, aerr := s.calendarFor(c, calID)
	if aerr != nil {
		writeErr(w, aerr)
		return
	}
	m := cd.events[id]
	if m == nil || len(m.ev.Recurrence) == 0 {
		writeErr(w, errf(404, "notFound", "Not Found"))
		return
	}
	if m.cancelled() {
		writeErr(w, errf(410, "deleted", "Resource has been deleted"))
		return
	}
	var items []listItem
	for _, it := range s.collect(cd, true, -1, showDeleted) {
		if it.ev.RecurringEventId == id {
			items = append(items, it)
		}
	}
	items = filterSort(items, p)
	out := []any{}
	for _, it := range items {
		out = append(out, wire(it.ev))
	}
	writeMasked(w, 200, map[string]any{"kind": "calendar#events", "summary": cd.summary, "timeZone": cd.tz,
		"accessRole": "owner", "defaultReminders": []any{}, "items": out}, sel)
}
