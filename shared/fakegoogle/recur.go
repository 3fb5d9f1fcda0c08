package fakegoogle

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rrule is the supported subset of RFC 5545 RRULE.
type rrule struct {
	freq       string // DAILY, WEEKLY, MONTHLY, YEARLY
	interval   int
	count      int
	until      string // raw UNTIL value, resolved against the series start
	byDay      []weekdayNum
	byMonthDay []int
}

type weekdayNum struct {
	n  int // 0 = every; 1..5 / -1..-5 = nth in month (MONTHLY only)
	wd time.Weekday
}

var weekdayCodes = map[string]time.Weekday{
	"SU": time.Sunday, "MO": time.Monday, "TU": time.Tuesday, "WE": time.Wednesday,
	"TH": time.Thursday, "FR": time.Friday, "SA": time.Saturday,
}

// parseRRule parses the value after "RRULE:".
func parseRRule(v string) (rrule, error) {
	r := rrule{interval: 1}
	if v == "" {
		return r, fmt.Errorf("empty RRULE")
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(v, ";") {
		k, val, ok := strings.Cut(part, "=")
		k = strings.ToUpper(strings.TrimSpace(k))
		if !ok || k == "" || val == "" {
			return r, fmt.Errorf("bad RRULE part %q", part)
		}
		if seen[k] {
			return r, fmt.Errorf("repeated RRULE part %s", k)
		}
		seen[k] = true
		switch k {
		case "FREQ":
			switch strings.ToUpper(val) {
			case "DAILY", "WEEKLY", "MONTHLY", "YEARLY":
				r.freq = strings.ToUpper(val)
			default:
				return r, fmt.Errorf("unsupported FREQ %q", val)
			}
		case "INTERVAL":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > 1000 {
				return r, fmt.Errorf("bad INTERVAL %q", val)
			}
			r.interval = n
		case "COUNT":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > 100000 {
				return r, fmt.Errorf("bad COUNT %q", val)
			}
			r.count = n
		case "UNTIL":
			if _, _, err := parseICalTime(val, time.UTC); err != nil {
				return r, fmt.Errorf("bad UNTIL %q", val)
			}
			r.until = val
		case "BYDAY":
			for _, d := range strings.Split(val, ",") {
				d = strings.ToUpper(strings.TrimSpace(d))
				if len(d) < 2 {
					return r, fmt.Errorf("bad BYDAY %q", d)
				}
				wd, ok := weekdayCodes[d[len(d)-2:]]
				if !ok {
					return r, fmt.Errorf("bad BYDAY %q", d)
				}
				n := 0
				if p := d[:len(d)-2]; p != "" {
					var err error
					n, err = strconv.Atoi(p)
					if err != nil || n == 0 || n < -5 || n > 5 {
						return r, fmt.Errorf("bad BYDAY %q", d)
					}
				}
				r.byDay = append(r.byDay, weekdayNum{n: n, wd: wd})
			}
		case "BYMONTHDAY":
			for _, d := range strings.Split(val, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(d))
				if err != nil || n < 1 || n > 31 {
					return r, fmt.Errorf("bad BYMONTHDAY %q (only 1..31 supported)", d)
				}
				r.byMonthDay = append(r.byMonthDay, n)
			}
		case "WKST":
			if strings.ToUpper(val) != "MO" {
				return r, fmt.Errorf("only WKST=MO is supported")
			}
		default:
			return r, fmt.Errorf("unsupported RRULE part %s", k)
		}
	}
	if r.freq == "" {
		return r, fmt.Errorf("RRULE without FREQ")
	}
	if r.count > 0 && r.until != "" {
		return r, fmt.Errorf("RRULE with both COUNT and UNTIL")
	}
	for _, d := range r.byDay {
		if d.n != 0 && r.freq != "MONTHLY" {
			return r, fmt.Errorf("ordinal BYDAY only with FREQ=MONTHLY")
		}
	}
	if len(r.byDay) > 0 && r.freq != "WEEKLY" && r.freq != "MONTHLY" {
		return r, fmt.Errorf("BYDAY only with FREQ=WEEKLY or MONTHLY")
	}
	if len(r.byMonthDay) > 0 && r.freq != "MONTHLY" {
		return r, fmt.Errorf("BYMONTHDAY only with FREQ=MONTHLY")
	}
	if len(r.byMonthDay) > 0 && len(r.byDay) > 0 {
		return r, fmt.Errorf("BYMONTHDAY with BYDAY is not supported")
	}
	return r, nil
}

