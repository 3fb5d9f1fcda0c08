package fakegoogle

// Recurring series: expanding a master into instances, instance ids, and the
// tombstones of instances a series change made disappear.

import (
	"math"
	"strings"
	"time"

	"google.golang.org/api/calendar/v3"
)

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
