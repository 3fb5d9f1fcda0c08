package fakegoogle

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
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

// ---- calendars ----

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

// ---- calendarList ----

func (s *Server) apiCall(w http.ResponseWriter, r *http.Request, op, cal string, scopes ...string) (*caller, bool) {
	c, aerr := s.authenticate(r)
	if aerr != nil {
		s.takeFault(op, cal, "")
		writeErr(w, aerr)
		return nil, false
	}
	f, empty := s.takeFault(op, cal, c.key)
	c.emptyPages = empty
	if f != nil {
		writeErr(w, faultError(f, op))
		return nil, false
	}
	if err := s.checkRate(c.key); err != nil {
		writeErr(w, err)
		return nil, false
	}
	if !hasAny(c.scopes, scopes...) {
		writeErr(w, &apiError{code: 403, reason: "insufficientPermissions", message: msgInsufficientScopes})
		return nil, false
	}
	return c, true
}

func (s *Server) checkRate(acct string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rateLimit > 0 && s.callsByMin[callKey{acct, s.now().Truncate(time.Minute)}] > s.rateLimit {
		return &apiError{code: 403, reason: "rateLimitExceeded", message: "Rate Limit Exceeded"}
	}
	return nil
}

var (
	scopesCalendarList = []string{ScopeCalendar, ScopeCalendarReadonly, ScopeCalendarListReadonly, ScopeCalendarList}
	scopesEventsRead   = []string{ScopeCalendar, ScopeCalendarReadonly, ScopeCalendarEvents, ScopeCalendarEventsReadonly}
	scopesEventsWrite  = []string{ScopeCalendar, ScopeCalendarEvents}
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
	writeJSON(w, 200, resp)
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
	s.mu.Lock()
	defer s.mu.Unlock()
	cd, err := s.calendarFor(c, id)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, 200, s.entryForLocked(cd, c.key))
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

func intParam(v string, def, max int) (int, *apiError) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, errf(400, "invalid", "Invalid value '%s'. Values must match the following regular expression: '[1-9][0-9]*'", v)
	}
	return min(n, max), nil
}

// ---- paging ----

type pageState struct {
	kind, owner, cal string
	items            []json.RawMessage
	pos, max         int
	emptyLeft        int
	syncToken        string
	page             int // pages handed out so far (listhook.go)
}

// nextPage hands out the next page and registers a new page token if more follows.
// Locked.
func (s *Server) nextPage(ps *pageState) ([]json.RawMessage, string) {
	ps.page++
	items := []json.RawMessage{}
	if ps.emptyLeft > 0 {
		ps.emptyLeft--
	} else {
		end := min(ps.pos+ps.max, len(ps.items))
		items = append(items, ps.items[ps.pos:end]...)
		ps.pos = end
	}
	if ps.pos >= len(ps.items) && ps.emptyLeft == 0 {
		return items, ""
	}
	tok := randomString(pageTokenRandomLen, tokenChrs)
	if len(s.pages) > 10000 {
		clear(s.pages)
	}
	snap := *ps
	s.pages[tok] = &snap
	return items, tok
}

// ---- events: shared write logic ----

var eventIDRe = regexp.MustCompile(`^[a-v0-9]+$`)

func validEventID(id string) bool {
	return len(id) >= 5 && len(id) <= 1024 && eventIDRe.MatchString(id)
}

type syncTokenState struct {
	cal   string
	seq   int64
	epoch int
}

// InvalidateSyncTokens makes every sync token of the calendar answer 410.
func (s *Server) InvalidateSyncTokens(calID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calendars[calID]
	if c == nil {
		return ctlErr(404, "unknown_calendar", "no such calendar")
	}
	c.epoch++
	return nil
}

func (s *Server) etag(seq int64) string { return fmt.Sprintf(`"%d"`, 3400000000000000+seq*1000) }

func googleTime(t time.Time) string { return t.UTC().Format(googleTimeLayout) }

