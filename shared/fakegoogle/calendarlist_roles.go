package fakegoogle

// Calendar-list entries beyond "the owner's own, visible calendar" (issue 15, items 1–3):
// hidden entries, calendars shared with another account in a role (owner, writer,
// reader, freeBusyReader), entries removed from a list (deleted), what a reader or a
// free/busy reader sees of an event, and generated calendars that cannot be watched.
// Sources for each behaviour: README.md, "Calendar list, access roles and push limits".

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/api/calendar/v3"
)

// Access roles of a calendar-list entry (CalendarListEntry.accessRole).
const (
	RoleOwner          = "owner"
	RoleWriter         = "writer"
	RoleReader         = "reader"
	RoleFreeBusyReader = "freeBusyReader"
)

// membership is one account's calendar-list entry for a calendar: its role (for a
// calendar it does not own), whether it is hidden in the sidebar and whether it was
// removed from the list.
type membership struct {
	role    string
	hidden  bool
	removed bool
}

// memberLocked returns the account's entry for a calendar (nil: none). Locked.
func (s *Server) memberLocked(acct, calID string) *membership {
	return s.members[acct][calID]
}

func (s *Server) memberForLocked(acct, calID string) *membership {
	if s.members == nil {
		s.members = map[string]map[string]*membership{}
	}
	if s.members[acct] == nil {
		s.members[acct] = map[string]*membership{}
	}
	m := s.members[acct][calID]
	if m == nil {
		m = &membership{}
		s.members[acct][calID] = m
	}
	return m
}

// roleLocked is the caller's access role on a calendar ("" = no access). Locked.
func (s *Server) roleLocked(acct string, c *calData) string {
	if c.owner == acct {
		return RoleOwner
	}
	if m := s.memberLocked(acct, c.id); m != nil {
		return m.role
	}
	return ""
}