// parseICalTime parses 20261231, 20261231T235959Z or 20261231T235959 (floating, in loc).
func parseICalTime(v string, loc *time.Location) (time.Time, bool, error) {
	switch len(v) {
	case 8:
		t, err := time.ParseInLocation("20060102", v, loc)
		return t, true, err
	case 16:
		if v[15] != 'Z' {
			return time.Time{}, false, fmt.Errorf("bad time")
		}
		t, err := time.Parse("20060102T150405Z", v)
		return t, false, err
	case 15:
		t, err := time.ParseInLocation("20060102T150405", v, loc)
		return t, false, err
	}
	return time.Time{}, false, fmt.Errorf("bad time %q", v)
}

// recurrence is a parsed recurrence[] array.
type recurrence struct {
	rules   []rrule
	exdates []string // raw "TZID=..:value" or value, resolved at expansion
	exTZ    []string
}

func parseRecurrence(lines []string) (*recurrence, error) {
	rec := &recurrence{}
	if len(lines) > 100 {
		return nil, fmt.Errorf("too many recurrence lines")
	}
	for _, l := range lines {
		name, val, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("bad recurrence line %q", l)
		}
		params := strings.Split(name, ";")
		switch strings.ToUpper(params[0]) {
		case "RRULE":
			r, err := parseRRule(val)
			if err != nil {
				return nil, err
			}
			rec.rules = append(rec.rules, r)
		case "EXDATE":
			tz := ""
			for _, p := range params[1:] {
				k, v, _ := strings.Cut(p, "=")
				switch strings.ToUpper(k) {
				case "TZID":
					if _, err := time.LoadLocation(v); err != nil || v == "" {
						return nil, fmt.Errorf("bad EXDATE TZID %q", v)
					}
					tz = v
				case "VALUE":
				default:
					return nil, fmt.Errorf("bad EXDATE parameter %q", p)
				}
			}
			for _, v := range strings.Split(val, ",") {
				if _, _, err := parseICalTime(v, time.UTC); err != nil {
					return nil, fmt.Errorf("bad EXDATE %q", v)
				}
				rec.exdates = append(rec.exdates, v)
				rec.exTZ = append(rec.exTZ, tz)
			}
		case "RDATE", "EXRULE":
			return nil, fmt.Errorf("%s is not supported by the fake", params[0])
		default:
			return nil, fmt.Errorf("bad recurrence line %q", l)
		}
	}
	if len(rec.rules) == 0 {
		return nil, fmt.Errorf("recurrence without RRULE")
	}
	return rec, nil
}

// bounded reports whether every rule ends (COUNT or UNTIL).
func (rc *recurrence) bounded() bool {
	for _, r := range rc.rules {
		if r.count == 0 && r.until == "" {
			return false
		}
	}
	return true
}

const maxPeriods = 400000

// expand returns the original start instants of the series whose first instance
// starts at start (wall time in loc; for all-day series, midnight UTC of the date),
// up to and including limit, at most maxN, sorted. Wall times are kept in loc across
// daylight-saving changes.
func (rc *recurrence) expand(start time.Time, allDay bool, loc *time.Location, limit time.Time, maxN int) []time.Time {
	if allDay {
		loc = time.UTC
	}
	start = start.In(loc)
	var all []time.Time
	for _, r := range rc.rules {
		all = append(all, r.expand(start, allDay, loc, limit, maxN)...)
	}
	slices.SortFunc(all, func(a, b time.Time) int { return a.Compare(b) })
	all = slices.CompactFunc(all, func(a, b time.Time) bool { return a.Equal(b) })
	if len(rc.exdates) > 0 {
		var ex []time.Time
		for i, v := range rc.exdates {
			l := loc
			if rc.exTZ[i] != "" {
				l, _ = time.LoadLocation(rc.exTZ[i])
			}
			t, isDate, err := parseICalTime(v, l)
			if err != nil {
				continue
			}
			if isDate && !allDay {
				// a date EXDATE on a timed series removes that day's instance
				for _, a := range all {
					y, m, d := a.Date()
					ty, tm, td := t.Date()
					if y == ty && m == tm && d == td {
						ex = append(ex, a)
					}
				}
				continue
			}
			ex = append(ex, t)
		}
		all = slices.DeleteFunc(all, func(a time.Time) bool {
			return slices.ContainsFunc(ex, func(e time.Time) bool { return e.Equal(a) })
		})
	}
	if len(all) > maxN {
		all = all[:maxN]
	}
	return all
}

