package availability

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Limits enforced by Validate. They reject values no business means and keep a
// single computation bounded.
const (
	MaxBufferMin          = 24 * 60       // per buffer
	MaxMinNoticeMin       = 365 * 24 * 60 // one year
	MinHorizonDays        = 1
	MaxHorizonDays        = 730
	MinStepMin            = 5
	MaxStepMin            = 24 * 60
	MaxRangesPerDay       = 100 // per weekday and per override
	MaxOverrides          = 1000
	MinOverrideYear       = 1900
	MaxOverrideYear       = 2999
	MinDuration           = 5 * time.Minute
	MaxDuration           = 24 * time.Hour
	MaxRequestSpan        = 62 * 24 * time.Hour  // Compute's [From, To)
	MaxWorkingWindowsSpan = 370 * 24 * time.Hour // WorkingWindows' [from, to)
)

// Weekdays are the keys of Rules.Weekly, Monday first.
var Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

var weekdayIndex = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// Rules are one staff member's availability rules. The JSON shape is the body of
// GET/PUT /availability in docs/api.md.
type Rules struct {
	// TimeZone is an IANA zone name such as "Europe/Berlin". Working ranges,
	// overrides and all-day events are read in this zone.
	TimeZone string `json:"timeZone"`
	// Weekly holds the working ranges of each weekday; keys mon,tue,wed,thu,fri,sat,sun.
	// A missing key or an empty list is a closed day.
	Weekly map[string][]Range `json:"weekly"`
	// Overrides replace the weekly ranges on one local date; no ranges = closed.
	Overrides       []Override `json:"overrides"`
	BufferBeforeMin int        `json:"bufferBeforeMin"`
	BufferAfterMin  int        `json:"bufferAfterMin"`
	MinNoticeMin    int        `json:"minNoticeMin"`
	HorizonDays     int        `json:"horizonDays"`
	StepMin         int        `json:"stepMin"`
}

// Range is a wall-clock range "HH:MM"–"HH:MM" on one local date. Start is
// 00:00–23:59, End is 00:01–24:00 and after Start.
type Range struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Override replaces the weekly ranges of one local date ("YYYY-MM-DD").
// An empty Ranges list closes the date.
type Override struct {
	Date   string  `json:"date"`
	Ranges []Range `json:"ranges"`
}

// ValidationError reports an invalid rule or request. Field is a JSON-style path
// such as "weekly.mon[1].end" or "overrides[0].date"; callers map it to HTTP 400.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return "availability: " + e.Message
	}
	return "availability: " + e.Field + ": " + e.Message
}

func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Default returns the rules a new staff member starts with: Europe/Berlin,
// Monday–Friday 09:00–17:00, 30-minute step, 60 minutes notice, 60 days horizon,
// no buffers.
func Default() Rules {
	weekly := make(map[string][]Range, 7)
	for _, d := range Weekdays {
		weekly[d] = []Range{}
	}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		weekly[d] = []Range{{Start: "09:00", End: "17:00"}}
	}
	return Rules{
		TimeZone:     "Europe/Berlin",
		Weekly:       weekly,
		Overrides:    []Override{},
		MinNoticeMin: 60,
		HorizonDays:  60,
		StepMin:      30,
	}
}

// Normalized returns the rules with every key present, as they are stored and answered:
// all seven weekdays, and empty lists rather than null (weekly ranges, overrides, an
// override's ranges). Other weekday keys are dropped.
func (r Rules) Normalized() Rules {
	weekly := make(map[string][]Range, 7)
	for _, d := range Weekdays {
		weekly[d] = r.Weekly[d]
		if weekly[d] == nil {
			weekly[d] = []Range{}
		}
	}
	r.Weekly = weekly
	if r.Overrides == nil {
		r.Overrides = []Override{}
	}
	for i := range r.Overrides {
		if r.Overrides[i].Ranges == nil {
			r.Overrides[i].Ranges = []Range{}
		}
	}
	return r
}

// Validate checks the rules and returns a *ValidationError for the first problem found
// (fields are checked in a fixed order, so the answer is deterministic).
func (r Rules) Validate() error {
	_, err := compile(r)
	if err != nil {
		return err
	}
	return nil
}

