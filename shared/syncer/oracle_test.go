package syncer_test

// The convergence test's oracle. It shares no code with the product: it imports neither
// shared/calevents nor shared/store nor the calendar/v3 client, reads Google's side from
// the fake's own event model (fakegoogle.Model: plain values, series already expanded by
// the fake) and the product's side as raw Firestore maps at the paths docs/design.md
// documents, and derives what the product must hold with its own rules, written from
// docs/sync.md:
//
//   - an event is kept when it is not cancelled and overlaps the window
//     [now − past, horizonEnd);
//   - busy = not transparent, not declined by the calendar owner (attendee self=true),
//     not a workingLocation or birthday event;
//   - a timed event keeps its instants; an all-day event keeps its dates (end exclusive)
//     and its instants are midnight of those dates in the staff member's zone (the staff
//     availability zone, else the calendar's);
//   - busy items: {s, e} for timed events in every UTC month [start, end) touches;
//     {sd, ed} for all-day events in every UTC month [startDate − 14 h, endDate + 14 h)
//     touches.

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/belbo/calsync/shared/fakegoogle"
)

// view is a comparable picture of one calendar's synced data: event id → description,
// event id → its busy items by month.
type view struct {
	Events map[string]string
	Busy   map[string]string
}

const (
	oracleDateLayout = "2006-01-02"
	oracleZoneSlack  = 14 * time.Hour // all-day items: readable from any zone
	oracleHorizonLag = 7 * 24 * time.Hour
)

// oracleMonths lists "YYYY-MM" of every UTC month that [from, to) touches; an empty or
// inverted interval touches the month of from.
func oracleMonths(from, to time.Time) []string {
	from, to = from.UTC(), to.UTC()
	var out []string
	y, m := from.Year(), from.Month()
	for {
		first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		if len(out) > 0 && !first.Before(to) {
			break
		}
		out = append(out, fmt.Sprintf("%04d-%02d", y, int(m)))
		if m == time.December {
			y, m = y+1, time.January
		} else {
			m++
		}
	}
	return out
}

func describe(title, details, status, recurring string, start, end time.Time, allDay bool, sd, ed string, busy bool, months []string) string {
	kind := "timed"
	if allDay {
		kind = "allday " + sd + ".." + ed
	}
	b := "free"
	if busy {
		b = "busy"
	}
	ms := append([]string{}, months...)
	sort.Strings(ms)
	return fmt.Sprintf("%s|%s|%s|%s|title=%q details=%q status=%s series=%s months=%s",
		start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), kind, b, title, details, status, recurring, strings.Join(ms, ","))
}

// oracleExpect is what the product must hold for the fake's calendar m, given the staff
// member's zone name ("" = none set), the sync clock and the window.
func oracleExpect(m fakegoogle.ModelCalendar, staffZone string, now, horizonEnd time.Time, past time.Duration) (view, error) {
	zoneName := staffZone
	if zoneName == "" {
		zoneName = m.TimeZone
	}
	loc, err := time.LoadLocation(zoneName)
	if err != nil {
		return view{}, err
	}
	out := view{Events: map[string]string{}, Busy: map[string]string{}}
	for _, ev := range m.Events {
		if ev.Status == "cancelled" {
			continue
		}
		var start, end time.Time
		var sd, ed string
		if ev.AllDay {
			d1, err1 := time.Parse(oracleDateLayout, ev.StartDate)
			d2, err2 := time.Parse(oracleDateLayout, ev.EndDate)
			if err1 != nil || err2 != nil {
				return view{}, fmt.Errorf("event %s: dates %q..%q", ev.ID, ev.StartDate, ev.EndDate)
			}
			start = time.Date(d1.Year(), d1.Month(), d1.Day(), 0, 0, 0, 0, loc)
			end = time.Date(d2.Year(), d2.Month(), d2.Day(), 0, 0, 0, 0, loc)
			sd, ed = ev.StartDate, ev.EndDate
		} else {
			start, end = ev.Start, ev.End
			if end.Before(start) {
				end = start
			}
		}
		if !start.Before(horizonEnd) || !end.After(now.Add(-past)) {
			continue
		}
		busy := ev.Transparency != "transparent" && ev.SelfResponse != "declined" &&
			ev.EventType != "workingLocation" && ev.EventType != "birthday"
		var months []string
		if busy {
			if ev.AllDay {
				d1, _ := time.Parse(oracleDateLayout, sd)
				d2, _ := time.Parse(oracleDateLayout, ed)
				months = oracleMonths(d1.Add(-oracleZoneSlack), d2.Add(oracleZoneSlack))
			} else {
				months = oracleMonths(start, end)
			}
			item := start.UTC().Format(time.RFC3339) + "|" + end.UTC().Format(time.RFC3339)
			if ev.AllDay {
				item = sd + "|" + ed
			}
			var v []string
			for _, mo := range months {
				v = append(v, mo+":"+item)
			}
			sort.Strings(v)
			out.Busy[ev.ID] = strings.Join(v, ",")
		}
		out.Events[ev.ID] = describe(ev.Summary, ev.Description, ev.Status, ev.RecurringEventID, start, end, ev.AllDay, sd, ed, busy, months)
	}
	return out, nil
}