func (r rrule) untilTime(loc *time.Location, allDay bool) (time.Time, bool) {
	if r.until == "" {
		return time.Time{}, false
	}
	t, isDate, err := parseICalTime(r.until, loc)
	if err != nil {
		return time.Time{}, false
	}
	if isDate && !allDay {
		t = t.AddDate(0, 0, 1).Add(-time.Second)
	}
	return t, true
}

func (r rrule) expand(start time.Time, allDay bool, loc *time.Location, limit time.Time, maxN int) []time.Time {
	until, hasUntil := r.untilTime(loc, allDay)
	h, mi, sec := start.Clock()
	sy, sm, sd := start.Date()
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, h, mi, sec, 0, loc) }
	var out []time.Time
	emitted := 0
	// emit returns false when expansion must stop.
	emit := func(t time.Time) bool {
		if t.Before(start) {
			return true
		}
		if hasUntil && t.After(until) {
			return false
		}
		if t.After(limit) {
			return false
		}
		out = append(out, t)
		emitted++
		if r.count > 0 && emitted >= r.count {
			return false
		}
		return len(out) < maxN
	}
	// periods with no valid candidate (e.g. Feb 30) must not stop us, so every period
	// checks the limit itself.
	for p := 0; p < maxPeriods; p++ {
		switch r.freq {
		case "DAILY":
			y, m, d := sy, sm, sd+p*r.interval
			if !emit(at(y, m, d)) {
				return out
			}
		case "WEEKLY":
			days := r.byDay
			if len(days) == 0 {
				days = []weekdayNum{{wd: start.Weekday()}}
			}
			// Monday of the start's week
			off := (int(start.Weekday()) + 6) % 7
			base := sd - off + p*7*r.interval
			if at(sy, sm, base).After(limit) {
				return out
			}
			var cands []int
			for _, wd := range days {
				cands = append(cands, (int(wd.wd)+6)%7)
			}
			slices.Sort(cands)
			cands = slices.Compact(cands)
			for _, c := range cands {
				if !emit(at(sy, sm, base+c)) {
					return out
				}
			}
		case "MONTHLY":
			first := time.Date(sy, sm+time.Month(p*r.interval), 1, 0, 0, 0, 0, loc)
			y, m := first.Year(), first.Month()
			if at(y, m, 1).After(limit) {
				return out
			}
			var days []int
			switch {
			case len(r.byDay) > 0:
				days = monthDaysByWeekday(y, m, r.byDay)
			case len(r.byMonthDay) > 0:
				days = slices.Clone(r.byMonthDay)
			default:
				days = []int{sd}
			}
			slices.Sort(days)
			days = slices.Compact(days)
			dim := daysIn(y, m)
			for _, d := range days {
				if d > dim {
					continue
				}
				if !emit(at(y, m, d)) {
					return out
				}
			}
		case "YEARLY":
			y := sy + p*r.interval
			if at(y, 1, 1).After(limit) {
				return out
			}
			if sd > daysIn(y, sm) {
				continue
			}
			if !emit(at(y, sm, sd)) {
				return out
			}
		default:
			return out
		}
	}
	return out
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func monthDaysByWeekday(y int, m time.Month, by []weekdayNum) []int {
	dim := daysIn(y, m)
	var out []int
	for _, b := range by {
		var matches []int
		for d := 1; d <= dim; d++ {
			if time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday() == b.wd {
				matches = append(matches, d)
			}
		}
		switch {
		case b.n == 0:
			out = append(out, matches...)
		case b.n > 0 && b.n <= len(matches):
			out = append(out, matches[b.n-1])
		case b.n < 0 && -b.n <= len(matches):
			out = append(out, matches[len(matches)+b.n])
		}
	}
	return out
}