func (c *calData) loc() *time.Location {
	l, err := time.LoadLocation(c.tz)
	if err != nil {
		return time.UTC
	}
	return l
}

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

// series returns the original start instants of a master's instances, up to the
// expansion horizon. Locked.
func (s *Server) series(c *calData, ev *calendar.Event) ([]time.Time, parsedTime, time.Duration) {
	st, err := parseEDT(ev.Start, c.loc(), "start")
	if err != nil {
		return nil, st, 0
	}
	en, err := parseEDT(ev.End, c.loc(), "end")
	if err != nil {
		return nil, st, 0
	}
	rc, perr := parseRecurrence(ev.Recurrence)
	if perr != nil {
		return nil, st, 0
	}
	limit := s.now().Add(ExpansionHorizon)
	return rc.expand(st.t, st.allDay, st.loc, limit, maxInstancesPerSeries), st, en.t.Sub(st.t)
}

func instanceID(master string, t time.Time, allDay bool) string {
	if allDay {
		return master + "_" + t.Format(instanceIDDateLayout)
	}
	return master + "_" + t.UTC().Format(instanceIDTimeLayout)
}

// instanceOf builds the instance of master starting originally at t. Locked.
func (s *Server) instanceOf(master *eventRec, st parsedTime, dur time.Duration, t time.Time) *calendar.Event {
	ev := cloneEvent(master.ev)
	ev.Id = instanceID(master.ev.Id, t, st.allDay)
	ev.RecurringEventId = master.ev.Id
	ev.Recurrence = nil
	tz := master.ev.Start.TimeZone
	ev.OriginalStartTime = fmtEDT(t, st.allDay, st.loc, tz)
	ev.Start = fmtEDT(t, st.allDay, st.loc, tz)
	if st.allDay {
		days := int(math.Round(dur.Hours() / 24))
		ev.End = fmtEDT(t.AddDate(0, 0, days), true, st.loc, "")
	} else {
		ev.End = fmtEDT(t.Add(dur), false, st.loc, master.ev.End.TimeZone)
	}
	return ev
}

// instanceIDs maps instance id → instance for a master (nil/deleted master → empty).
func (s *Server) instanceMap(c *calData, master *eventRec) map[string]*calendar.Event {
	out := map[string]*calendar.Event{}
	if master == nil || master.cancelled() || len(master.ev.Recurrence) == 0 {
		return out
	}
	starts, st, dur := s.series(c, master.ev)
	for _, t := range starts {
		ev := s.instanceOf(master, st, dur, t)
		out[ev.Id] = ev
	}
	return out
}

// reconcileInstances records instance tombstones for instances a series change made
// disappear and removes automatic tombstones of instances that exist again. Locked.
func (s *Server) reconcileInstances(c *calData, before, after map[string]*calendar.Event, seq int64, now time.Time) {
	for id, old := range before {
		if _, ok := after[id]; ok {
			continue
		}
		rec := c.events[id]
		if rec == nil {
			tomb := cloneEvent(old)
			tomb.Status = "cancelled"
			s.stamp(c, tomb, seq, now)
			c.events[id] = &eventRec{ev: tomb, seq: seq, vanished: true}
		} else if !rec.cancelled() {
			rec.ev.Status = "cancelled"
			rec.seq = seq
			s.stamp(c, rec.ev, seq, now)
			rec.vanished = true
		}
	}
	for id := range after {
		if rec := c.events[id]; rec != nil && rec.vanished {
			delete(c.events, id)
		}
	}
}

// resolveInstance finds the series instance id → (master, instance). Locked.
func (s *Server) resolveInstance(c *calData, id string) (*eventRec, *calendar.Event) {
	i := strings.LastIndexByte(id, '_')
	if i <= 0 {
		return nil, nil
	}
	master := c.events[id[:i]]
	if master == nil || master.cancelled() || len(master.ev.Recurrence) == 0 {
		return nil, nil
	}
	return master, s.instanceMap(c, master)[id]
}

