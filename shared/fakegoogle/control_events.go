package fakegoogle

// Go control methods for events: create, patch, delete and read events as the
// calendar's owner would in Google's UI.

import (
	"encoding/json"
	"time"

	"google.golang.org/api/calendar/v3"
)

func (s *Server) calByID(id string) (*calData, error) {
	c := s.calendars[id]
	if c == nil || c.deleted {
		return nil, ctlErr(404, "unknown_calendar", "no such calendar")
	}
	return c, nil
}

// CreateEvent inserts an event as the calendar's owner would (in Google's UI);
// watchers are notified. A server id is generated when ev.Id is empty.
func (s *Server) CreateEvent(calID string, ev *calendar.Event) (*calendar.Event, error) {
	if ev == nil {
		return nil, ctlErr(400, "invalid_event", "event required")
	}
	ev = cloneEvent(ev)
	s.mu.Lock()
	c, err := s.calByID(calID)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	out, aerr := s.insertEvent(c, ev)
	s.mu.Unlock()
	if aerr != nil {
		return nil, fromAPIErr(aerr)
	}
	s.notify(calID)
	return out, nil
}

// PatchEvent patches an event, a series master or one instance (id
// master_YYYYMMDDTHHMMSSZ) as the owner would; only the fields set in patch change
// (JSON omitempty rules: to clear a field use PatchEventJSON). Setting Status
// "cancelled" on an instance cancels it.
func (s *Server) PatchEvent(calID, id string, patch *calendar.Event) (*calendar.Event, error) {
	b, err := json.Marshal(patch)
	if err != nil {
		return nil, ctlErr(400, "invalid_event", err.Error())
	}
	return s.PatchEventJSON(calID, id, b)
}

// PatchEventJSON patches with a raw JSON object (null clears a field).
func (s *Server) PatchEventJSON(calID, id string, patch []byte) (*calendar.Event, error) {
	s.mu.Lock()
	c, err := s.calByID(calID)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	var probe struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(patch, &probe)
	var out *calendar.Event
	var aerr *apiError
	if probe.Status == "cancelled" && c.events[id] == nil {
		// cancelling a not-yet-materialised instance
		aerr = s.deleteEvent(c, id)
		if aerr == nil {
			out = s.getEvent(c, id)
		}
	} else {
		out, aerr = s.changeEvent(c, id, patch, false)
	}
	s.mu.Unlock()
	if aerr != nil {
		return nil, fromAPIErr(aerr)
	}
	s.notify(calID)
	return out, nil
}

// DeleteEvent deletes an event, series or instance as the owner would.
func (s *Server) DeleteEvent(calID, id string) error {
	s.mu.Lock()
	c, err := s.calByID(calID)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	aerr := s.deleteEvent(c, id)
	s.mu.Unlock()
	if aerr != nil {
		return fromAPIErr(aerr)
	}
	s.notify(calID)
	return nil
}

// Events lists a calendar's live (not cancelled) events as Google holds them, as
// events.list would return them (singleEvents expands series; zero times = no bound),
// sorted by start then id. For convergence comparisons.
func (s *Server) Events(calID string, singleEvents bool, timeMin, timeMax time.Time) []*calendar.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calendars[calID]
	if c == nil || c.deleted {
		return nil
	}
	items := filterSort(s.collect(c, singleEvents, -1, false), listParams{timeMin: timeMin, timeMax: timeMax})
	out := make([]*calendar.Event, 0, len(items))
	for _, it := range items {
		out = append(out, cloneEvent(it.ev))
	}
	return out
}

// Event returns one event, exception or instance (nil if unknown).
func (s *Server) Event(calID, id string) *calendar.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calendars[calID]
	if c == nil {
		return nil
	}
	return s.getEvent(c, id)
}
