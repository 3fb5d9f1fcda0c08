package fakegoogle

// Calendars: what the fake holds for each calendar and event id, and the Go control
// methods that create, change, delete and list calendars.

import (
	"regexp"
	"strings"
	"time"

	"google.golang.org/api/calendar/v3"
)

type calData struct {
	id, owner, summary, description string
	bg, fg, colorID, tz             string
	primary, deleted                bool
	resourceID                      string
	epoch                           int
	events                          map[string]*eventRec
}

// eventRec is what the fake holds for one event id: a single event, a series master,
// an exception instance of a series (ev.RecurringEventId set) or a tombstone.
type eventRec struct {
	ev       *calendar.Event // last content; Status "cancelled" for tombstones
	seq      int64
	vanished bool // instance tombstone created because its series no longer has it
}

func (e *eventRec) cancelled() bool { return e.ev.Status == "cancelled" }

// CalendarSpec creates or describes a calendar.
type CalendarSpec struct {
	Email           string `json:"email"` // owner account
	ID              string `json:"id,omitempty"`
	Summary         string `json:"summary"`
	Description     string `json:"description,omitempty"`
	BackgroundColor string `json:"backgroundColor,omitempty"`
	ForegroundColor string `json:"foregroundColor,omitempty"`
	ColorID         string `json:"colorId,omitempty"`
	TimeZone        string `json:"timeZone,omitempty"`
	Primary         bool   `json:"primary,omitempty"`
	ResourceID      string `json:"resourceId,omitempty"` // output only
	Deleted         bool   `json:"deleted,omitempty"`    // output only
}

var colorRe = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// CreateCalendar adds a calendar owned by spec.Email.
func (s *Server) CreateCalendar(spec CalendarSpec) (CalendarSpec, error) {
	if spec.TimeZone == "" {
		spec.TimeZone = defaultCalendarTimeZone
	}
	if _, err := time.LoadLocation(spec.TimeZone); err != nil {
		return spec, ctlErr(400, "invalid_time_zone", "unknown time zone")
	}
	if spec.BackgroundColor == "" {
		spec.BackgroundColor = defaultBackgroundColor
	}
	if spec.ForegroundColor == "" {
		spec.ForegroundColor = defaultForegroundColor
	}
	if !colorRe.MatchString(spec.BackgroundColor) || !colorRe.MatchString(spec.ForegroundColor) {
		return spec, ctlErr(400, "invalid_color", "colours must look like #a1b2c3")
	}
	if spec.ColorID == "" {
		spec.ColorID = defaultColorID
	}
	if len(spec.Summary) > 1024 || len(spec.ID) > 1024 || len(spec.Description) > 8192 {
		return spec, ctlErr(400, "field_too_long", "field too long")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	owner := strings.ToLower(spec.Email)
	a := s.accounts[owner]
	if a == nil {
		return spec, ctlErr(404, "unknown_account", "no account with this e-mail")
	}
	if spec.Primary {
		for _, c := range s.calendars {
			if c.owner == owner && c.primary && !c.deleted {
				return spec, ctlErr(409, "primary_exists", "the account already has a primary calendar")
			}
		}
		if spec.ID == "" {
			spec.ID = a.Email
		}
		if spec.Summary == "" {
			spec.Summary = a.Email
		}
	}
	if spec.ID == "" {
		spec.ID = randomString(26, b32hex) + "@group.calendar.google.com"
	}
	if strings.ContainsAny(spec.ID, "/?") || strings.TrimSpace(spec.ID) == "" || spec.ID == "primary" {
		return spec, ctlErr(400, "invalid_id", "calendar id must not contain / or ?")
	}
	if _, ok := s.calendars[spec.ID]; ok {
		return spec, ctlErr(409, "calendar_exists", "a calendar with this id exists")
	}
	c := &calData{id: spec.ID, owner: owner, summary: spec.Summary, description: spec.Description,
		bg: spec.BackgroundColor, fg: spec.ForegroundColor, colorID: spec.ColorID, tz: spec.TimeZone,
		primary: spec.Primary, resourceID: randomString(calendarResourceIDLen, tokenChrs),
		events: map[string]*eventRec{}}
	s.calendars[c.id] = c
	s.calOrder = append(s.calOrder, c.id)
	spec.Email = a.Email
	spec.ResourceID = c.resourceID
	return spec, nil
}

// CalendarPatch changes a calendar (nil fields stay).
type CalendarPatch struct {
	Summary         *string `json:"summary,omitempty"`
	Description     *string `json:"description,omitempty"`
	BackgroundColor *string `json:"backgroundColor,omitempty"`
	ForegroundColor *string `json:"foregroundColor,omitempty"`
	ColorID         *string `json:"colorId,omitempty"`
	TimeZone        *string `json:"timeZone,omitempty"`
}

// UpdateCalendar renames/recolours a calendar.
func (s *Server) UpdateCalendar(id string, p CalendarPatch) (CalendarSpec, error) {
	if p.TimeZone != nil {
		if _, err := time.LoadLocation(*p.TimeZone); err != nil || *p.TimeZone == "" {
			return CalendarSpec{}, ctlErr(400, "invalid_time_zone", "unknown time zone")
		}
	}
	for _, c := range []*string{p.BackgroundColor, p.ForegroundColor} {
		if c != nil && !colorRe.MatchString(*c) {
			return CalendarSpec{}, ctlErr(400, "invalid_color", "colours must look like #a1b2c3")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calendars[id]
	if c == nil || c.deleted {
		return CalendarSpec{}, ctlErr(404, "unknown_calendar", "no such calendar")
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&c.summary, p.Summary)
	set(&c.description, p.Description)
	set(&c.bg, p.BackgroundColor)
	set(&c.fg, p.ForegroundColor)
	set(&c.colorID, p.ColorID)
	set(&c.tz, p.TimeZone)
	return s.specOf(c), nil
}

// DeleteCalendar deletes a calendar: its events and list calls answer 404 afterwards.
func (s *Server) DeleteCalendar(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calendars[id]
	if c == nil || c.deleted {
		return ctlErr(404, "unknown_calendar", "no such calendar")
	}
	c.deleted = true
	return nil
}

// Calendars lists every calendar (deleted ones flagged).
func (s *Server) Calendars() []CalendarSpec {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []CalendarSpec{}
	for _, id := range s.calOrder {
		out = append(out, s.specOf(s.calendars[id]))
	}
	return out
}

func (s *Server) specOf(c *calData) CalendarSpec {
	email := c.owner
	if a := s.accounts[c.owner]; a != nil {
		email = a.Email
	}
	return CalendarSpec{Email: email, ID: c.id, Summary: c.summary, Description: c.description,
		BackgroundColor: c.bg, ForegroundColor: c.fg, ColorID: c.colorID, TimeZone: c.tz,
		Primary: c.primary, ResourceID: c.resourceID, Deleted: c.deleted}
}

func (c *calData) loc() *time.Location {
	l, err := time.LoadLocation(c.tz)
	if err != nil {
		return time.UTC
	}
	return l
}
