package availability

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Interval is a half-open span of real time [Start, End).
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// AllDay is an all-day event as Google gives it: local dates "YYYY-MM-DD", EndDate
// exclusive. It blocks whole days in the staff member's zone (Rules.TimeZone).
type AllDay struct {
	StartDate string `json:"startDate"`
	EndDate   string `json:"endDate"`
}

// Busy is what the staff member's Google calendars block (from the busy index).
// Zero-length intervals block nothing.
type Busy struct {
	Intervals []Interval `json:"intervals"`
	AllDay    []AllDay   `json:"allDay"`
}

// Booking is an appointment booked through the product. It occupies
// [Start − bufferBefore, End + bufferAfter) with the rules' current buffers.
type Booking struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Request asks for the slots of one service duration whose start lies in [From, To).
// Now is the caller's clock reading (the package never reads a clock).
type Request struct {
	Duration time.Duration
	From, To time.Time
	Now      time.Time
}

// Slot is a bookable appointment [Start, End); times are in the rules' zone.
type Slot struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// GridLookbackDays: a merged working range that started more than this many days
// (× 24 h) before the first moment of a local date is treated, for the candidates of
// that date, as a range that never started: they are stepped from the first moment
// of the date. See the package documentation.
const GridLookbackDays = 31

var (
	// Requests (From, To, Free's start) must lie in [minRequestTime, maxRequestTime].
	minRequestTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxRequestTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	// Other instants (now, busy, bookings) are clamped into [minClamp, maxClamp], far
	// enough outside every request that clamping changes no answer.
	minClamp   = time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC)
	maxClamp   = time.Date(2250, 1, 1, 0, 0, 0, 0, time.UTC)
	minClampNs = minClamp.UnixNano()
	maxClampNs = maxClamp.UnixNano()
)

const (
	nsPerSecond = int64(time.Second)
	nsPerDay    = 24 * int64(time.Hour)
)

func clampNs(t time.Time) int64 {
	if t.Before(minClamp) {
		return minClampNs
	}
	if t.After(maxClamp) {
		return maxClampNs
	}
	return t.UnixNano()
}

// iv is a half-open interval in unix nanoseconds.
type iv struct{ s, e int64 }

// Compute returns the free slots of req.Duration whose start lies in [req.From, req.To),
// sorted by start. Rules or request problems are *ValidationError; malformed busy data
// (an interval or booking ending before it starts, a bad all-day date) is a plain error,
// because silently skipping it could offer a time that is not free.
func Compute(rules Rules, busy Busy, bookings []Booking, req Request) ([]Slot, error) {
	c, verr := compile(rules)
	if verr != nil {
		return nil, verr
	}
	if err := checkDuration(req.Duration); err != nil {
		return nil, err
	}
	if err := checkRange(req.From, req.To, MaxRequestSpan, "from", "to"); err != nil {
		return nil, err
	}
	return c.compute(busy, bookings, req.Duration, req.From.UnixNano(), req.To.UnixNano(), clampNs(req.Now))
}

// Free reports whether start is bookable for duration d at now: exactly when Compute
// would return a slot starting at start (same grid, hours, busy, buffers, notice,
// horizon). Book calls it inside its transaction.
func Free(rules Rules, busy Busy, bookings []Booking, start time.Time, d time.Duration, now time.Time) (bool, error) {
	c, verr := compile(rules)
	if verr != nil {
		return false, verr
	}
	if err := checkDuration(d); err != nil {
		return false, err
	}
	if start.Before(minRequestTime) || start.After(maxRequestTime) {
		return false, invalid("start", "must lie between %s and %s", minRequestTime.Format("2006-01-02"), maxRequestTime.Format("2006-01-02"))
	}
	s := start.UnixNano()
	slots, err := c.compute(busy, bookings, d, s, s+1, clampNs(now))
	if err != nil {
		return false, err
	}
	return len(slots) == 1 && slots[0].Start.UnixNano() == s, nil
}

