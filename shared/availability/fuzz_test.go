package availability

import (
	"encoding/json"
	"errors"
	"math/rand"
	"reflect"
	"slices"
	"testing"
	"time"
)

var fuzzRuleSeeds = []string{
	`{"timeZone":"Europe/Berlin","weekly":{"mon":[{"start":"09:00","end":"17:00"}]},"overrides":[],"bufferBeforeMin":0,"bufferAfterMin":0,"minNoticeMin":60,"horizonDays":60,"stepMin":30}`,
	`{"timeZone":"Europe/Berlin","weekly":{"sun":[{"start":"00:00","end":"24:00"}],"sat":[{"start":"22:00","end":"24:00"}]},"overrides":[{"date":"2026-03-29","ranges":[{"start":"01:00","end":"02:30"},{"start":"02:30","end":"04:00"}]},{"date":"2026-10-25","ranges":[{"start":"02:00","end":"02:30"}]}],"bufferBeforeMin":15,"bufferAfterMin":10,"minNoticeMin":0,"horizonDays":730,"stepMin":7}`,
	`{"timeZone":"Australia/Lord_Howe","weekly":{"mon":[{"start":"00:00","end":"24:00"}],"tue":[{"start":"00:00","end":"24:00"}],"wed":[{"start":"00:00","end":"24:00"}],"thu":[{"start":"00:00","end":"24:00"}],"fri":[{"start":"00:00","end":"24:00"}],"sat":[{"start":"00:00","end":"24:00"}],"sun":[{"start":"00:00","end":"24:00"}]},"horizonDays":100,"stepMin":25}`,
	`{"timeZone":"America/Santiago","weekly":{"sun":[{"start":"00:00","end":"01:00"},{"start":"23:00","end":"24:00"}]},"horizonDays":30,"stepMin":5,"bufferAfterMin":1440}`,
	`{"timeZone":"Europe/Atlantis","stepMin":30,"horizonDays":1}`,
	`{"timeZone":"UTC","weekly":{"mon":[{"start":"10:00","end":"09:00"}]},"stepMin":30,"horizonDays":1}`,
	`{"timeZone":"UTC","weekly":{"xyz":[]},"overrides":[{"date":"2026-02-30","ranges":null}],"stepMin":-1}`,
	`{"weekly":null,"overrides":null}`,
	`[]`, `null`, `{"stepMin":1e400}`, `{"timeZone":"UTC","weekly":{"mon":[{"start":"09:00"}]}}`,
}

// FuzzParseRules: decoding arbitrary JSON and validating it never panics, and valid
// rules survive a JSON round trip unchanged and still valid.
func FuzzParseRules(f *testing.F) {
	for _, s := range fuzzRuleSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Rules
		if err := json.Unmarshal(data, &r); err != nil {
			return
		}
		err := r.Validate()
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Message == "" {
				t.Fatalf("Validate error %v is not a ValidationError with a message", err)
			}
			return
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("marshal valid rules: %v", err)
		}
		var back Rules
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("unmarshal own JSON: %v", err)
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("round-tripped rules invalid: %v", err)
		}
		b2, _ := json.Marshal(back)
		if string(b) != string(b2) {
			t.Fatalf("round trip changed JSON:\n%s\n%s", b, b2)
		}
	})
}

