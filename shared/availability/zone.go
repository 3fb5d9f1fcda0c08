package availability

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// A zone period is a stretch of real time with one UTC offset. Within it the wall
// clock, as seconds of a "local epoch" (the wall time read as if it were UTC), is
// w(t) = t + off. The engine works on such periods directly so that every rule about
// gaps and repeated hours follows from one definition instead of special cases.
type period struct {
	start, end int64 // unix seconds, [start, end); math.MinInt64/MaxInt64 when unbounded
	off        int64 // seconds east of UTC
}

// zoneSlack bounds |offset| (real offsets stay within ±15 h; historical local mean
// times too) with room to spare.
const zoneSlack = 30 * 3600

const secondsPerDay = 86400

// zone is a location with its periods for a window of real time.
type zone struct {
	loc     *time.Location
	periods []period
}

// newZone collects the periods of loc covering the real-time window [from, to]
// (unix seconds), widened by zoneSlack on both sides.
func newZone(loc *time.Location, from, to int64) *zone {
	z := &zone{loc: loc}
	from -= zoneSlack
	to += zoneSlack
	t := time.Unix(from, 0).In(loc)
	for guard := 0; guard < 100000; guard++ {
		_, off := t.Zone()
		s, e := t.ZoneBounds()
		p := period{start: math.MinInt64, end: math.MaxInt64, off: int64(off)}
		if !s.IsZero() {
			p.start = s.Unix()
		}
		if !e.IsZero() {
			p.end = e.Unix()
		}
		cur := t.Unix()
		if p.start > cur || p.end <= cur { // defensive: never trust bounds that miss t
			p.start, p.end = cur, cur+1
		}
		n := len(z.periods)
		if n > 0 {
			p.start = z.periods[n-1].end // keep the list contiguous
		}
		if n > 0 && z.periods[n-1].off == p.off {
			z.periods[n-1].end = p.end // same offset (e.g. only the abbreviation changed)
		} else {
			z.periods = append(z.periods, p)
		}
		if p.end == math.MaxInt64 || p.end > to {
			break
		}
		t = time.Unix(p.end, 0).In(loc)
	}
	if len(z.periods) > 0 {
		z.periods[0].start = math.MinInt64
		z.periods[len(z.periods)-1].end = math.MaxInt64
	}
	return z
}

// preimage returns the real-time pieces of the wall-clock interval [a, b) that fall
// in periods near it, as the minimum start and the maximum end over all pieces:
// lo = min{t : w(t) ∈ [a, b)}, hi = sup{t : w(t) ∈ [a, b)}. ok is false when the
// wall clock never shows a time in [a, b).
func (z *zone) preimage(a, b int64) (lo, hi int64, ok bool) {
	ps := z.periods
	i := sort.Search(len(ps), func(i int) bool { return ps[i].end > a-zoneSlack })
	for ; i < len(ps) && ps[i].start < b+zoneSlack; i++ {
		p := ps[i]
		s := max(p.start, a-p.off)
		e := min(p.end, b-p.off)
		if s >= e {
			continue
		}
		if !ok {
			lo, hi, ok = s, e, true
			continue
		}
		lo = min(lo, s)
		hi = max(hi, e)
	}
	return lo, hi, ok
}

// firstMoment returns the first moment (unix seconds) at which the wall clock shows
// the local date day or later: the first moment of that date, or, for a date the
// zone skipped entirely, of the next date that exists.
func (z *zone) firstMoment(day int64) int64 {
	a := day * secondsPerDay
	lo, _, ok := z.preimage(a, a+10*secondsPerDay)
	if !ok { // cannot happen for a window newZone was built for
		return a
	}
	return lo
}

// span returns the real-time span [start, end) (unix seconds) of the wall-clock
// range r on local date day: from the first moment of the date at which the clock
// shows r.s or later, to the last moment of the date at which it shows a time before
// r.e. ok is false when the span is empty.
func (z *zone) span(day int64, r minuteRange) (start, end int64, ok bool) {
	d0 := day * secondsPerDay
	start, _, ok1 := z.preimage(d0+int64(r.s)*60, d0+secondsPerDay)
	_, end, ok2 := z.preimage(d0, d0+int64(r.e)*60)
	if !ok1 || !ok2 || end <= start {
		return 0, 0, false
	}
	return start, end, true
}

// localDay returns the local date (days since 1970-01-01) of an instant.
func localDay(t time.Time, loc *time.Location) int64 {
	y, m, d := t.In(loc).Date()
	return daysFromCivil(y, int(m), d)
}

// AllDayBounds returns the real-time interval an all-day event blocks in loc: from
// the first moment of its start date to the first moment of its end date (end
// exclusive, as Google gives all-day events). A date the zone skipped entirely
// starts at the first moment of the next date that exists.
func AllDayBounds(a AllDay, loc *time.Location) (Interval, error) {
	if loc == nil {
		return Interval{}, fmt.Errorf("availability: all-day event: nil location")
	}
	s, ok := parseDate(a.StartDate)
	if !ok {
		return Interval{}, fmt.Errorf("availability: all-day event: start date %q is not YYYY-MM-DD", a.StartDate)
	}
	e, ok := parseDate(a.EndDate)
	if !ok {
		return Interval{}, fmt.Errorf("availability: all-day event: end date %q is not YYYY-MM-DD", a.EndDate)
	}
	if e <= s {
		return Interval{}, fmt.Errorf("availability: all-day event %s–%s: end date must be after start date", a.StartDate, a.EndDate)
	}
	zs := newZone(loc, s*secondsPerDay, s*secondsPerDay+11*secondsPerDay)
	ze := zs
	if e-s > 5 {
		ze = newZone(loc, e*secondsPerDay, e*secondsPerDay+11*secondsPerDay)
	}
	return Interval{
		Start: time.Unix(zs.firstMoment(s), 0).In(loc),
		End:   time.Unix(ze.firstMoment(e), 0).In(loc),
	}, nil
}