// minuteRange is a validated Range in minutes since local midnight; 0 ≤ s < e ≤ 1440.
type minuteRange struct{ s, e int }

// compiled is validated rules in the form the engine uses.
type compiled struct {
	loc       *time.Location
	weekly    [7][]minuteRange // by time.Weekday
	overrides map[int64][]minuteRange
	bufBefore int64 // ns
	bufAfter  int64 // ns
	notice    int64 // ns
	horizon   int64 // ns
	step      int64 // ns
}

var locCache sync.Map // zone name → *time.Location

// LoadLocation loads an IANA zone once per process (time.LoadLocation reads and
// parses a file on every call).
func LoadLocation(name string) (*time.Location, error) {
	if l, ok := locCache.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locCache.Store(name, l)
	return l, nil
}

func compile(r Rules) (*compiled, *ValidationError) {
	c := &compiled{}
	if r.TimeZone == "" {
		return nil, invalid("timeZone", "is required (an IANA zone such as Europe/Berlin)")
	}
	if r.TimeZone == "Local" || strings.TrimSpace(r.TimeZone) != r.TimeZone {
		return nil, invalid("timeZone", "%q is not an IANA time zone", r.TimeZone)
	}
	loc, err := LoadLocation(r.TimeZone)
	if err != nil {
		return nil, invalid("timeZone", "%q is not a known IANA time zone", r.TimeZone)
	}
	c.loc = loc

	keys := make([]string, 0, len(r.Weekly))
	for k := range r.Weekly {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		wd, ok := weekdayIndex[k]
		if !ok {
			return nil, invalid("weekly."+k, "unknown weekday %q (use mon, tue, wed, thu, fri, sat, sun)", k)
		}
		rs, verr := compileRanges(func() string { return "weekly." + k }, "", r.Weekly[k])
		if verr != nil {
			return nil, verr
		}
		c.weekly[wd] = rs
	}

	if len(r.Overrides) > MaxOverrides {
		return nil, invalid("overrides", "at most %d overrides are allowed, got %d", MaxOverrides, len(r.Overrides))
	}
	c.overrides = make(map[int64][]minuteRange, len(r.Overrides))
	seen := make(map[int64]int, len(r.Overrides))
	for i, o := range r.Overrides {
		field := func() string { return fmt.Sprintf("overrides[%d]", i) } // built only on error
		day, ok := parseDate(o.Date)
		if !ok {
			return nil, invalid(field()+".date", "%q is not a valid date (YYYY-MM-DD)", o.Date)
		}
		if y, _, _ := civilFromDays(day); y < MinOverrideYear || y > MaxOverrideYear {
			return nil, invalid(field()+".date", "%q is out of range (years %d–%d)", o.Date, MinOverrideYear, MaxOverrideYear)
		}
		if j, dup := seen[day]; dup {
			return nil, invalid(field()+".date", "duplicate date %s (also overrides[%d])", o.Date, j)
		}
		seen[day] = i
		rs, verr := compileRanges(field, ".ranges", o.Ranges)
		if verr != nil {
			return nil, verr
		}
		if rs == nil {
			rs = []minuteRange{}
		}
		c.overrides[day] = rs
	}

	for _, f := range []struct {
		name      string
		v, lo, hi int
	}{
		{"bufferBeforeMin", r.BufferBeforeMin, 0, MaxBufferMin},
		{"bufferAfterMin", r.BufferAfterMin, 0, MaxBufferMin},
		{"minNoticeMin", r.MinNoticeMin, 0, MaxMinNoticeMin},
		{"horizonDays", r.HorizonDays, MinHorizonDays, MaxHorizonDays},
		{"stepMin", r.StepMin, MinStepMin, MaxStepMin},
	} {
		if f.v < f.lo || f.v > f.hi {
			return nil, invalid(f.name, "must be between %d and %d, got %d", f.lo, f.hi, f.v)
		}
	}
	c.bufBefore = int64(r.BufferBeforeMin) * int64(time.Minute)
	c.bufAfter = int64(r.BufferAfterMin) * int64(time.Minute)
	c.notice = int64(r.MinNoticeMin) * int64(time.Minute)
	c.horizon = int64(r.HorizonDays) * 24 * int64(time.Hour)
	c.step = int64(r.StepMin) * int64(time.Minute)
	return c, nil
}

