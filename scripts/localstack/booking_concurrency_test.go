package localstack

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/store"
)

// TestBookingConcurrentSameSlot: 100 customers race for one slot → exactly one booking,
// 99 answers 409 slot_taken, one booking document.
func TestBookingConcurrentSameSlot(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.setRules("t1", "s1", weekdayRules())
	h.freeFormTenant("t1")
	const n = 100
	codes := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := h.public("POST", h.Stack.Function("Book")+"/", bookBody("t1", "s1", "2026-11-03T10:00:00+01:00", 30))
			codes[i], bodies[i] = resp.StatusCode, string(body)
		}()
	}
	wg.Wait()
	t.Logf("100 concurrent bookings of one slot took %v", time.Since(start))
	created, taken := 0, 0
	for i, c := range codes {
		switch c {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
			taken++
			if m := decodeMap(t, []byte(bodies[i])); m["error"].(map[string]any)["code"] != "slot_taken" {
				t.Errorf("409 body %s", bodies[i])
			}
		default:
			t.Errorf("request %d: %d %s", i, c, bodies[i])
		}
	}
	if created != 1 || taken != n-1 {
		t.Fatalf("created %d, taken %d; want 1 and %d", created, taken, n-1)
	}
	snaps, err := h.Stack.Platform.Store.Bookings("t1", "s1").Documents(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 1 {
		t.Fatalf("%d booking docs, want 1", len(snaps))
	}
	var b store.Booking
	if err := snaps[0].DataTo(&b); err != nil {
		t.Fatal(err)
	}
	if b.Status != store.BookingConfirmed || !b.Start.Equal(time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)) || b.End.Sub(b.Start) != 30*time.Minute {
		t.Fatalf("stored booking %+v", b)
	}
}

// TestBookingConcurrentOverlapping: 60-minute bookings starting every 30 minutes from
// 09:00 to 16:00 race concurrently, 5 requests each. Every pair of neighbours overlaps,
// so the successful set must be pairwise non-overlapping, and every start either succeeded
// or overlaps one that did (no false 409 from contention).
func TestBookingConcurrentOverlapping(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.setRules("t1", "s1", weekdayRules())
	h.freeFormTenant("t1")
	loc, _ := time.LoadLocation("Europe/Berlin")
	var starts []time.Time
	for m := 9 * 60; m <= 16*60; m += 30 {
		starts = append(starts, time.Date(2026, 11, 4, m/60, m%60, 0, 0, loc))
	}
	const per = 5
	type res struct {
		start time.Time
		code  int
		body  string
	}
	out := make(chan res, len(starts)*per)
	var wg sync.WaitGroup
	for _, s := range starts {
		for range per {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, body := h.public("POST", h.Stack.Function("Book")+"/", bookBody("t1", "s1", s.Format(time.RFC3339), 60))
				out <- res{s, resp.StatusCode, string(body)}
			}()
		}
	}
	wg.Wait()
	close(out)
	won := map[time.Time]int{}
	for r := range out {
		switch r.code {
		case http.StatusCreated:
			won[r.start]++
		case http.StatusConflict:
		default:
			t.Errorf("%s: %d %s", r.start, r.code, r.body)
		}
	}
	var ok []time.Time
	for _, s := range starts {
		if won[s] > 1 {
			t.Errorf("%s booked %d times", s, won[s])
		}
		if won[s] > 0 {
			ok = append(ok, s)
		}
	}
	for i := 1; i < len(ok); i++ {
		if ok[i].Sub(ok[i-1]) < time.Hour {
			t.Errorf("overlapping bookings at %s and %s", ok[i-1], ok[i])
		}
	}
	// Maximality: every start that lost overlaps a winner.
	for _, s := range starts {
		if won[s] > 0 {
			continue
		}
		overl := false
		for _, w := range ok {
			if s.Sub(w) < time.Hour && w.Sub(s) < time.Hour {
				overl = true
			}
		}
		if !overl {
			t.Errorf("%s lost although it overlaps no booking", s)
		}
	}
	snaps, err := h.Stack.Platform.Store.Bookings("t1", "s1").Documents(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != len(ok) {
		t.Fatalf("%d booking docs, %d successes", len(snaps), len(ok))
	}
	t.Logf("winners: %v", ok)
}
