package fakegoogle

// events.list: collecting what a calendar holds, filtering and sorting, the list
// parameters and sync tokens.

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/api/calendar/v3"
)

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
		if single && s.beyondCancelWindow(c, rec) {
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
	sel, ok := mask(w, r, typeEvents)
	if !ok {
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
	writeMasked(w, 200, resp, sel)
}