// ShareCalendar gives the account with e-mail email access to the calendar calID in
// role (owner, writer, reader, freeBusyReader) and adds it to that account's calendar
// list, as accepting a shared calendar or subscribing to one does. role "" removes the
// access again (the entry disappears from the list).
func (s *Server) ShareCalendar(calID, email, role string) error {
	switch role {
	case "", RoleOwner, RoleWriter, RoleReader, RoleFreeBusyReader:
	default:
		return ctlErr(400, "invalid_role", "role must be owner, writer, reader or freeBusyReader")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calendars[calID]
	if c == nil || c.deleted {
		return ctlErr(404, "unknown_calendar", "no such calendar")
	}
	acct := strings.ToLower(email)
	if s.accounts[acct] == nil {
		return ctlErr(404, "unknown_account", "no account with this e-mail")
	}
	if acct == c.owner {
		return ctlErr(400, "is_owner", "the account owns this calendar")
	}
	if role == "" {
		delete(s.members[acct], calID)
		return nil
	}
	m := s.memberForLocked(acct, calID)
	m.role, m.removed = role, false
	return nil
}

// ListEntryPatch changes one account's calendar-list entry (nil fields stay).
type ListEntryPatch struct {
	// Hidden hides the entry in Google Calendar's sidebar: calendarList.list omits it
	// unless showHidden=true, and then returns it with "hidden": true.
	Hidden *bool `json:"hidden,omitempty"`
	// Removed takes the entry off the list (the user removed or unsubscribed from the
	// calendar): calendarList.list omits it unless showDeleted=true, and then returns it
	// with "deleted": true. Only for calendars the account does not own.
	Removed *bool `json:"removed,omitempty"`
}

// SetListEntry changes the calendar-list entry of calID in email's list.
func (s *Server) SetListEntry(email, calID string, p ListEntryPatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	acct := strings.ToLower(email)
	c := s.calendars[calID]
	if c == nil || c.deleted || s.roleLocked(acct, c) == "" {
		return ctlErr(404, "unknown_entry", "no such calendar in this account's list")
	}
	if p.Removed != nil && c.owner == acct {
		return ctlErr(400, "is_owner", "an owned calendar cannot be removed from its owner's list; delete it")
	}
	m := s.memberForLocked(acct, calID)
	if m.role == "" && c.owner == acct {
		m.role = RoleOwner
	}
	if p.Hidden != nil {
		m.hidden = *p.Hidden
	}
	if p.Removed != nil {
		m.removed = *p.Removed
	}
	return nil
}

// entryForLocked is calID's calendar-list entry as acct sees it. Locked.
func (s *Server) entryForLocked(c *calData, acct string) calendarListEntry {
	e := entryOf(c)
	e.AccessRole = s.roleLocked(acct, c)
	if c.owner != acct {
		e.Primary = false
	}
	if m := s.memberLocked(acct, c.id); m != nil {
		e.Hidden = m.hidden
		e.Deleted = m.removed
	}
	return e
}

// listEntriesLocked builds acct's calendar list: owned calendars and calendars shared
// with it, hidden entries only with showHidden, removed ones only with showDeleted.
// Locked.
func (s *Server) listEntriesLocked(acct string, showHidden, showDeleted bool) []json.RawMessage {
	var out []json.RawMessage
	for _, id := range s.calOrder {
		cd := s.calendars[id]
		if cd.deleted || s.roleLocked(acct, cd) == "" {
			continue
		}
		e := s.entryForLocked(cd, acct)
		if (e.Hidden && !showHidden) || (e.Deleted && !showDeleted) {
			continue
		}
		b, _ := json.Marshal(e)
		out = append(out, b)
	}
	return out
}

// canWriteLocked refuses writes through a reader or free/busy reader role. Locked.
func (s *Server) canWriteLocked(acct string, c *calData) *apiError {
	switch s.roleLocked(acct, c) {
	case RoleOwner, RoleWriter:
		return nil
	}
	return errf(403, "requiredAccessLevel", "You need to have writer access to this calendar.")
}

// redactLocked is what acct may see of an event: everything for owner and writer; for a
// reader, a private event without its details; for a free/busy reader, every event
// without its details. What stays is the time, the status, whether it blocks time and
// the bookkeeping ids — no summary, description, location, attendees, organizer,
// creator, links or extended properties. Locked.
func (s *Server) redactLocked(acct string, c *calData, ev *calendar.Event) *calendar.Event {
	if ev == nil || ev.Status == "cancelled" {
		return ev
	}
	switch role := s.roleLocked(acct, c); {
	case role == RoleFreeBusyReader:
	case role == RoleReader && (ev.Visibility == "private" || ev.Visibility == "confidential"):
	default:
		return ev
	}
	return &calendar.Event{
		Kind: ev.Kind, Etag: ev.Etag, Id: ev.Id, Status: ev.Status, ICalUID: ev.ICalUID,
		Created: ev.Created, Updated: ev.Updated, Sequence: ev.Sequence,
		Start: ev.Start, End: ev.End, EndTimeUnspecified: ev.EndTimeUnspecified,
		RecurringEventId: ev.RecurringEventId, OriginalStartTime: ev.OriginalStartTime,
		Transparency: ev.Transparency, Visibility: ev.Visibility, EventType: ev.EventType,
	}
}

// Generated calendars Google serves but does not store: events.watch answers 400
// pushNotSupportedForRequestedResource for them.
var unwatchableSuffixes = []string{
	"#holiday@group.v.calendar.google.com",  // public holidays of a country
	"#contacts@group.v.calendar.google.com", // birthdays (addressbook#contacts@…)
	"#weeknum@group.v.calendar.google.com",  // week numbers
}

// pushUnsupported is the error events.watch answers for a generated calendar.
func pushUnsupported(calID string) *apiError {
	for _, suf := range unwatchableSuffixes {
		if strings.HasSuffix(calID, suf) {
			return &apiError{code: 400, reason: "pushNotSupportedForRequestedResource", message: "Push notifications are not supported by this resource."}
		}
	}
	return nil
}

// Unwatchable reports whether events.watch refuses the calendar id (a holidays,
// birthdays or week-numbers calendar).
func Unwatchable(calID string) bool { return pushUnsupported(calID) != nil }

func (m *membership) String() string {
	return fmt.Sprintf("%s hidden=%v removed=%v", m.role, m.hidden, m.removed)
}

// listControlRoutes: PUT /_fake/calendars/{cal}/members/{email} {"role":"reader"} shares
// a calendar (role "" or DELETE unshares); PATCH /_fake/calendarList/{email}/{cal}
// {"hidden":true} / {"removed":true} changes one account's list entry.
func (s *Server) listControlRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/_fake/calendars/{cal}/members/{email}", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Role string `json:"role"`
		}
		switch r.Method {
		case http.MethodPut:
			if err := readControl(r, &body); err != nil {
				writeCtlErr(w, err)
				return
			}
		case http.MethodDelete:
		default:
			writeCtlErr(w, ctlErr(405, "method_not_allowed", "use PUT or DELETE"))
			return
		}
		if err := s.ShareCalendar(r.PathValue("cal"), r.PathValue("email"), body.Role); err != nil {
			writeCtlErr(w, err)
			return
		}
		w.WriteHeader(204)
	})
	mux.HandleFunc("/_fake/calendarList/{email}/{cal}", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPatch {
			writeCtlErr(w, ctlErr(405, "method_not_allowed", "use PATCH"))
			return
		}
		var p ListEntryPatch
		if err := readControl(r, &p); err != nil {
			writeCtlErr(w, err)
			return
		}
		if err := s.SetListEntry(r.PathValue("email"), r.PathValue("cal"), p); err != nil {
			writeCtlErr(w, err)
			return
		}
		w.WriteHeader(204)
	})
}
