package fakegoogle

// Event fields: id syntax, start/end parsing, validation and the fields Google sets
// (etag, updated, htmlLink, creator, organizer).

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"google.golang.org/api/calendar/v3"
)

var eventIDRe = regexp.MustCompile(`^[a-v0-9]+$`)

func validEventID(id string) bool {
	return len(id) >= 5 && len(id) <= 1024 && eventIDRe.MatchString(id)
}

func (s *Server) etag(seq int64) string { return fmt.Sprintf(`"%d"`, 3400000000000000+seq*1000) }

func googleTime(t time.Time) string { return t.UTC().Format(googleTimeLayout) }

// parsedTime is a resolved start or end.
type parsedTime struct {
	t      time.Time
	allDay bool
	loc    *time.Location
}

func parseEDT(e *calendar.EventDateTime, calLoc *time.Location, which string) (parsedTime, *apiError) {
	if e == nil || (e.Date == "" && e.DateTime == "") {
		return parsedTime{}, errf(400, "required", "Missing %s time.", which)
	}
	loc := calLoc
	if e.TimeZone != "" {
		l, err := time.LoadLocation(e.TimeZone)
		if err != nil || e.TimeZone == "Local" {
			return parsedTime{}, errf(400, "timeRangeEmpty", "Invalid time zone definition for %s time.", which)
		}
		loc = l
	}
	if e.Date != "" {
		if e.DateTime != "" {
			return parsedTime{}, errf(400, "invalid", "Invalid %s time: both date and dateTime set.", which)
		}
		t, err := time.Parse(dateLayout, e.Date)
		if err != nil {
			return parsedTime{}, errf(400, "invalid", "Invalid %s time.", which)
		}
		return parsedTime{t: t, allDay: true, loc: loc}, nil
	}
	t, err := time.Parse(time.RFC3339, e.DateTime)
	if err != nil {
		if e.TimeZone == "" {
			return parsedTime{}, errf(400, "invalid", "Invalid %s time.", which)
		}
		t, err = time.ParseInLocation("2006-01-02T15:04:05", e.DateTime, loc)
		if err != nil {
			return parsedTime{}, errf(400, "invalid", "Invalid %s time.", which)
		}
	}
	if t.Year() < 1900 || t.Year() > 2200 {
		return parsedTime{}, errf(400, "invalid", "Invalid %s time.", which)
	}
	return parsedTime{t: t, loc: loc}, nil
}

// instant of an all-day date in the calendar's zone (for filtering).
func (p parsedTime) instant(calLoc *time.Location) time.Time {
	if p.allDay {
		y, m, d := p.t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, calLoc)
	}
	return p.t
}

func fmtEDT(t time.Time, allDay bool, loc *time.Location, tz string) *calendar.EventDateTime {
	if allDay {
		return &calendar.EventDateTime{Date: t.Format(dateLayout)}
	}
	return &calendar.EventDateTime{DateTime: t.In(loc).Format(time.RFC3339), TimeZone: tz}
}

// validate checks and normalises an event before it is stored. Locked.
func (s *Server) validate(c *calData, ev *calendar.Event) *apiError {
	switch ev.Status {
	case "":
		ev.Status = "confirmed"
	case "confirmed", "tentative", "cancelled":
	default:
		return errf(400, "invalid", "Invalid value for status: %s", ev.Status)
	}
	switch ev.Transparency {
	case "", "opaque", "transparent":
	default:
		return errf(400, "invalid", "Invalid value for transparency.")
	}
	switch ev.EventType {
	case "":
		ev.EventType = "default"
	case "default", "workingLocation", "birthday", "outOfOffice", "focusTime", "fromGmail":
	default:
		return errf(400, "invalid", "Invalid event type.")
	}
	st, err := parseEDT(ev.Start, c.loc(), "start")
	if err != nil {
		return err
	}
	en, err := parseEDT(ev.End, c.loc(), "end")
	if err != nil {
		return err
	}
	if st.allDay != en.allDay {
		return errf(400, "invalid", "Start and end times must either both be date or both be dateTime.")
	}
	if en.t.Before(st.t) || (st.allDay && !en.t.After(st.t)) {
		return errf(400, "timeRangeEmpty", "The specified time range is empty.")
	}
	if len(ev.Recurrence) > 0 {
		if ev.RecurringEventId != "" {
			return errf(400, "invalid", "An instance of a recurring event cannot have a recurrence.")
		}
		if !st.allDay && ev.Start.TimeZone == "" {
			return errf(400, "invalid", "Missing time zone definition for start time.")
		}
		if !st.allDay && ev.End.TimeZone == "" {
			return errf(400, "invalid", "Missing time zone definition for end time.")
		}
		if _, perr := parseRecurrence(ev.Recurrence); perr != nil {
			return errf(400, "invalid", "Invalid recurrence rule: %v", perr)
		}
	}
	ev.Start = fmtEDT(st.t, st.allDay, st.loc, ev.Start.TimeZone)
	ev.End = fmtEDT(en.t, en.allDay, en.loc, ev.End.TimeZone)
	if len(ev.Summary) > 8192 || len(ev.Description) > 16384 || len(ev.Location) > 8192 {
		return errf(400, "invalid", "Field too long.")
	}
	return nil
}

func cloneEvent(ev *calendar.Event) *calendar.Event {
	b, _ := json.Marshal(ev)
	var out calendar.Event
	_ = json.Unmarshal(b, &out)
	return &out
}

func (s *Server) stamp(c *calData, ev *calendar.Event, seq int64, now time.Time) {
	ev.Kind = "calendar#event"
	ev.Etag = s.etag(seq)
	ev.Updated = googleTime(now)
	if ev.Created == "" {
		ev.Created = googleTime(now)
	}
	if ev.ICalUID == "" {
		ev.ICalUID = ev.Id + "@google.com"
	}
	ev.HtmlLink = "https://www.google.com/calendar/event?eid=" +
		base64.RawURLEncoding.EncodeToString([]byte(ev.Id+" "+c.id))
	email := c.owner
	if a := s.accounts[c.owner]; a != nil {
		email = a.Email
	}
	if ev.Creator == nil {
		ev.Creator = &calendar.EventCreator{Email: email, Self: true}
	}
	if ev.Organizer == nil {
		ev.Organizer = &calendar.EventOrganizer{Email: c.id, DisplayName: c.summary, Self: true}
	}
	if ev.Reminders == nil {
		ev.Reminders = &calendar.EventReminders{UseDefault: true}
	}
}