// insertEvent stores a new event. Locked.
func (s *Server) insertEvent(c *calData, ev *calendar.Event) (*calendar.Event, *apiError) {
	if ev.Id != "" {
		if !validEventID(ev.Id) {
			return nil, errf(400, "invalid", "Invalid resource id value.")
		}
	} else {
		ev.Id = randomString(26, b32hex)
	}
	if _, ok := c.events[ev.Id]; ok {
		return nil, errf(409, "duplicate", "The requested identifier already exists.")
	}
	ev.RecurringEventId, ev.OriginalStartTime = "", nil
	ev.Created, ev.Updated, ev.Etag, ev.HtmlLink, ev.ICalUID = "", "", "", "", ""
	ev.Creator, ev.Organizer = nil, nil
	ev.Sequence = 0
	if err := s.validate(c, ev); err != nil {
		return nil, err
	}
	s.seq++
	now := s.now()
	s.stamp(c, ev, s.seq, now)
	rec := &eventRec{ev: ev, seq: s.seq}
	c.events[ev.Id] = rec
	if len(ev.Recurrence) > 0 && !rec.cancelled() {
		s.reconcileInstances(c, nil, s.instanceMap(c, rec), s.seq, now)
	}
	return cloneEvent(ev), nil
}

// mergeJSON applies a patch: objects merge recursively, null removes, the rest replaces.
func mergeJSON(dst, patch map[string]any) {
	for k, v := range patch {
		if v == nil {
			delete(dst, k)
			continue
		}
		if pm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeJSON(dm, pm)
				continue
			}
		}
		dst[k] = v
	}
}

