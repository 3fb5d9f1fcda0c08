package availability

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

const layout = "2006-01-02T15:04Z07:00"

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return l
}

// at parses "2006-01-02 15:04" (or with seconds) in loc; the wall time must exist and be
// unambiguous or the first occurrence is taken (Go's rule), so tests use explicit
// offsets (atOff) around transitions.
func at(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	for _, l := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02 15:04"} {
		if v, err := time.ParseInLocation(l, s, loc); err == nil {
			return v
		}
	}
	t.Fatalf("bad time %q", s)
	return time.Time{}
}

// atOff parses an RFC 3339-like "2006-01-02T15:04Z07:00".
func atOff(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(layout, s)
	if err != nil {
		t.Fatalf("bad time %q: %v", s, err)
	}
	return v
}

func baseRules(zone string) Rules {
	return Rules{
		TimeZone:    zone,
		Weekly:      map[string][]Range{},
		HorizonDays: 730,
		StepMin:     30,
	}
}

func rg(pairs ...string) []Range {
	var out []Range
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Range{Start: pairs[i], End: pairs[i+1]})
	}
	if out == nil {
		out = []Range{}
	}
	return out
}

func starts(slots []Slot, loc *time.Location) []string {
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = s.Start.In(loc).Format(layout)
	}
	return out
}

