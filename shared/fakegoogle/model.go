package fakegoogle

import "time"

// ModelEvent is one event as the fake holds it, in plain values (no calendar/v3 types),
// for test oracles that must share no code with the client under test.
type ModelEvent struct {
	ID               string
	RecurringEventID string // set on an instance of a series
	Status           string // confirmed, tentative or cancelled
	Summary          string
	Description      string
	AllDay           bool
	StartDate        string    // all-day: the calendar date the event starts on
	EndDate          string    // all-day: the date after its last day (exclusive)
	Start, End       time.Time // timed: the instants
	Transparency     string    // "", opaque or transparent
	EventType        string    // default, workingLocation, birthday, outOfOffice, focusTime, fromGmail
	SelfResponse     string    // responseStatus of the attendee entry with self=true ("" if none)
	Private          map[string]string
}

// ModelCalendar is a calendar's time zone and events (see Model).
type ModelCalendar struct {
	ID       string
	TimeZone string
	Events   []ModelEvent
}

// Model returns what a calendar holds now, as events.list with singleEvents=true and
// showDeleted=true would report it: single events, series expanded into their instances
// (exceptions applied, cancelled instances as tombstones) and deleted events as
// tombstones (status cancelled). ok is false for an unknown or deleted calendar.
func (s *Server) Model(calID string) (ModelCalendar, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calendars[calID]
	if c == nil || c.deleted {
		return ModelCalendar{}, false
	}
	out := ModelCalendar{ID: c.id, TimeZone: c.tz}
	loc := c.loc()
	for _, it := range s.collect(c, true, -1, true) {
		ev := it.ev
		m := ModelEvent{ID: ev.Id, RecurringEventID: ev.RecurringEventId, Status: ev.Status,
			Summary: ev.Summary, Description: ev.Description, Transparency: ev.Transparency,
			EventType: ev.EventType}
		for _, a := range ev.Attendees {
			if a != nil && a.Self {
				m.SelfResponse = a.ResponseStatus
			}
		}
		if ev.ExtendedProperties != nil && len(ev.ExtendedProperties.Private) > 0 {
			m.Private = map[string]string{}
			for k, v := range ev.ExtendedProperties.Private {
				m.Private[k] = v
			}
		}
		st, err1 := parseEDT(ev.Start, loc, "start")
		en, err2 := parseEDT(ev.End, loc, "end")
		if err1 == nil && err2 == nil {
			if st.allDay {
				m.AllDay = true
				m.StartDate, m.EndDate = st.t.Format(dateLayout), en.t.Format(dateLayout)
			} else {
				m.Start, m.End = st.t, en.t
			}
		}
		out.Events = append(out.Events, m)
	}
	return out, true
}