// changeEvent patches (replace=false) or updates (replace=true) an event or an
// instance of a series. Locked.
func (s *Server) changeEvent(c *calData, id string, body []byte, replace bool) (*calendar.Event, *apiError) {
	var patch map[string]any
	if err := json.Unmarshal(body, &patch); err != nil || patch == nil {
		return nil, errf(400, "parseError", "Parse Error")
	}
	if pid, ok := patch["id"]; ok && pid != id {
		return nil, errf(400, "invalid", "The id cannot be changed.")
	}
	rec := c.events[id]
	var master *eventRec
	if rec == nil {
		m, inst := s.resolveInstance(c, id)
		if inst == nil {
			return nil, errf(404, "notFound", "Not Found")
		}
		master = m
		rec = &eventRec{ev: inst}
	} else if rec.ev.RecurringEventId != "" {
		master = c.events[rec.ev.RecurringEventId]
		if master == nil || master.cancelled() {
			return nil, errf(410, "deleted", "Resource has been deleted")
		}
	}
	if rec.cancelled() {
		if st, _ := patch["status"].(string); st != "confirmed" && st != "tentative" {
			if rec.vanished || rec.ev.RecurringEventId == "" {
				return nil, errf(410, "deleted", "Resource has been deleted")
			}
		}
	}
	old := rec.ev
	var base map[string]any
	b, _ := json.Marshal(old)
	_ = json.Unmarshal(b, &base)
	if replace {
		keep := map[string]any{}
		for _, k := range []string{"id", "kind", "created", "iCalUID", "creator", "organizer", "recurringEventId", "originalStartTime", "sequence", "htmlLink"} {
			if v, ok := base[k]; ok {
				keep[k] = v
			}
		}
		base = keep
	}
	for _, k := range []string{"kind", "etag", "created", "updated", "htmlLink", "iCalUID", "recurringEventId", "originalStartTime", "creator", "organizer"} {
		delete(patch, k)
	}
	mergeJSON(base, patch)
	nb, _ := json.Marshal(base)
	var ev calendar.Event
	if err := json.Unmarshal(nb, &ev); err != nil {
		return nil, errf(400, "invalid", "Invalid event: %v", err)
	}
	ev.Id = id
	if master != nil && len(ev.Recurrence) > 0 {
		return nil, errf(400, "invalid", "An instance of a recurring event cannot have a recurrence.")
	}
	if err := s.validate(c, &ev); err != nil {
		return nil, err
	}
	var before map[string]*calendar.Event
	isMaster := master == nil && (len(old.Recurrence) > 0 || len(ev.Recurrence) > 0)
	if isMaster {
		before = s.instanceMap(c, rec)
	}
	if !jsonEqual(old.Start, ev.Start) || !jsonEqual(old.End, ev.End) || !slices.Equal(old.Recurrence, ev.Recurrence) {
		ev.Sequence = old.Sequence + 1
	}
	s.seq++
	now := s.now()
	s.stamp(c, &ev, s.seq, now)
	nrec := &eventRec{ev: &ev, seq: s.seq}
	c.events[id] = nrec
	if isMaster {
		s.reconcileInstances(c, before, s.instanceMap(c, nrec), s.seq, now)
	}
	return cloneEvent(&ev), nil
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// deleteEvent deletes an event, a series (and its instances) or one instance. Locked.
func (s *Server) deleteEvent(c *calData, id string) *apiError {
	rec := c.events[id]
	now := s.now()
	if rec == nil {
		_, inst := s.resolveInstance(c, id)
		if inst == nil {
			return errf(404, "notFound", "Not Found")
		}
		s.seq++
		inst.Status = "cancelled"
		s.stamp(c, inst, s.seq, now)
		c.events[id] = &eventRec{ev: inst, seq: s.seq}
		return nil
	}
	if rec.cancelled() {
		return errf(410, "deleted", "Resource has been deleted")
	}
	var before map[string]*calendar.Event
	if len(rec.ev.Recurrence) > 0 {
		before = s.instanceMap(c, rec)
	}
	s.seq++
	ev := cloneEvent(rec.ev)
	ev.Status = "cancelled"
	s.stamp(c, ev, s.seq, now)
	c.events[id] = &eventRec{ev: ev, seq: s.seq}
	if before != nil {
		s.reconcileInstances(c, before, nil, s.seq, now)
	}
	return nil
}

// ---- listing ----

type listItem struct {
	ev         *calendar.Event
	start, end time.Time // zero = unknown
	seq        int64
}

type cancelledEvent struct {
	Kind              string                  `json:"kind"`
	Etag              string                  `json:"etag"`
	ID                string                  `json:"id"`
	Status            string                  `json:"status"`
	RecurringEventID  string                  `json:"recurringEventId,omitempty"`
	OriginalStartTime *calendar.EventDateTime `json:"originalStartTime,omitempty"`
}

// wire is how an event is returned in a list: cancelled ones carry only their id.
func wire(ev *calendar.Event) any {
	if ev.Status == "cancelled" {
		return cancelledEvent{Kind: "calendar#event", Etag: ev.Etag, ID: ev.Id, Status: "cancelled",
			RecurringEventID: ev.RecurringEventId, OriginalStartTime: ev.OriginalStartTime}
	}
	return ev
}

func (s *Server) spanOf(c *calData, ev *calendar.Event) (time.Time, time.Time) {
	st, err := parseEDT(ev.Start, c.loc(), "start")
	if err != nil {
		return time.Time{}, time.Time{}
	}
	en, err := parseEDT(ev.End, c.loc(), "end")
	if err != nil {
		return time.Time{}, time.Time{}
	}
	return st.instant(c.loc()), en.instant(c.loc())
}

// collect lists what a calendar holds, as events.list would before filtering.
// since < 0 = full listing. Locked.
func (s *Server) collect(c *calData, single bool, since int64, showDeleted bool) []listItem {
	var out []listItem
	add := func(ev *calendar.Event, seq int64, start, end time.Time) {
		if since >= 0 && seq <= since {
			return
		}
		if ev.Status == "cancelled" && since < 0 && !showDeleted {
			return
		}
		out = append(out, listItem{ev: ev, seq: seq, start: start, end: end})
	}
	handled := map[string]bool{}
	ids := sortedKeys(c.events)
	if single {
		for _, id := range ids {
			m := c.events[id]
			if len(m.ev.Recurrence) == 0 || m.cancelled() {
				continue
			}
			starts, st, dur := s.series(c, m.ev)
			for _, t := range starts {
				iid := instanceID(id, t, st.allDay)
				handled[iid] = true
				if exc := c.events[iid]; exc != nil {
					a, b := s.spanOf(c, exc.ev)
					add(exc.ev, max(exc.seq, m.seq), a, b)
					continue
				}
				inst := s.instanceOf(m, st, dur, t)
				a, b := s.spanOf(c, inst)
				add(inst, m.seq, a, b)
			}
		}
	}
	for _, id := range ids {
		rec := c.events[id]
		if handled[id] {
			continue
		}
		if single && len(rec.ev.Recurrence) > 0 {
			continue
		}
		if !single && rec.vanished {
			continue
		}
		a, b := s.spanOf(c, rec.ev)
		if !single && len(rec.ev.Recurrence) > 0 {
			if rc, err := parseRecurrence(rec.ev.Recurrence); err == nil && !rc.bounded() {
				b = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
			} else if starts, st, dur := s.series(c, rec.ev); len(starts) > 0 {
				last := s.instanceOf(rec, st, dur, starts[len(starts)-1])
				_, b = s.spanOf(c, last)
			}
		}
		add(rec.ev, rec.seq, a, b)
	}
	return out
}

type listParams struct {
	single, showDeleted      bool
	timeMin, timeMax, updMin time.Time
	q, iCalUID, orderBy      string
}

func parseTimeParam(q map[string][]string, name string) (time.Time, *apiError) {
	v := ""
	if vs := q[name]; len(vs) > 0 {
		v = vs[0]
	}
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, errf(400, "badRequest", "Bad Request")
	}
	return t, nil
}