func TestComputeTable(t *testing.T) {
	t.Parallel()
	berlin := "Europe/Berlin"
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	type tc struct {
		name     string
		rules    func() Rules
		busy     Busy
		bookings []Booking
		dur      time.Duration
		from, to string // in the rules' zone, "2006-01-02 15:04"
		now      string // optional, in the rules' zone
		want     []string
		wantLen  int // when want is nil: just the count, plus first/last
		first    string
		last     string
	}
	override := func(zone string, step int, ovs ...Override) func() Rules {
		return func() Rules {
			r := baseRules(zone)
			r.StepMin = step
			r.Overrides = ovs
			return r
		}
	}
	ov := func(date string, pairs ...string) Override { return Override{Date: date, Ranges: rg(pairs...)} }
	weekly := func(zone string, step int, days map[string][]Range, mod func(*Rules)) func() Rules {
		return func() Rules {
			r := baseRules(zone)
			r.StepMin = step
			r.Weekly = days
			if mod != nil {
				mod(&r)
			}
			return r
		}
	}
	allWeek := func(pairs ...string) map[string][]Range {
		m := map[string][]Range{}
		for _, d := range Weekdays {
			m[d] = rg(pairs...)
		}
		return m
	}
	monFri9to17 := map[string][]Range{"mon": rg("09:00", "17:00"), "tue": rg("09:00", "17:00"), "wed": rg("09:00", "17:00"), "thu": rg("09:00", "17:00"), "fri": rg("09:00", "17:00")}
	bl := mustLoc(t, berlin)
	iv := func(a, b string) Interval { return Interval{Start: at(t, bl, a), End: at(t, bl, b)} }

	cases := []tc{
		// --- Europe/Berlin spring forward, 2026-03-29: 02:00 CET → 03:00 CEST.
		{name: "spring 01:00-04:00 is two real hours", rules: override(berlin, 30, ov("2026-03-29", "01:00", "04:00")),
			dur: 30 * time.Minute, from: "2026-03-29 00:00", to: "2026-03-30 00:00",
			want: []string{"2026-03-29T01:00+01:00", "2026-03-29T01:30+01:00", "2026-03-29T03:00+02:00", "2026-03-29T03:30+02:00"}},
		{name: "spring start inside gap moves to jump", rules: override(berlin, 30, ov("2026-03-29", "02:30", "04:00")),
			dur: 30 * time.Minute, from: "2026-03-29 00:00", to: "2026-03-30 00:00",
			want: []string{"2026-03-29T03:00+02:00", "2026-03-29T03:30+02:00"}},
		{name: "spring end inside gap moves to jump", rules: override(berlin, 30, ov("2026-03-29", "01:00", "02:30")),
			dur: 30 * time.Minute, from: "2026-03-29 00:00", to: "2026-03-30 00:00",
			want: []string{"2026-03-29T01:00+01:00", "2026-03-29T01:30+01:00"}},
		{name: "spring range wholly inside gap is empty", rules: override(berlin, 5, ov("2026-03-29", "02:00", "02:30")),
			dur: 5 * time.Minute, from: "2026-03-29 00:00", to: "2026-03-30 00:00", want: []string{}},
		{name: "spring range 01:30-03:30 grid counts real minutes", rules: override(berlin, 45, ov("2026-03-29", "01:30", "03:30")),
			dur: 30 * time.Minute, from: "2026-03-29 00:00", to: "2026-03-30 00:00",
			// real span 00:30Z–01:30Z: 01:30+01 (ends 03:00+02) only; 01:30+45 = 03:15+02 ends 03:45 > 03:30.
			want: []string{"2026-03-29T01:30+01:00"}},
		{name: "spring 23-hour day 00:00-24:00", rules: override(berlin, 60, ov("2026-03-29", "00:00", "24:00")),
			dur: 60 * time.Minute, from: "2026-03-29 00:00", to: "2026-03-30 00:00",
			wantLen: 23, first: "2026-03-29T00:00+01:00", last: "2026-03-29T23:00+02:00"},

		// --- Europe/Berlin fall back, 2026-10-25: 03:00 CEST → 02:00 CET.
		{name: "fall range ending 02:30 runs to second 02:30", rules: override(berlin, 30, ov("2026-10-25", "01:00", "02:30")),
			dur: 30 * time.Minute, from: "2026-10-25 00:00", to: "2026-10-26 00:00",
			want: []string{"2026-10-25T01:00+02:00", "2026-10-25T01:30+02:00", "2026-10-25T02:00+02:00", "2026-10-25T02:30+02:00", "2026-10-25T02:00+01:00"}},
		{name: "fall range ending 02:00 stops at first 02:00", rules: override(berlin, 30, ov("2026-10-25", "01:00", "02:00")),
			dur: 30 * time.Minute, from: "2026-10-25 00:00", to: "2026-10-26 00:00",
			want: []string{"2026-10-25T01:00+02:00", "2026-10-25T01:30+02:00"}},
		{name: "fall range 02:30-03:30 starts at first 02:30 ends at 03:30 CET", rules: override(berlin, 30, ov("2026-10-25", "02:30", "03:30")),
			dur: 30 * time.Minute, from: "2026-10-25 00:00", to: "2026-10-26 00:00",
			want: []string{"2026-10-25T02:30+02:00", "2026-10-25T02:00+01:00", "2026-10-25T02:30+01:00", "2026-10-25T03:00+01:00"}},
		{name: "fall range 03:00-04:00 starts at 03:00 CET", rules: override(berlin, 30, ov("2026-10-25", "03:00", "04:00")),
			dur: 30 * time.Minute, from: "2026-10-25 00:00", to: "2026-10-26 00:00",
			want: []string{"2026-10-25T03:00+01:00", "2026-10-25T03:30+01:00"}},
		{name: "fall 25-hour day 00:00-24:00", rules: override(berlin, 60, ov("2026-10-25", "00:00", "24:00")),
			dur: 60 * time.Minute, from: "2026-10-25 00:00", to: "2026-10-26 00:00",
			wantLen: 25, first: "2026-10-25T00:00+02:00", last: "2026-10-25T23:00+01:00"},

		// --- 24/7: a range that never starts is stepped from each date's first moment.
		{name: "24/7 step 45 restarts at each local date (23h day)", rules: weekly(berlin, 45, allWeek("00:00", "24:00"), nil),
			dur: 45 * time.Minute, from: "2026-03-29 22:00", to: "2026-03-30 01:00",
			// 03-29 grid: 00:00+01 + k·45 real min; k=28 → 21 h → 22:00+02, k=30 → 23:30+02.
			// 03-30 restarts at 00:00 (not 00:15).
			want: []string{"2026-03-29T22:00+02:00", "2026-03-29T22:45+02:00", "2026-03-29T23:30+02:00", "2026-03-30T00:00+02:00", "2026-03-30T00:45+02:00"}},
		{name: "24/7 step 60 on 25h day", rules: weekly(berlin, 60, allWeek("00:00", "24:00"), nil),
			dur: 60 * time.Minute, from: "2026-10-25 00:00", to: "2026-10-26 00:00",
			wantLen: 25, first: "2026-10-25T00:00+02:00", last: "2026-10-25T23:00+01:00"},
		{name: "24/7 slot may cross midnight", rules: weekly(berlin, 60, allWeek("00:00", "24:00"), nil),
			dur: 120 * time.Minute, from: "2026-06-01 23:00", to: "2026-06-02 00:00",
			want: []string{"2026-06-01T23:00+02:00"}},
		{name: "grid runs from merged start across dates (near)", rules: weekly(berlin, 25, allWeek("00:00", "24:00"), func(r *Rules) {
			r.Overrides = []Override{ov("2026-06-05")}
		}), dur: 25 * time.Minute, from: "2026-06-07 00:00", to: "2026-06-07 00:30",
			// range starts 06-06 00:00; 06-07 00:00 is 57.6 steps later → 00:10.
			want: []string{"2026-06-07T00:10+02:00"}},
		{name: "grid still from merged start 31 days later", rules: weekly(berlin, 25, allWeek("00:00", "24:00"), func(r *Rules) {
			r.Overrides = []Override{ov("2026-06-05")}
		}), dur: 25 * time.Minute, from: "2026-07-07 00:00", to: "2026-07-07 00:30",
			// 31 days = 44640 min = 1785.6 steps → 00:10.
			want: []string{"2026-07-07T00:10+02:00"}},
		{name: "grid per date once merged start is > 31 days back", rules: weekly(berlin, 25, allWeek("00:00", "24:00"), func(r *Rules) {
			r.Overrides = []Override{ov("2026-06-05")}
		}), dur: 25 * time.Minute, from: "2026-07-07 23:30", to: "2026-07-08 00:30",
			// 07-07 is still gridded from 06-06 00:00 (23:30 = 1842 steps), 07-08 restarts at 00:00.
			want: []string{"2026-07-07T23:30+02:00", "2026-07-07T23:55+02:00", "2026-07-08T00:00+02:00", "2026-07-08T00:25+02:00"}},

		// --- zones without DST.
		{name: "Tokyo weekly", rules: weekly("Asia/Tokyo", 60, map[string][]Range{"mon": rg("09:00", "12:00")}, nil),
			dur: 60 * time.Minute, from: "2026-03-01 00:00", to: "2026-03-10 00:00",
			want: []string{"2026-03-02T09:00+09:00", "2026-03-02T10:00+09:00", "2026-03-02T11:00+09:00",
				"2026-03-09T09:00+09:00", "2026-03-09T10:00+09:00", "2026-03-09T11:00+09:00"}},
		{name: "Phoenix has 24 hours on US DST day", rules: override("America/Phoenix", 60, ov("2026-03-08", "00:00", "24:00")),
			dur: 60 * time.Minute, from: "2026-03-08 00:00", to: "2026-03-09 00:00",
			wantLen: 24, first: "2026-03-08T00:00-07:00", last: "2026-03-08T23:00-07:00"},

		// --- merging.
		{name: "touching ranges give a continuous grid", rules: weekly(berlin, 45, map[string][]Range{"mon": rg("09:00", "12:10", "12:10", "17:00")}, nil),
			dur: 60 * time.Minute, from: "2026-06-01 00:00", to: "2026-06-02 00:00",
			want: []string{"2026-06-01T09:00+02:00", "2026-06-01T09:45+02:00", "2026-06-01T10:30+02:00", "2026-06-01T11:15+02:00",
				"2026-06-01T12:00+02:00", "2026-06-01T12:45+02:00", "2026-06-01T13:30+02:00", "2026-06-01T14:15+02:00",
				"2026-06-01T15:00+02:00", "2026-06-01T15:45+02:00"}},
		{name: "separate ranges restart the grid", rules: weekly(berlin, 45, map[string][]Range{"mon": rg("09:00", "12:00", "12:10", "14:00")}, nil),
			dur: 60 * time.Minute, from: "2026-06-01 00:00", to: "2026-06-02 00:00",
			want: []string{"2026-06-01T09:00+02:00", "2026-06-01T09:45+02:00", "2026-06-01T10:30+02:00", "2026-06-01T12:10+02:00", "2026-06-01T12:55+02:00"}},
		{name: "24:00 merges with next day's 00:00", rules: override(berlin, 45, ov("2026-06-05", "20:00", "24:00"), ov("2026-06-06", "00:00", "02:00")),
			dur: 60 * time.Minute, from: "2026-06-05 00:00", to: "2026-06-07 00:00",
			want: []string{"2026-06-05T20:00+02:00", "2026-06-05T20:45+02:00", "2026-06-05T21:30+02:00", "2026-06-05T22:15+02:00",
				"2026-06-05T23:00+02:00", "2026-06-05T23:45+02:00", "2026-06-06T00:30+02:00"}},
		{name: "merged window partly before From keeps its grid", rules: override(berlin, 45, ov("2026-06-05", "20:00", "24:00"), ov("2026-06-06", "00:00", "02:00")),
			dur: 60 * time.Minute, from: "2026-06-06 00:00", to: "2026-06-07 00:00",
			want: []string{"2026-06-06T00:30+02:00"}},

		// --- overrides.
		{name: "override closes a day", rules: weekly(berlin, 60, monFri9to17, func(r *Rules) { r.Overrides = []Override{ov("2026-06-02")} }),
			dur: 60 * time.Minute, from: "2026-06-02 00:00", to: "2026-06-03 10:00",
			want: []string{"2026-06-03T09:00+02:00"}},
		{name: "override changes hours", rules: weekly(berlin, 60, monFri9to17, func(r *Rules) { r.Overrides = []Override{ov("2026-06-02", "13:00", "15:00", "07:00", "08:00")} }),
			dur: 60 * time.Minute, from: "2026-06-02 00:00", to: "2026-06-03 00:00",
			want: []string{"2026-06-02T07:00+02:00", "2026-06-02T13:00+02:00", "2026-06-02T14:00+02:00"}},
		{name: "override opens a weekend day", rules: weekly(berlin, 60, monFri9to17, func(r *Rules) { r.Overrides = []Override{ov("2026-06-06", "10:00", "12:00")} }),
			dur: 60 * time.Minute, from: "2026-06-06 00:00", to: "2026-06-08 00:00",
			want: []string{"2026-06-06T10:00+02:00", "2026-06-06T11:00+02:00"}},

		// --- busy, half-open edges.
		{name: "event touching slot edges does not block", rules: weekly(berlin, 30, monFri9to17, nil),
			busy: Busy{Intervals: []Interval{iv("2026-06-01 10:00", "2026-06-01 11:00")}},
			dur:  60 * time.Minute, from: "2026-06-01 09:00", to: "2026-06-01 11:30",
			want: []string{"2026-06-01T09:00+02:00", "2026-06-01T11:00+02:00"}},
		{name: "one-second overlap blocks", rules: weekly(berlin, 30, monFri9to17, nil),
			busy: Busy{Intervals: []Interval{{Start: at(t, bl, "2026-06-01 09:59:59"), End: at(t, bl, "2026-06-01 10:00:01")}}},
			dur:  30 * time.Minute, from: "2026-06-01 09:00", to: "2026-06-01 11:00",
			want: []string{"2026-06-01T09:00+02:00", "2026-06-01T10:30+02:00"}},
		{name: "zero-length event blocks nothing", rules: weekly(berlin, 30, monFri9to17, nil),
			busy: Busy{Intervals: []Interval{iv("2026-06-01 09:15", "2026-06-01 09:15")}},
			dur:  30 * time.Minute, from: "2026-06-01 09:00", to: "2026-06-01 10:00",
			want: []string{"2026-06-01T09:00+02:00", "2026-06-01T09:30+02:00"}},
		{name: "buffers around a busy event, outside working hours allowed", rules: weekly(berlin, 30, monFri9to17, func(r *Rules) { r.BufferBeforeMin, r.BufferAfterMin = 15, 15 }),
			busy: Busy{Intervals: []Interval{iv("2026-06-01 11:00", "2026-06-01 12:00")}},
			dur:  60 * time.Minute, from: "2026-06-01 00:00", to: "2026-06-02 00:00",
			want: []string{"2026-06-01T09:00+02:00", "2026-06-01T09:30+02:00", "2026-06-01T12:30+02:00", "2026-06-01T13:00+02:00",
				"2026-06-01T13:30+02:00", "2026-06-01T14:00+02:00", "2026-06-01T14:30+02:00", "2026-06-01T15:00+02:00",
				"2026-06-01T15:30+02:00", "2026-06-01T16:00+02:00"}},
		{name: "buffer blocked by event outside working hours", rules: weekly(berlin, 30, monFri9to17, func(r *Rules) { r.BufferBeforeMin = 30 }),
			busy: Busy{Intervals: []Interval{iv("2026-06-01 08:00", "2026-06-01 08:45")}},
			dur:  30 * time.Minute, from: "2026-06-01 09:00", to: "2026-06-01 10:00",
			want: []string{"2026-06-01T09:30+02:00"}},
		{name: "multi-day timed event", rules: weekly(berlin, 60, monFri9to17, nil),
			busy: Busy{Intervals: []Interval{iv("2026-06-01 16:00", "2026-06-03 10:00")}},
			dur:  60 * time.Minute, from: "2026-06-01 14:00", to: "2026-06-03 12:00",
			want: []string{"2026-06-01T14:00+02:00", "2026-06-01T15:00+02:00", "2026-06-03T10:00+02:00", "2026-06-03T11:00+02:00"}},
		{name: "all-day event blocks its local day only", rules: weekly(berlin, 60, allWeek("00:00", "24:00"), nil),
			busy: Busy{AllDay: []AllDay{{StartDate: "2026-06-02", EndDate: "2026-06-03"}}},
			dur:  60 * time.Minute, from: "2026-06-01 22:00", to: "2026-06-03 02:00",
			want: []string{"2026-06-01T22:00+02:00", "2026-06-01T23:00+02:00", "2026-06-03T00:00+02:00", "2026-06-03T01:00+02:00"}},
		{name: "multi-day all-day event", rules: weekly(berlin, 60, monFri9to17, nil),
			busy: Busy{AllDay: []AllDay{{StartDate: "2026-06-01", EndDate: "2026-06-04"}}},
			dur:  8 * time.Hour, from: "2026-06-01 00:00", to: "2026-06-06 00:00",
			want: []string{"2026-06-04T09:00+02:00", "2026-06-05T09:00+02:00"}},
		{name: "all-day event read in the staff zone (Tokyo)", rules: weekly("Asia/Tokyo", 60, allWeek("00:00", "24:00"), nil),
			busy: Busy{AllDay: []AllDay{{StartDate: "2026-06-02", EndDate: "2026-06-03"}}},
			dur:  60 * time.Minute, from: "2026-06-01 23:00", to: "2026-06-03 01:00",
			want: []string{"2026-06-01T23:00+09:00", "2026-06-03T00:00+09:00"}},
		{name: "all-day event on the 23-hour day", rules: weekly(berlin, 60, allWeek("00:00", "24:00"), nil),
			busy: Busy{AllDay: []AllDay{{StartDate: "2026-03-29", EndDate: "2026-03-30"}}},
			dur:  60 * time.Minute, from: "2026-03-28 23:00", to: "2026-03-30 01:00",
			want: []string{"2026-03-28T23:00+01:00", "2026-03-30T00:00+02:00"}},

		// --- bookings occupy their buffers.
		{name: "booking with buffers", rules: weekly(berlin, 15, map[string][]Range{"mon": rg("08:00", "13:00")}, func(r *Rules) { r.BufferBeforeMin, r.BufferAfterMin = 30, 15 }),
			bookings: []Booking{{Start: at(t, bl, "2026-06-01 10:00"), End: at(t, bl, "2026-06-01 11:00")}},
			dur:      30 * time.Minute, from: "2026-06-01 08:30", to: "2026-06-01 12:00",
			// booking occupies [09:30, 11:15); a candidate [s−30, s+45).
			want: []string{"2026-06-01T08:30+02:00", "2026-06-01T08:45+02:00", "2026-06-01T11:45+02:00"}},
		{name: "booking without buffers touches", rules: weekly(berlin, 30, monFri9to17, nil),
			bookings: []Booking{{Start: at(t, bl, "2026-06-01 10:00"), End: at(t, bl, "2026-06-01 10:30")}},
			dur:      30 * time.Minute, from: "2026-06-01 09:30", to: "2026-06-01 11:00",
			want: []string{"2026-06-01T09:30+02:00", "2026-06-01T10:30+02:00"}},

		// --- notice and horizon.
		{name: "min notice exact, not rounded", rules: weekly(berlin, 30, monFri9to17, func(r *Rules) { r.MinNoticeMin = 60 }),
			now: "2026-06-01 08:30", dur: 30 * time.Minute, from: "2026-06-01 00:00", to: "2026-06-01 10:30",
			want: []string{"2026-06-01T09:30+02:00", "2026-06-01T10:00+02:00"}},
		{name: "min notice one nanosecond late", rules: weekly(berlin, 30, monFri9to17, func(r *Rules) { r.MinNoticeMin = 60 }),
			now: "2026-06-01 08:30:00.000000001", dur: 30 * time.Minute, from: "2026-06-01 00:00", to: "2026-06-01 10:30",
			want: []string{"2026-06-01T10:00+02:00"}},
		{name: "min notice odd now", rules: weekly(berlin, 30, monFri9to17, func(r *Rules) { r.MinNoticeMin = 60 }),
			now: "2026-06-01 08:47:13", dur: 30 * time.Minute, from: "2026-06-01 00:00", to: "2026-06-01 11:00",
			want: []string{"2026-06-01T10:00+02:00", "2026-06-01T10:30+02:00"}},
		{name: "horizon is exclusive", rules: weekly(berlin, 30, monFri9to17, func(r *Rules) { r.HorizonDays = 1 }),
			now: "2026-06-01 09:30", dur: 30 * time.Minute, from: "2026-06-02 00:00", to: "2026-06-03 00:00",
			want: []string{"2026-06-02T09:00+02:00"}},
		{name: "everything before now+notice is empty", rules: weekly(berlin, 30, monFri9to17, func(r *Rules) { r.MinNoticeMin = 7 * 24 * 60 }),
			now: "2026-06-01 09:30", dur: 30 * time.Minute, from: "2026-06-02 00:00", to: "2026-06-03 00:00",
			want: []string{}},

		// --- request window.
		{name: "from/to select by start", rules: weekly(berlin, 30, monFri9to17, nil),
			dur: 2 * time.Hour, from: "2026-06-01 15:00", to: "2026-06-01 15:30:00.000000001",
			want: []string{"2026-06-01T15:00+02:00"}},
		{name: "to exclusive", rules: weekly(berlin, 30, monFri9to17, nil),
			dur: 30 * time.Minute, from: "2026-06-01 09:00", to: "2026-06-01 10:00",
			want: []string{"2026-06-01T09:00+02:00", "2026-06-01T09:30+02:00"}},
		{name: "duration equal to the range", rules: weekly(berlin, 30, monFri9to17, nil),
			dur: 8 * time.Hour, from: "2026-06-01 00:00", to: "2026-06-02 00:00",
			want: []string{"2026-06-01T09:00+02:00"}},
		{name: "duration longer than the range", rules: weekly(berlin, 30, monFri9to17, nil),
			dur: 8*time.Hour + time.Minute, from: "2026-06-01 00:00", to: "2026-06-02 00:00",
			want: []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rules := c.rules()
			loc := mustLoc(t, rules.TimeZone)
			n := now
			if c.now != "" {
				n = at(t, loc, c.now)
			}
			got, err := Compute(rules, c.busy, c.bookings, Request{Duration: c.dur, From: at(t, loc, c.from), To: at(t, loc, c.to), Now: n})
			if err != nil {
				t.Fatalf("Compute: %v", err)
			}
			gs := starts(got, loc)
			for i, s := range got {
				if !s.End.Equal(s.Start.Add(c.dur)) {
					t.Errorf("slot %d end %v, want start+%v", i, s.End, c.dur)
				}
				if s.Start.Location().String() != loc.String() {
					t.Errorf("slot %d in %v, want %v", i, s.Start.Location(), loc)
				}
			}
			if c.want != nil {
				if !slices.Equal(gs, c.want) {
					t.Fatalf("slots:\n got %v\nwant %v", gs, c.want)
				}
				return
			}
			if len(gs) != c.wantLen || gs[0] != c.first || gs[len(gs)-1] != c.last {
				t.Fatalf("got %d slots %v, want %d from %s to %s", len(gs), gs, c.wantLen, c.first, c.last)
			}
			for i := 1; i < len(got); i++ {
				if got[i].Start.Sub(got[i-1].Start) != time.Duration(rules.StepMin)*time.Minute {
					t.Fatalf("slots %d and %d are %v apart", i-1, i, got[i].Start.Sub(got[i-1].Start))
				}
			}
		})
	}
}

