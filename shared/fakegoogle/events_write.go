package fakegoogle

// Event writes shared by the API and the control methods: insert, patch/update (JSON
// merge) and delete of events, series and instances. All are called locked.

import (
	"encoding/json"
	"slices"

	"google.golang.org/api/calendar/v3"
)

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