func boolParam(v string) (bool, *apiError) {
	switch v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, errf(400, "invalidBoolean", "Invalid boolean value: '%s'.", v)
}

func filterSort(items []listItem, p listParams) []listItem {
	var out []listItem
	ql := strings.ToLower(p.q)
	for _, it := range items {
		if !p.timeMin.IsZero() && !it.end.IsZero() && !it.end.After(p.timeMin) {
			continue
		}
		if !p.timeMax.IsZero() && !it.start.IsZero() && !it.start.Before(p.timeMax) {
			continue
		}
		if !p.updMin.IsZero() {
			u, err := time.Parse(time.RFC3339, it.ev.Updated)
			if err == nil && u.Before(p.updMin) {
				continue
			}
		}
		if ql != "" && !strings.Contains(strings.ToLower(it.ev.Summary+"\n"+it.ev.Description+"\n"+it.ev.Location), ql) {
			continue
		}
		if p.iCalUID != "" && it.ev.ICalUID != p.iCalUID {
			continue
		}
		out = append(out, it)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if p.orderBy == "updated" {
			if a.ev.Updated != b.ev.Updated {
				return a.ev.Updated < b.ev.Updated
			}
			return a.seq < b.seq
		}
		if !a.start.Equal(b.start) {
			return a.start.Before(b.start)
		}
		return a.ev.Id < b.ev.Id
	})
	return out
}