func TestWorkingWindowsDST(t *testing.T) {
	t.Parallel()
	r := baseRules("Europe/Berlin")
	r.Weekly = map[string][]Range{"sat": rg("22:00", "24:00"), "sun": rg("00:00", "02:30", "02:30", "03:00", "10:00", "24:00")}
	cases := []struct {
		name     string
		from, to string
		want     []string
	}{
		{"spring", "2026-03-28T00:00+01:00", "2026-03-30T00:00+02:00", []string{
			"2026-03-28T22:00+01:00/2026-03-29T03:00+02:00", "2026-03-29T10:00+02:00/2026-03-30T00:00+02:00"}},
		{"fall", "2026-10-24T00:00+02:00", "2026-10-26T00:00+01:00", []string{
			"2026-10-24T22:00+02:00/2026-10-25T03:00+01:00", "2026-10-25T10:00+01:00/2026-10-26T00:00+01:00"}},
		{"clipped", "2026-10-25T01:00+02:00", "2026-10-25T11:00+01:00", []string{
			"2026-10-25T01:00+02:00/2026-10-25T03:00+01:00", "2026-10-25T10:00+01:00/2026-10-25T11:00+01:00"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ws, err := WorkingWindows(r, atOff(t, c.from), atOff(t, c.to))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range ws {
				got = append(got, w.Start.Format(layout)+"/"+w.End.Format(layout))
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %v\nwant %v", got, c.want)
			}
		})
	}
}