// FuzzCompute: arbitrary rules JSON and busy data never panic Compute, and whatever it
// returns obeys the slot invariants.
func FuzzCompute(f *testing.F) {
	for i, s := range fuzzRuleSeeds {
		f.Add([]byte(s), int64(i*997), uint16(3*24*60), uint16(60), int64(-600), int64(i))
	}
	f.Add([]byte(fuzzRuleSeeds[1]), int64(-3*24*60), uint16(45*24*60), uint16(1440), int64(0), int64(42))
	f.Fuzz(func(t *testing.T, rulesJSON []byte, fromMin int64, spanMin, durMin uint16, nowMin int64, busySeed int64) {
		var r Rules
		if json.Unmarshal(rulesJSON, &r) != nil || r.Validate() != nil {
			return
		}
		loc, err := time.LoadLocation(r.TimeZone)
		if err != nil {
			t.Fatalf("valid rules with unloadable zone %q", r.TimeZone)
		}
		base := time.Date(2026, 3, 27, 0, 0, 0, 0, loc)
		from := base.Add(time.Duration(fromMin%(2*366*24*60)) * time.Minute)
		to := from.Add(time.Duration(spanMin)*time.Minute + time.Second)
		now := from.Add(time.Duration(nowMin%(400*24*60)) * time.Minute)
		req := Request{Duration: time.Duration(durMin) * time.Minute, From: from, To: to, Now: now}

		rng := rand.New(rand.NewSource(busySeed))
		var busy Busy
		var bookings []Booking
		for n := rng.Intn(20); n > 0; n-- {
			s := from.Add(time.Duration(rng.Int63n(int64(to.Sub(from))+int64(48*time.Hour))) - 24*time.Hour)
			busy.Intervals = append(busy.Intervals, Interval{Start: s, End: s.Add(time.Duration(rng.Intn(5*3600)) * time.Second)})
		}
		for n := rng.Intn(3); n > 0; n-- {
			d := from.In(loc).AddDate(0, 0, rng.Intn(10)-3)
			busy.AllDay = append(busy.AllDay, AllDay{StartDate: d.Format("2006-01-02"), EndDate: d.AddDate(0, 0, 1+rng.Intn(3)).Format("2006-01-02")})
		}
		for n := rng.Intn(4); n > 0; n-- {
			s := from.Add(time.Duration(rng.Int63n(int64(to.Sub(from)) + 1)))
			bookings = append(bookings, Booking{Start: s, End: s.Add(time.Duration(5+rng.Intn(180)) * time.Minute)})
		}

		slots, err := Compute(r, busy, bookings, req)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Compute on generated data: non-validation error %v", err)
			}
			return // duration or range out of bounds
		}
		bb := time.Duration(r.BufferBeforeMin) * time.Minute
		ba := time.Duration(r.BufferAfterMin) * time.Minute
		windows, err := WorkingWindows(r, from.Add(-48*time.Hour), to.Add(48*time.Hour))
		if err != nil {
			t.Fatalf("WorkingWindows: %v", err)
		}
		for k, sl := range slots {
			if k > 0 && !slots[k-1].Start.Before(sl.Start) {
				t.Fatalf("not sorted at %d", k)
			}
			if sl.Start.Before(from) || !sl.Start.Before(to) || !sl.End.Equal(sl.Start.Add(req.Duration)) {
				t.Fatalf("slot %v–%v outside request", sl.Start, sl.End)
			}
			if sl.Start.Before(now.Add(time.Duration(r.MinNoticeMin)*time.Minute)) || !sl.Start.Before(now.Add(time.Duration(r.HorizonDays)*24*time.Hour)) {
				t.Fatalf("slot %v violates notice/horizon", sl.Start)
			}
			occA, occB := sl.Start.Add(-bb), sl.End.Add(ba)
			for _, b := range busy.Intervals {
				if b.Start.Before(b.End) && b.Start.Before(occB) && occA.Before(b.End) {
					t.Fatalf("slot %v overlaps busy %v–%v", sl.Start, b.Start, b.End)
				}
			}
			for _, a := range busy.AllDay {
				bd, err := AllDayBounds(a, loc)
				if err != nil {
					t.Fatal(err)
				}
				if bd.Start.Before(occB) && occA.Before(bd.End) {
					t.Fatalf("slot %v overlaps all-day %v", sl.Start, a)
				}
			}
			for _, b := range bookings {
				if b.Start.Add(-bb).Before(occB) && occA.Before(b.End.Add(ba)) {
					t.Fatalf("slot %v overlaps booking %v", sl.Start, b)
				}
			}
			if !slices.ContainsFunc(windows, func(w Interval) bool { return !sl.Start.Before(w.Start) && !sl.End.After(w.End) }) {
				t.Fatalf("slot %v–%v outside working windows", sl.Start, sl.End)
			}
		}
		if len(slots) > 0 {
			ok, err := Free(r, busy, bookings, slots[0].Start, req.Duration, now)
			if err != nil || !ok {
				t.Fatalf("Free(first slot) = %v, %v", ok, err)
			}
		}
		// Same answer twice (no hidden state).
		again, _ := Compute(r, busy, bookings, req)
		if !reflect.DeepEqual(starts(again, loc), starts(slots, loc)) {
			t.Fatal("Compute is not deterministic")
		}
	})
}