// ---- events HTTP ----

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

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	calID := r.PathValue("cal")
	c, ok := s.apiCall(w, r, "events.list", calID, scopesEventsRead...)
	if !ok {
		return
	}
	if aerr := s.runListHook(calID, r.URL.Query()); aerr != nil {
		writeErr(w, aerr)
		return
	}
	q := r.URL.Query()
	max, aerr := intParam(q.Get("maxResults"), defaultEventsMaxResults, maxEventsMaxResults)
	if aerr != nil {
		writeErr(w, aerr)
		return
	}
	var p listParams
	var err *apiError
	if p.single, err = boolParam(q.Get("singleEvents")); err != nil {
		writeErr(w, err)
		return
	}
	if p.showDeleted, err = boolParam(q.Get("showDeleted")); err != nil {
		writeErr(w, err)
		return
	}
	for name, dst := range map[string]*time.Time{"timeMin": &p.timeMin, "timeMax": &p.timeMax, "updatedMin": &p.updMin} {
		if *dst, err = parseTimeParam(q, name); err != nil {
			writeErr(w, err)
			return
		}
	}
	p.q, p.iCalUID, p.orderBy = q.Get("q"), q.Get("iCalUID"), q.Get("orderBy")
	switch p.orderBy {
	case "", "updated":
	case "startTime":
		if !p.single {
			writeErr(w, errf(400, "badRequest", "The requested ordering is not available for the particular query."))
			return
		}
	default:
		writeErr(w, errf(400, "invalidParameter", "Invalid value for orderBy."))
		return
	}
	syncTok := q.Get("syncToken")
	if syncTok != "" {
		for _, bad := range []string{"timeMin", "timeMax", "q", "orderBy", "updatedMin", "iCalUID"} {
			if q.Has(bad) {
				writeErr(w, errf(400, "invalid", "Sync token cannot be used with %s.", bad))
				return
			}
		}
	}
	if !p.timeMin.IsZero() && !p.timeMax.IsZero() && !p.timeMax.After(p.timeMin) {
		writeErr(w, errf(400, "timeRangeEmpty", "The specified time range is empty."))
		return
	}
	s.mu.Lock()
	cd, aerr := s.calendarFor(c, calID)
	if aerr != nil {
		s.mu.Unlock()
		writeErr(w, aerr)
		return
	}
	var ps *pageState
	if pt := q.Get("pageToken"); pt != "" {
		ps = s.pages[pt]
		if ps == nil || ps.kind != "events" || ps.cal != cd.id || ps.owner != c.key {
			s.mu.Unlock()
			writeErr(w, errf(400, "invalid", "Invalid page token value."))
			return
		}
		cp := *ps // page tokens can be reused (retries)
		ps = &cp
		if q.Get("maxResults") != "" {
			ps.max = max
		}
	} else {
		since := int64(-1)
		if syncTok != "" {
			st := s.syncTokens[syncTok]
			if st == nil || st.cal != cd.id || st.epoch != cd.epoch {
				s.mu.Unlock()
				writeErr(w, errf(410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required."))
				return
			}
			since = st.seq
			p.showDeleted = true
		}
		items := filterSort(s.collect(cd, p.single, since, p.showDeleted), p)
		ps = &pageState{kind: "events", owner: c.key, cal: cd.id, max: max, emptyLeft: c.emptyPages}
		for _, it := range items {
			b, _ := json.Marshal(wire(s.redactLocked(c.key, cd, it.ev)))
			ps.items = append(ps.items, b)
		}
		ps.syncToken = "CP" + randomString(syncTokenRandomLen, tokenChrs)
		if len(s.syncTokens) > 100000 {
			clear(s.syncTokens)
		}
		s.syncTokens[ps.syncToken] = &syncTokenState{cal: cd.id, seq: s.seq, epoch: cd.epoch}
	}
	items, next := s.nextPage(ps)
	resp := map[string]any{
		"kind": "calendar#events", "etag": s.etag(s.seq), "summary": cd.summary, "description": cd.description,
		"updated": googleTime(s.now()), "timeZone": cd.tz, "accessRole": s.roleLocked(c.key, cd),
		"defaultReminders": []any{}, "items": items,
	}
	if next != "" {
		resp["nextPageToken"] = next
	} else {
		resp["nextSyncToken"] = ps.syncToken
	}
	s.mu.Unlock()
	writeJSON(w, 200, resp)
}

func (s *Server) insertHTTP(w http.ResponseWriter, r *http.Request) {
	calID := r.PathValue("cal")
	c, ok := s.apiCall(w, r, "events.insert", calID, scopesEventsWrite...)
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
	writeJSON(w, 200, out)
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
		writeJSON(w, 200, ev)
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
		writeJSON(w, 200, out)
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
	writeJSON(w, 200, map[string]any{"kind": "calendar#events", "summary": cd.summary, "timeZone": cd.tz,
		"accessRole": "owner", "defaultReminders": []any{}, "items": out})
}