// compileRanges parses and checks the ranges of one weekday or override and returns
// them sorted by start.
func compileRanges(fieldFn func() string, suffix string, in []Range) ([]minuteRange, *ValidationError) {
	field := func() string { return fieldFn() + suffix }
	if len(in) > MaxRangesPerDay {
		return nil, invalid(field(), "at most %d ranges per day are allowed, got %d", MaxRangesPerDay, len(in))
	}
	if len(in) == 0 {
		return nil, nil
	}
	type indexed struct {
		minuteRange
		i int
	}
	rs := make([]indexed, len(in))
	for i, r := range in {
		f := func() string { return fmt.Sprintf("%s[%d]", field(), i) } // built only on error
		s, ok := parseClock(r.Start)
		if !ok || s >= 24*60 {
			return nil, invalid(f()+".start", "%q is not a valid start time (HH:MM, 00:00–23:59)", r.Start)
		}
		e, ok := parseClock(r.End)
		if !ok {
			return nil, invalid(f()+".end", "%q is not a valid end time (HH:MM, 00:01–24:00)", r.End)
		}
		if e == 0 {
			return nil, invalid(f()+".end", "an end of 00:00 is invalid; the end of the day is written 24:00")
		}
		if e <= s {
			return nil, invalid(f()+".end", "range %s–%s must end after it starts", r.Start, r.End)
		}
		rs[i] = indexed{minuteRange{s, e}, i}
	}
	sort.SliceStable(rs, func(a, b int) bool { return rs[a].s < rs[b].s })
	for k := 1; k < len(rs); k++ {
		prev, cur := rs[k-1], rs[k]
		if cur.s < prev.e { // touching (cur.s == prev.e) is fine
			return nil, invalid(fmt.Sprintf("%s[%d]", field(), cur.i), "range %s–%s overlaps %s[%d] %s–%s",
				in[cur.i].Start, in[cur.i].End, field(), prev.i, in[prev.i].Start, in[prev.i].End)
		}
	}
	out := make([]minuteRange, len(rs))
	for k, r := range rs {
		out[k] = r.minuteRange
	}
	return out, nil
}

// parseClock parses "HH:MM" with 00 ≤ HH ≤ 23 and 00 ≤ MM ≤ 59, or exactly "24:00";
// it returns minutes since midnight (0..1440).
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[3]) || !isDigit(s[4]) {
		return 0, false
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

// parseDate parses a strict "YYYY-MM-DD" Gregorian date into days since 1970-01-01.
func parseDate(s string) (int64, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	for i, ch := range []byte(s) {
		if i != 4 && i != 7 && !isDigit(ch) {
			return 0, false
		}
	}
	y := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	m := int(s[5]-'0')*10 + int(s[6]-'0')
	d := int(s[8]-'0')*10 + int(s[9]-'0')
	if y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return daysFromCivil(y, m, d), true
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the number of days since 1970-01-01 of a proleptic
// Gregorian date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	yy := int64(y)
	if m <= 2 {
		yy--
	}
	era := yy / 400
	if yy < 0 && yy%400 != 0 {
		era--
	}
	yoe := yy - era*400
	mp := int64(m+9) % 12
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		yy++
	}
	return int(yy), m, d
}

// weekdayOf returns the weekday of a day number (1970-01-01 was a Thursday).
func weekdayOf(days int64) time.Weekday {
	return time.Weekday(((days % 7) + 7 + 4) % 7)
}

func formatDate(days int64) string {
	y, m, d := civilFromDays(days)
	return fmt.Sprintf("%04d-%02d-%02d", y, m, d)
}

// rangesOn returns the working ranges of a local date: its override if any, else
// the weekly ranges of its weekday.
func (c *compiled) rangesOn(day int64) []minuteRange {
	if rs, ok := c.overrides[day]; ok {
		return rs
	}
	return c.weekly[weekdayOf(day)]
}