// storedView reads what the product holds for one calendar, as raw documents.
func storedView(ctx context.Context, fs *firestore.Client, tenant, staff, conn, calDoc string) (view, error) {
	out := view{Events: map[string]string{}, Busy: map[string]string{}}
	staffDoc := fs.Collection("tenants").Doc(tenant).Collection("staff").Doc(staff)
	evs, err := staffDoc.Collection("connections").Doc(conn).Collection("calendars").Doc(calDoc).Collection("events").Documents(ctx).GetAll()
	if err != nil {
		return out, err
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	tm := func(m map[string]any, k string) time.Time { t, _ := m[k].(time.Time); return t }
	bl := func(m map[string]any, k string) bool { b, _ := m[k].(bool); return b }
	for _, s := range evs {
		d := s.Data()
		var months []string
		if arr, ok := d["months"].([]any); ok {
			for _, x := range arr {
				ms, _ := x.(string)
				months = append(months, ms)
			}
		}
		out.Events[s.Ref.ID] = describe(str(d, "title"), str(d, "details"), str(d, "status"), str(d, "recurringId"),
			tm(d, "start"), tm(d, "end"), bl(d, "allDay"), str(d, "startDate"), str(d, "endDate"), bl(d, "busy"), months)
	}
	bs, err := staffDoc.Collection("busy").Documents(ctx).GetAll()
	if err != nil {
		return out, err
	}
	prefix := conn + "_" + calDoc + "_"
	items := map[string][]string{}
	for _, s := range bs {
		if !strings.HasPrefix(s.Ref.ID, prefix) {
			continue
		}
		d := s.Data()
		month := strings.TrimPrefix(s.Ref.ID, prefix)
		if got := str(d, "month"); got != month {
			items["!doc "+s.Ref.ID] = append(items["!doc "+s.Ref.ID], "month field "+got)
		}
		its, _ := d["items"].(map[string]any)
		for id, raw := range its {
			it, _ := raw.(map[string]any)
			v := str(it, "sd") + "|" + str(it, "ed")
			if _, timed := it["s"]; timed {
				v = tm(it, "s").UTC().Format(time.RFC3339) + "|" + tm(it, "e").UTC().Format(time.RFC3339)
			}
			items[id] = append(items[id], month+":"+v)
		}
	}
	for id, v := range items {
		sort.Strings(v)
		out.Busy[id] = strings.Join(v, ",")
	}
	return out, nil
}

// viewDiff lists every difference between want and got.
func viewDiff(want, got view) []string {
	var out []string
	cmp := func(kind string, w, g map[string]string) {
		for id, wv := range w {
			if gv, ok := g[id]; !ok {
				out = append(out, kind+" missing "+id+": want "+wv)
			} else if gv != wv {
				out = append(out, kind+" differs "+id+":\n      want "+wv+"\n      got  "+gv)
			}
		}
		for id, gv := range g {
			if _, ok := w[id]; !ok {
				out = append(out, kind+" extra "+id+": "+gv)
			}
		}
	}
	cmp("event", want.Events, got.Events)
	cmp("busy", want.Busy, got.Busy)
	sort.Strings(out)
	return out
}