func TestAllDayBounds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		zone, s, e string
		want       string // start/end or error substring prefixed "err:"
	}{
		{"Europe/Berlin", "2026-03-29", "2026-03-30", "2026-03-29T00:00+01:00/2026-03-30T00:00+02:00"},
		{"Europe/Berlin", "2026-10-25", "2026-10-26", "2026-10-25T00:00+02:00/2026-10-26T00:00+01:00"},
		{"Asia/Tokyo", "2026-06-01", "2026-06-10", "2026-06-01T00:00+09:00/2026-06-10T00:00+09:00"},
		// Santiago skips 00:00–01:00 on 2026-09-06: the day starts at 01:00.
		{"America/Santiago", "2026-09-06", "2026-09-07", "2026-09-06T01:00-03:00/2026-09-07T00:00-03:00"},
		// Apia skipped 2011-12-30 entirely: it starts when 2011-12-31 starts.
		{"Pacific/Apia", "2011-12-30", "2012-01-01", "2011-12-31T00:00+14:00/2012-01-01T00:00+14:00"},
		{"Europe/Berlin", "2026-06-02", "2026-06-02", "err:after"},
		{"Europe/Berlin", "2026-06-31", "2026-07-02", "err:YYYY-MM-DD"},
		{"Europe/Berlin", "2026-06-01", "20260602", "err:YYYY-MM-DD"},
	}
	for _, c := range cases {
		t.Run(c.zone+" "+c.s, func(t *testing.T) {
			t.Parallel()
			got, err := AllDayBounds(AllDay{StartDate: c.s, EndDate: c.e}, mustLoc(t, c.zone))
			if msg, ok := strings.CutPrefix(c.want, "err:"); ok {
				if err == nil || !strings.Contains(err.Error(), msg) {
					t.Fatalf("err = %v, want containing %q", err, msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := got.Start.Format(layout) + "/" + got.End.Format(layout); s != c.want {
				t.Fatalf("got %s, want %s", s, c.want)
			}
		})
	}
}

func TestFree(t *testing.T) {
	t.Parallel()
	loc := mustLoc(t, "Europe/Berlin")
	r := Default()
	r.BufferAfterMin = 10
	now := at(t, loc, "2026-06-01 08:00")
	busy := Busy{Intervals: []Interval{{Start: at(t, loc, "2026-06-01 12:00"), End: at(t, loc, "2026-06-01 13:00")}}}
	bookings := []Booking{{Start: at(t, loc, "2026-06-01 14:00"), End: at(t, loc, "2026-06-01 15:00")}}
	cases := []struct {
		start string
		dur   time.Duration
		want  bool
	}{
		{"2026-06-01 09:00", time.Hour, true},
		{"2026-06-01 09:00:01", time.Hour, false}, // off the grid
		{"2026-06-01 09:15", time.Hour, false},    // off the grid
		{"2026-06-01 08:30", time.Hour, false},    // before working hours
		{"2026-06-01 10:30", time.Hour, true},     // ends 11:30, buffer to 11:40
		{"2026-06-01 11:00", time.Hour, false},    // buffer reaches into the busy event
		{"2026-06-01 13:00", time.Hour, false},    // occupied span runs into the booking's span
		{"2026-06-01 15:00", time.Hour, false},    // the booking's after-buffer runs to 15:10
		{"2026-06-01 15:30", time.Hour, true},
		{"2026-06-01 16:30", time.Hour, false}, // ends after 17:00
		{"2026-06-06 10:00", time.Hour, false}, // Saturday
		{"2026-08-01 10:00", time.Hour, false}, // beyond the horizon (Saturday anyway)
		{"2026-07-30 10:00", time.Hour, true},  // Thursday, inside 60 days
		{"2026-07-31 10:00", time.Hour, false}, // Friday, 60 days + 2 h after now
	}
	for _, c := range cases {
		t.Run(c.start, func(t *testing.T) {
			t.Parallel()
			start := at(t, loc, c.start)
			got, err := Free(r, busy, bookings, start, c.dur, now)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("Free(%s) = %v, want %v", c.start, got, c.want)
			}
			// Free must agree with Compute.
			slots, err := Compute(r, busy, bookings, Request{Duration: c.dur, From: start.Add(-time.Hour), To: start.Add(time.Hour), Now: now})
			if err != nil {
				t.Fatal(err)
			}
			inCompute := slices.ContainsFunc(slots, func(s Slot) bool { return s.Start.Equal(start) })
			if inCompute != got {
				t.Fatalf("Free=%v but Compute lists it: %v", got, inCompute)
			}
		})
	}
}

func TestComputeErrors(t *testing.T) {
	t.Parallel()
	loc := mustLoc(t, "Europe/Berlin")
	from := at(t, loc, "2026-06-01 00:00")
	good := Request{Duration: time.Hour, From: from, To: from.Add(24 * time.Hour), Now: from}
	cases := []struct {
		name     string
		mod      func(*Rules, *Busy, *[]Booking, *Request)
		field    string // ValidationError field; "" means a plain error
		contains string
	}{
		{"bad rules", func(r *Rules, _ *Busy, _ *[]Booking, _ *Request) { r.StepMin = 0 }, "stepMin", "between"},
		{"duration too short", func(_ *Rules, _ *Busy, _ *[]Booking, q *Request) { q.Duration = 4 * time.Minute }, "duration", "between"},
		{"duration too long", func(_ *Rules, _ *Busy, _ *[]Booking, q *Request) { q.Duration = 24*time.Hour + 1 }, "duration", "between"},
		{"to before from", func(_ *Rules, _ *Busy, _ *[]Booking, q *Request) { q.To = q.From.Add(-1) }, "to", "after"},
		{"to equals from", func(_ *Rules, _ *Busy, _ *[]Booking, q *Request) { q.To = q.From }, "to", "after"},
		{"range too long", func(_ *Rules, _ *Busy, _ *[]Booking, q *Request) { q.To = q.From.Add(62*24*time.Hour + 1) }, "to", "62 days"},
		{"from out of range", func(_ *Rules, _ *Busy, _ *[]Booking, q *Request) { q.From = time.Time{} }, "from", "between"},
		{"busy inverted", func(_ *Rules, b *Busy, _ *[]Booking, _ *Request) {
			b.Intervals = []Interval{{Start: from.Add(time.Hour), End: from}}
		}, "", "busy interval 0"},
		{"all-day bad date", func(_ *Rules, b *Busy, _ *[]Booking, _ *Request) {
			b.AllDay = []AllDay{{StartDate: "2026-6-1", EndDate: "2026-06-02"}}
		}, "", "all-day event 0"},
		{"all-day empty", func(_ *Rules, b *Busy, _ *[]Booking, _ *Request) {
			b.AllDay = []AllDay{{StartDate: "2026-06-02", EndDate: "2026-06-02"}}
		}, "", "must be after"},
		{"booking inverted", func(_ *Rules, _ *Busy, bk *[]Booking, _ *Request) {
			*bk = []Booking{{Start: from.Add(time.Hour), End: from}}
		}, "", "booking 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, b, bk, q := Default(), Busy{}, []Booking(nil), good
			c.mod(&r, &b, &bk, &q)
			_, err := Compute(r, b, bk, q)
			if err == nil {
				t.Fatal("no error")
			}
			var ve *ValidationError
			isVE := errors.As(err, &ve)
			if c.field != "" && (!isVE || ve.Field != c.field) {
				t.Fatalf("err = %#v, want ValidationError on %s", err, c.field)
			}
			if c.field == "" && isVE {
				t.Fatalf("err = %v is a ValidationError, want a plain error", err)
			}
			if !strings.Contains(err.Error(), c.contains) {
				t.Fatalf("err = %v, want containing %q", err, c.contains)
			}
		})
	}
	// Free reports the same kinds of errors.
	if _, err := Free(Default(), Busy{}, nil, time.Time{}, time.Hour, from); err == nil {
		t.Fatal("Free with zero start: no error")
	}
	if _, err := WorkingWindows(Default(), from, from.Add(371*24*time.Hour)); err == nil {
		t.Fatal("WorkingWindows over 370 days: no error")
	}
}

func Example() {
	r := Default() // Europe/Berlin, Mon–Fri 09:00–17:00, step 30, notice 60
	loc, _ := time.LoadLocation(r.TimeZone)
	now := time.Date(2026, 6, 1, 8, 0, 0, 0, loc)
	busy := Busy{Intervals: []Interval{{Start: time.Date(2026, 6, 1, 10, 0, 0, 0, loc), End: time.Date(2026, 6, 1, 16, 0, 0, 0, loc)}}}
	slots, err := Compute(r, busy, nil, Request{Duration: time.Hour, From: now, To: now.Add(24 * time.Hour), Now: now})
	if err != nil {
		panic(err)
	}
	for _, s := range slots {
		fmt.Println(s.Start.Format(time.RFC3339), s.End.Format(time.RFC3339))
	}
	// Output:
	// 2026-06-01T09:00:00+02:00 2026-06-01T10:00:00+02:00
	// 2026-06-01T16:00:00+02:00 2026-06-01T17:00:00+02:00
}
