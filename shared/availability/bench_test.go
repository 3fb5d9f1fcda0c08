package availability

import (
	"math/rand"
	"testing"
	"time"
)

func benchBusy(b *testing.B, loc *time.Location, from time.Time, days, n int) Busy {
	b.Helper()
	rng := rand.New(rand.NewSource(1))
	busy := Busy{Intervals: make([]Interval, n)}
	for i := range busy.Intervals {
		s := from.Add(time.Duration(rng.Int63n(int64(days) * 24 * int64(time.Hour)))).Truncate(5 * time.Minute)
		busy.Intervals[i] = Interval{Start: s, End: s.Add(time.Duration(15+rng.Intn(8)*15) * time.Minute)}
	}
	for i := 0; i < 4; i++ {
		d := from.AddDate(0, 0, 3+7*i)
		busy.AllDay = append(busy.AllDay, AllDay{StartDate: d.Format("2006-01-02"), EndDate: d.AddDate(0, 0, 1).Format("2006-01-02")})
	}
	return busy
}

func benchCompute(b *testing.B, r Rules, days, nBusy int, dur time.Duration) {
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil {
		b.Fatal(err)
	}
	from := time.Date(2026, 3, 16, 0, 0, 0, 0, loc) // spans the spring-forward day
	busy := benchBusy(b, loc, from, days, nBusy)
	bookings := []Booking{{Start: from.Add(34 * time.Hour), End: from.Add(35 * time.Hour)}}
	req := Request{Duration: dur, From: from, To: from.AddDate(0, 0, days), Now: from.Add(-time.Hour)}
	if _, err := Compute(r, busy, bookings, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Compute(r, busy, bookings, req); err != nil {
			b.Fatal(err)
		}
	}
}

// The target: a month of slots against 2,000 busy intervals, well under a millisecond.
func BenchmarkCompute31Days2000Busy(b *testing.B) {
	r := Default()
	r.Weekly["sat"] = rg("10:00", "14:00")
	r.BufferAfterMin = 10
	benchCompute(b, r, 31, 2000, 60*time.Minute)
}

func BenchmarkCompute7DaysNoBusy(b *testing.B) {
	benchCompute(b, Default(), 7, 0, 30*time.Minute)
}

// Worst case for candidates: open around the clock with a 5-minute step for 62 days.
func BenchmarkCompute62Days24x7Step5(b *testing.B) {
	r := Default()
	for _, d := range Weekdays {
		r.Weekly[d] = rg("00:00", "24:00")
	}
	r.StepMin = 5
	r.MinNoticeMin = 0
	benchCompute(b, r, 62, 2000, 30*time.Minute)
}

func BenchmarkFree2000Busy(b *testing.B) {
	r := Default()
	loc, _ := time.LoadLocation(r.TimeZone)
	from := time.Date(2026, 3, 16, 0, 0, 0, 0, loc)
	busy := benchBusy(b, loc, from, 31, 2000)
	start := time.Date(2026, 3, 17, 10, 0, 0, 0, loc)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Free(r, busy, nil, start, time.Hour, from); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	r := Default()
	for i := 0; i < 50; i++ {
		r.Overrides = append(r.Overrides, Override{Date: formatDate(20600 + int64(i)), Ranges: rg("10:00", "12:00", "13:00", "15:00")})
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWorkingWindows31Days(b *testing.B) {
	r := Default()
	loc, _ := time.LoadLocation(r.TimeZone)
	from := time.Date(2026, 3, 16, 0, 0, 0, 0, loc)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := WorkingWindows(r, from, from.AddDate(0, 0, 31)); err != nil {
			b.Fatal(err)
		}
	}
}
