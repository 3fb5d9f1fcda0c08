package availability

import (
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The property test compares Compute with a brute-force reference that reads the
// semantics off the wall clock minute by minute (no zone periods, no merging code,
// no grid arithmetic shared with the engine). All random zones have transitions on
// whole minutes, so a minute scan sees every boundary.

var propZones = []string{"Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe",
	"America/Santiago", "Asia/Kolkata", "UTC", "America/Phoenix"}

// Dates with transitions in 2026 in those zones (and ordinary ones).
var propDates = []string{"2026-03-29", "2026-10-25", "2026-03-08", "2026-11-01", "2026-04-05", "2026-10-04",
	"2026-09-06", "2026-04-04", "2026-06-15", "2026-01-10", "2026-12-24"}

type scenario struct {
	rules    Rules
	busy     Busy
	bookings []Booking
	req      Request
}

func (s scenario) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rules=%+v\n", s.rules)
	fmt.Fprintf(&b, "busy=%v\nbookings=%v\n", s.busy, s.bookings)
	fmt.Fprintf(&b, "req: dur=%v from=%v to=%v now=%v", s.req.Duration, s.req.From, s.req.To, s.req.Now)
	return b.String()
}

func hhmm(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

func randomRanges(rng *rand.Rand) []Range {
	switch rng.Intn(6) {
	case 0:
		return []Range{}
	case 1:
		return rg("00:00", "24:00")
	}
	var out []Range
	cur := 0
	gran := []int{1, 5, 15, 30, 60}[rng.Intn(5)]
	for n := rng.Intn(4) + 1; n > 0 && cur < 1440; n-- {
		s := cur
		if rng.Intn(3) > 0 || cur == 0 { // gap (sometimes none: touching ranges)
			s = cur + rng.Intn(8*60/gran+1)*gran
		}
		if s >= 1440 {
			break
		}
		e := s + (rng.Intn(6*60/gran)+1)*gran
		if e > 1440 || rng.Intn(8) == 0 {
			e = 1440
		}
		out = append(out, Range{Start: hhmm(s), End: hhmm(e)})
		cur = e
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func randomScenario(rng *rand.Rand) scenario {
	zone := propZones[rng.Intn(len(propZones))]
	loc, _ := time.LoadLocation(zone)
	r := Rules{TimeZone: zone, Weekly: map[string][]Range{}}
	allDay := rng.Intn(6) == 0
	for _, d := range Weekdays {
		if allDay {
			r.Weekly[d] = rg("00:00", "24:00")
		} else {
			r.Weekly[d] = randomRanges(rng)
		}
	}
	r.StepMin = []int{5, 7, 10, 15, 20, 25, 30, 45, 60, 90}[rng.Intn(10)]
	r.BufferBeforeMin = []int{0, 0, 5, 10, 30, 90}[rng.Intn(6)]
	r.BufferAfterMin = []int{0, 0, 5, 15, 30, 60}[rng.Intn(6)]
	r.MinNoticeMin = []int{0, 0, 30, 60, rng.Intn(3000)}[rng.Intn(5)]
	r.HorizonDays = 1 + rng.Intn(60)

	base, _ := time.ParseInLocation("2006-01-02", propDates[rng.Intn(len(propDates))], loc)
	from := base.Add(time.Duration(rng.Intn(48*60)-24*60) * time.Minute)
	if rng.Intn(3) == 0 {
		from = from.Add(time.Duration(rng.Intn(60)) * time.Second)
	}
	to := from.Add(time.Duration(rng.Intn(4*24*60)+1) * time.Minute)
	now := from.Add(-time.Duration(rng.Intn(3*24*60*60)) * time.Second)
	if rng.Intn(4) == 0 {
		now = from.Add(time.Duration(rng.Intn(24*3600)) * time.Second)
	}
	if rng.Intn(2) == 0 { // notice and horizon then fall exactly on grid points
		now = now.Truncate(5 * time.Minute)
	}
	for n := rng.Intn(4); n > 0; n-- {
		d := base.AddDate(0, 0, rng.Intn(9)-4).Format("2006-01-02")
		if slices.ContainsFunc(r.Overrides, func(o Override) bool { return o.Date == d }) {
			continue
		}
		r.Overrides = append(r.Overrides, Override{Date: d, Ranges: randomRanges(rng)})
	}

	s := scenario{rules: r}
	span := to.Sub(from) + 2*24*time.Hour
	randInstant := func() time.Time {
		t := from.Add(-24*time.Hour + time.Duration(rng.Int63n(int64(span))))
		if rng.Intn(2) == 0 {
			t = t.Truncate(5 * time.Minute)
		}
		return t
	}
	for n := rng.Intn(15); n > 0; n-- {
		st := randInstant()
		s.busy.Intervals = append(s.busy.Intervals, Interval{Start: st, End: st.Add(time.Duration(rng.Intn(6*60*60)) * time.Second)})
	}
	for n := rng.Intn(3); n > 0 && rng.Intn(2) == 0; n-- {
		d := from.In(loc).AddDate(0, 0, rng.Intn(6)-2)
		s.busy.AllDay = append(s.busy.AllDay, AllDay{StartDate: d.Format("2006-01-02"), EndDate: d.AddDate(0, 0, 1+rng.Intn(2)).Format("2006-01-02")})
	}
	for n := rng.Intn(5); n > 0; n-- {
		st := randInstant()
		s.bookings = append(s.bookings, Booking{Start: st, End: st.Add(time.Duration(5+rng.Intn(120)) * time.Minute)})
	}
	s.req = Request{
		Duration: time.Duration([]int{5, 15, 30, 45, 60, 90, 120, 240, 600, 1440}[rng.Intn(10)]) * time.Minute,
		From:     from, To: to, Now: now,
	}
	return s
}

// reference computes the expected slot starts (unix minutes) by brute force.
type reference struct {
	s       scenario
	loc     *time.Location
	m0      int64 // first scanned unix minute
	day     []int64
	clock   []int
	covered []bool
	firsts  map[int64]int
	lastDay int64
}

func refClock(s string) int {
	h, _ := strconv.Atoi(s[:2])
	m, _ := strconv.Atoi(s[3:])
	return h*60 + m
}

func (ref *reference) rangesOn(t time.Time) []Range {
	date := t.Format("2006-01-02")
	for _, o := range ref.s.rules.Overrides {
		if o.Date == date {
			return o.Ranges
		}
	}
	return ref.s.rules.Weekly[strings.ToLower(t.Weekday().String()[:3])]
}

func newReference(s scenario, scanFrom, scanTo time.Time) *reference {
	loc, _ := time.LoadLocation(s.rules.TimeZone)
	ref := &reference{s: s, loc: loc, m0: scanFrom.Unix() / 60}
	n := int(scanTo.Unix()/60 - ref.m0)
	ref.day = make([]int64, n)
	ref.clock = make([]int, n)
	ref.covered = make([]bool, n)
	type key struct {
		day int64
		i   int
	}
	firstGE := map[key]int{}
	lastLT := map[key]int{}
	dayRanges := map[int64][][2]int{}
	for i := 0; i < n; i++ {
		lt := time.Unix((ref.m0+int64(i))*60, 0).In(loc)
		y, mo, d := lt.Date()
		ref.day[i] = time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
		ref.clock[i] = lt.Hour()*60 + lt.Minute()
		rs, ok := dayRanges[ref.day[i]]
		if !ok {
			for _, r := range ref.rangesOn(lt) {
				rs = append(rs, [2]int{refClock(r.Start), refClock(r.End)})
			}
			dayRanges[ref.day[i]] = rs
		}
		for ri, r := range rs {
			k := key{ref.day[i], ri}
			if _, ok := firstGE[k]; !ok && ref.clock[i] >= r[0] {
				firstGE[k] = i
			}
			if ref.clock[i] < r[1] {
				lastLT[k] = i
			}
		}
	}
	for k, s := range firstGE {
		if e, ok := lastLT[k]; ok {
			for i := s; i <= e; i++ {
				ref.covered[i] = true
			}
		}
	}
	return ref
}

// first returns the index of the first scanned minute whose date is day or later.
func (ref *reference) first(day int64) int {
	if ref.firsts == nil {
		ref.firsts = map[int64]int{}
		maxDay := ref.day[0] - 1
		for i, d := range ref.day {
			for ; maxDay < d; maxDay++ {
				ref.firsts[maxDay+1] = i
			}
		}
		ref.lastDay = maxDay
	}
	if day <= ref.day[0] {
		return 0
	}
	if day > ref.lastDay {
		return len(ref.day)
	}
	return ref.firsts[day]
}

func (ref *reference) idx(t time.Time) int { return int(t.Unix()/60 - ref.m0) }

func (ref *reference) expected() []int64 {
	s := ref.s
	r := s.rules
	d := int(s.req.Duration / time.Minute)
	ns := func(i int) time.Time { return time.Unix((ref.m0+int64(i))*60, 0) }
	notBefore := s.req.Now.Add(time.Duration(r.MinNoticeMin) * time.Minute)
	before := s.req.Now.Add(time.Duration(r.HorizonDays) * 24 * time.Hour)
	type span struct{ a, b time.Time }
	var blocks []span
	for _, b := range s.busy.Intervals {
		blocks = append(blocks, span{b.Start, b.End})
	}
	for _, a := range s.busy.AllDay {
		sd, _ := time.Parse("2006-01-02", a.StartDate)
		ed, _ := time.Parse("2006-01-02", a.EndDate)
		blocks = append(blocks, span{ns(ref.first(sd.Unix() / 86400)), ns(ref.first(ed.Unix() / 86400))})
	}
	bb := time.Duration(r.BufferBeforeMin) * time.Minute
	ba := time.Duration(r.BufferAfterMin) * time.Minute
	for _, b := range s.bookings {
		blocks = append(blocks, span{b.Start.Add(-bb), b.End.Add(ba)})
	}
	// runStart[i]: first index of the covered run holding i (-1: runs past the scan start);
	// runEnd[i]: first uncovered index at or after i.
	n := len(ref.covered)
	runStart := make([]int, n)
	runEnd := make([]int, n+1)
	for i := 0; i < n; i++ {
		switch {
		case !ref.covered[i]:
			runStart[i] = i + 1
		case i == 0:
			runStart[i] = -1
		case !ref.covered[i-1]:
			runStart[i] = i
		default:
			runStart[i] = runStart[i-1]
		}
	}
	runEnd[n] = n
	for i := n - 1; i >= 0; i-- {
		if ref.covered[i] {
			runEnd[i] = runEnd[i+1]
		} else {
			runEnd[i] = i
		}
	}
	var out []int64
	lo := ref.idx(s.req.From) - 1
	for i := max(lo, 0); i < len(ref.day); i++ {
		t := ns(i)
		if t.Before(s.req.From) || t.Before(notBefore) {
			continue
		}
		if !t.Before(s.req.To) || !t.Before(before) {
			break
		}
		if !ref.covered[i] || runEnd[i] < i+d {
			continue
		}
		ok := true
		runStart := runStart[i] // start of the merged run, or -1 if it runs back past the scan
		// the candidate's date: the last date whose first moment is ≤ t
		dd := ref.day[i] + 1
		for ref.first(dd) > i {
			dd--
		}
		fd := ref.first(dd)
		origin := fd
		if runStart >= 0 && runStart >= fd-GridLookbackDays*24*60 {
			origin = runStart
		}
		if (i-origin)%r.StepMin != 0 {
			continue
		}
		occA, occB := t.Add(-bb), t.Add(s.req.Duration+ba)
		for _, b := range blocks {
			if b.a.Before(b.b) && b.a.Before(occB) && occA.Before(b.b) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, ref.m0+int64(i))
		}
	}
	return out
}

func TestPropertyAgainstBruteForce(t *testing.T) {
	t.Parallel()
	iterations := 250
	if testing.Short() {
		iterations = 40
	}
	const baseSeed = 20260329
	withSlots, withBlocked := 0, 0
	defer func() {
		// The generator must exercise the interesting paths, or the test proves nothing.
		if !t.Failed() && (withSlots < iterations/4 || withBlocked < iterations/10) {
			t.Errorf("weak generator: %d/%d scenarios with slots, %d with busy-blocked candidates", withSlots, iterations, withBlocked)
		}
		t.Logf("%d scenarios: %d with slots, %d where busy times removed candidates", iterations, withSlots, withBlocked)
	}()
	for it := 0; it < iterations; it++ {
		seed := int64(baseSeed + it)
		rng := rand.New(rand.NewSource(seed))
		s := randomScenario(rng)
		if err := s.rules.Validate(); err != nil {
			t.Fatalf("seed %d: generator made invalid rules: %v\n%v", seed, err, s)
		}
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d: %s\n%v", seed, fmt.Sprintf(format, args...), s)
		}
		slots, err := Compute(s.rules, s.busy, s.bookings, s.req)
		if err != nil {
			fail("Compute: %v", err)
		}
		loc, _ := time.LoadLocation(s.rules.TimeZone)
		r := s.rules
		bb := time.Duration(r.BufferBeforeMin) * time.Minute
		ba := time.Duration(r.BufferAfterMin) * time.Minute
		wFrom, wTo := s.req.From.Add(-2*24*time.Hour), s.req.To.Add(3*24*time.Hour)
		windows, err := WorkingWindows(r, wFrom, wTo)
		if err != nil {
			fail("WorkingWindows: %v", err)
		}
		for k, sl := range slots {
			occA, occB := sl.Start.Add(-bb), sl.End.Add(ba)
			if !sl.End.Equal(sl.Start.Add(s.req.Duration)) {
				fail("slot %d: end %v != start+duration", k, sl.End)
			}
			if k > 0 && !slots[k-1].Start.Before(sl.Start) {
				fail("slots not strictly increasing at %d", k)
			}
			if sl.Start.Before(s.req.From) || !sl.Start.Before(s.req.To) {
				fail("slot %v outside [from, to)", sl.Start)
			}
			if sl.Start.Before(s.req.Now.Add(time.Duration(r.MinNoticeMin)*time.Minute)) ||
				!sl.Start.Before(s.req.Now.Add(time.Duration(r.HorizonDays)*24*time.Hour)) {
				fail("slot %v violates notice/horizon", sl.Start)
			}
			for _, b := range s.busy.Intervals {
				if b.Start.Before(b.End) && b.Start.Before(occB) && occA.Before(b.End) {
					fail("slot %v overlaps busy %v–%v", sl.Start, b.Start, b.End)
				}
			}
			for _, a := range s.busy.AllDay {
				bnd, _ := AllDayBounds(a, loc)
				if bnd.Start.Before(occB) && occA.Before(bnd.End) {
					fail("slot %v overlaps all-day %v", sl.Start, a)
				}
			}
			for _, b := range s.bookings {
				if b.Start.Add(-bb).Before(occB) && occA.Before(b.End.Add(ba)) {
					fail("slot %v overlaps booking %v–%v", sl.Start, b.Start, b.End)
				}
			}
			if !slices.ContainsFunc(windows, func(w Interval) bool {
				return !sl.Start.Before(w.Start) && !sl.End.After(w.End)
			}) {
				fail("slot %v–%v not inside one working window %v", sl.Start, sl.End, windows)
			}
			if sl.Start.Sub(sl.Start.Truncate(time.Minute)) != 0 {
				fail("slot %v not on a whole minute", sl.Start)
			}
		}

		if len(slots) > 0 {
			withSlots++
		}
		if len(s.busy.Intervals)+len(s.busy.AllDay)+len(s.bookings) > 0 {
			if all, err := Compute(r, Busy{}, nil, s.req); err == nil && len(all) > len(slots) {
				withBlocked++
			}
		}
		// Brute force: exactly the same starts.
		scanFrom := s.req.From.Add(-(GridLookbackDays + 3) * 24 * time.Hour).Truncate(time.Minute)
		ref := newReference(s, scanFrom, s.req.To.Add(s.req.Duration+3*24*time.Hour))
		want := ref.expected()
		got := make([]int64, len(slots))
		for k, sl := range slots {
			got[k] = sl.Start.Unix() / 60
		}
		if !slices.Equal(got, want) {
			var missing, extra []string
			for _, m := range want {
				if !slices.Contains(got, m) {
					missing = append(missing, time.Unix(m*60, 0).In(loc).Format(layout))
				}
			}
			for _, m := range got {
				if !slices.Contains(want, m) {
					extra = append(extra, time.Unix(m*60, 0).In(loc).Format(layout))
				}
			}
			fail("differs from brute force: missing %v, extra %v", missing, extra)
		}

		// Working windows agree with the minute scan.
		var refWin []string
		a0, a1 := ref.idx(wFrom.Truncate(time.Minute).Add(time.Minute)), ref.idx(wTo.Truncate(time.Minute))
		for i := a0; i < a1; i++ {
			if ref.covered[i] && (i == a0 || !ref.covered[i-1]) {
				j := i
				for j < a1 && ref.covered[j] {
					j++
				}
				refWin = append(refWin, fmt.Sprintf("%d/%d", ref.m0+int64(i), ref.m0+int64(j)))
			}
		}
		var gotWin []string
		for _, w := range windows {
			sm, em := w.Start.Unix()/60, w.End.Unix()/60
			if w.End.Unix()%60 != 0 || w.Start.Unix()%60 != 0 {
				continue // clipped at wFrom/wTo (not on a minute); compared below by range
			}
			if sm < ref.m0+int64(a0) || em > ref.m0+int64(a1) || sm == ref.m0+int64(a0) || em == ref.m0+int64(a1) {
				continue
			}
			gotWin = append(gotWin, fmt.Sprintf("%d/%d", sm, em))
		}
		var refInner []string
		for _, w := range refWin {
			var a, b int64
			fmt.Sscanf(w, "%d/%d", &a, &b)
			if a != ref.m0+int64(a0) && b != ref.m0+int64(a1) {
				refInner = append(refInner, w)
			}
		}
		if !slices.Equal(gotWin, refInner) {
			fail("working windows differ:\n got %v\nwant %v", gotWin, refInner)
		}

		// Asking for a part of the window gives exactly that part of the answer.
		if s.req.To.Sub(s.req.From) > 2*time.Minute {
			mid := s.req.From.Add(time.Duration(rng.Int63n(int64(s.req.To.Sub(s.req.From)))))
			sub := s.req
			sub.From = mid
			part, err := Compute(r, s.busy, s.bookings, sub)
			if err != nil {
				fail("Compute(sub): %v", err)
			}
			var wantPart []Slot
			for _, sl := range slots {
				if !sl.Start.Before(mid) {
					wantPart = append(wantPart, sl)
				}
			}
			if len(part) != len(wantPart) || !slices.EqualFunc(part, wantPart, func(a, b Slot) bool { return a.Start.Equal(b.Start) }) {
				fail("sub-window from %v: %d slots, want %d", mid, len(part), len(wantPart))
			}
		}
		// Free agrees with Compute on every slot and on a few other minutes.
		for k := 0; k < len(slots) && k < 3; k++ {
			ok, err := Free(r, s.busy, s.bookings, slots[k].Start, s.req.Duration, s.req.Now)
			if err != nil || !ok {
				fail("Free(%v) = %v, %v; Compute lists it", slots[k].Start, ok, err)
			}
		}
		for k := 0; k < 5; k++ {
			st := s.req.From.Add(time.Duration(rng.Int63n(int64(s.req.To.Sub(s.req.From))))).Truncate(time.Minute)
			if st.Before(s.req.From) {
				continue
			}
			ok, err := Free(r, s.busy, s.bookings, st, s.req.Duration, s.req.Now)
			if err != nil {
				fail("Free: %v", err)
			}
			if ok != slices.ContainsFunc(slots, func(sl Slot) bool { return sl.Start.Equal(st) }) {
				fail("Free(%v) = %v disagrees with Compute", st, ok)
			}
		}
	}
}