// WorkingWindows returns the merged real-time working windows of rules that overlap
// [from, to), clipped to [from, to), in the rules' zone. Windows are merged exactly as
// for slots (touching ranges, 24:00 with the next day's 00:00), so a clipped first
// window may have started before from.
func WorkingWindows(rules Rules, from, to time.Time) ([]Interval, error) {
	c, verr := compile(rules)
	if verr != nil {
		return nil, verr
	}
	if err := checkRange(from, to, MaxWorkingWindowsSpan, "from", "to"); err != nil {
		return nil, err
	}
	f, t := from.UnixNano(), to.UnixNano()
	dA := localDay(from, c.loc) - 2
	dB := localDay(to, c.loc) + 2
	z := newZone(c.loc, dA*secondsPerDay-2*secondsPerDay, (dB+1)*secondsPerDay+2*secondsPerDay)
	out := []Interval{}
	for _, w := range c.windows(z, dA, dB) {
		s, e := max(w.s, f), min(w.e, t)
		if s < e {
			out = append(out, Interval{Start: time.Unix(0, s).In(c.loc), End: time.Unix(0, e).In(c.loc)})
		}
	}
	return out, nil
}

func checkDuration(d time.Duration) error {
	if d < MinDuration || d > MaxDuration {
		return invalid("duration", "must be between %v and %v, got %v", MinDuration, MaxDuration, d)
	}
	return nil
}

func checkRange(from, to time.Time, maxSpan time.Duration, fromField, toField string) error {
	if from.Before(minRequestTime) || from.After(maxRequestTime) {
		return invalid(fromField, "must lie between %s and %s", minRequestTime.Format("2006-01-02"), maxRequestTime.Format("2006-01-02"))
	}
	if to.Before(minRequestTime) || to.After(maxRequestTime) {
		return invalid(toField, "must lie between %s and %s", minRequestTime.Format("2006-01-02"), maxRequestTime.Format("2006-01-02"))
	}
	if !to.After(from) {
		return invalid(toField, "must be after %s", fromField)
	}
	if to.Sub(from) > maxSpan {
		return invalid(toField, "at most %d days after %s", int(maxSpan/(24*time.Hour)), fromField)
	}
	return nil
}

// windows returns the merged working windows (unix ns) built from the ranges of the
// local dates dA..dB.
func (c *compiled) windows(z *zone, dA, dB int64) []iv {
	var spans []iv
	for day := dA; day <= dB; day++ {
		for _, r := range c.rangesOn(day) {
			if s, e, ok := z.span(day, r); ok {
				spans = append(spans, iv{s * nsPerSecond, e * nsPerSecond})
			}
		}
	}
	return mergeSorted(spans)
}

// mergeSorted sorts intervals by start and merges those that overlap or touch.
func mergeSorted(in []iv) []iv {
	if len(in) == 0 {
		return in
	}
	slices.SortFunc(in, func(a, b iv) int {
		switch {
		case a.s < b.s:
			return -1
		case a.s > b.s:
			return 1
		}
		return 0
	})
	out := in[:1]
	for _, x := range in[1:] {
		last := &out[len(out)-1]
		if x.s <= last.e {
			last.e = max(last.e, x.e)
			continue
		}
		out = append(out, x)
	}
	return out
}

func (c *compiled) compute(busy Busy, bookings []Booking, dur time.Duration, fromNs, toNs, nowNs int64) ([]Slot, error) {
	d := int64(dur)
	// Validate all busy data first so that errors do not depend on the request.
	for i, b := range busy.Intervals {
		if b.End.Before(b.Start) {
			return nil, fmt.Errorf("availability: busy interval %d ends (%s) before it starts (%s)", i, b.End.Format(time.RFC3339), b.Start.Format(time.RFC3339))
		}
	}
	allDay := make([][2]int64, 0, len(busy.AllDay))
	for i, a := range busy.AllDay {
		s, ok1 := parseDate(a.StartDate)
		e, ok2 := parseDate(a.EndDate)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("availability: all-day event %d: dates %q–%q are not YYYY-MM-DD", i, a.StartDate, a.EndDate)
		}
		if e <= s {
			return nil, fmt.Errorf("availability: all-day event %d: end date %s must be after start date %s", i, a.EndDate, a.StartDate)
		}
		allDay = append(allDay, [2]int64{s, e})
	}
	for i, b := range bookings {
		if b.End.Before(b.Start) {
			return nil, fmt.Errorf("availability: booking %d ends (%s) before it starts (%s)", i, b.End.Format(time.RFC3339), b.Start.Format(time.RFC3339))
		}
	}

	lo := max(fromNs, nowNs+c.notice)
	hi := min(toNs, nowNs+c.horizon)
	if lo >= hi {
		return []Slot{}, nil
	}
	loc := c.loc
	dFirst := localDay(time.Unix(0, lo), loc)
	dLast := localDay(time.Unix(0, hi+d), loc) + 2
	dLb := dFirst - (GridLookbackDays + 2)
	z := newZone(loc, dLb*secondsPerDay-2*secondsPerDay, (dLast+1)*secondsPerDay+2*secondsPerDay)

	work := c.windows(z, dLb, dLast)

	// First moments of the candidate dates: the date of a candidate s is the i with
	// firsts[i] ≤ s < firsts[i+1].
	dHi := localDay(time.Unix(0, hi), loc) + 2
	firsts := make([]int64, 0, dHi-dFirst+1)
	for day := dFirst; day <= dHi; day++ {
		firsts = append(firsts, z.firstMoment(day)*nsPerSecond)
	}

	// Everything that blocks, as one sorted disjoint list, restricted to where
	// candidates' occupied spans can reach.
	bLo := lo - c.bufBefore
	bHi := hi + d + c.bufAfter
	blocked := make([]iv, 0, len(busy.Intervals)+len(allDay)+len(bookings))
	add := func(s, e int64) {
		if s < e && s < bHi && e > bLo {
			blocked = append(blocked, iv{max(s, bLo), min(e, bHi)})
		}
	}
	for _, b := range busy.Intervals {
		add(clampNs(b.Start), clampNs(b.End))
	}
	for _, a := range allDay {
		if a[1] < dLb-2 || a[0] > dLast+2 {
			continue
		}
		s := max(a[0], dLb-1)
		e := min(a[1], dLast+2)
		add(z.firstMoment(s)*nsPerSecond, z.firstMoment(e)*nsPerSecond)
	}
	for _, b := range bookings {
		add(clampNs(b.Start)-c.bufBefore, clampNs(b.End)+c.bufAfter)
	}
	blocked = mergeSorted(blocked)

	capNs := int64(GridLookbackDays) * nsPerDay
	slots := []Slot{}
	j := 0 // first blocked interval that may still overlap a candidate
	for _, w := range work {
		sLo := max(lo, w.s)
		sHi := min(hi-1, w.e-d) // inclusive
		if sLo > sHi {
			continue
		}
		s := sLo
		for s <= sHi {
			// The candidate date containing s.
			i, found := slices.BinarySearch(firsts, s)
			if !found {
				i = max(i-1, 0) // firsts[0] ≤ lo ≤ s, so i-1 ≥ 0 already
			}
			dateEnd := int64(math.MaxInt64)
			if i+1 < len(firsts) {
				dateEnd = firsts[i+1]
			}
			origin := firsts[i]
			if w.s >= firsts[i]-capNs {
				origin = w.s
			}
			cand := s
			if r := (s - origin) % c.step; r != 0 {
				cand += c.step - r
			}
			segEnd := min(sHi, dateEnd-1)
			for ; cand <= segEnd; cand += c.step {
				occS, occE := cand-c.bufBefore, cand+d+c.bufAfter
				for j < len(blocked) && blocked[j].e <= occS {
					j++
				}
				if j < len(blocked) && blocked[j].s < occE {
					continue
				}
				slots = append(slots, Slot{Start: time.Unix(0, cand).In(loc), End: time.Unix(0, cand+d).In(loc)})
			}
			if dateEnd == math.MaxInt64 {
				break
			}
			s = dateEnd
		}
	}
	return slots, nil
}
