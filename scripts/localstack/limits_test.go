package localstack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/booking"
)

// weekdaySlots returns n distinct 30-minute slot starts (Berlin, 09:00–16:30 on weekdays)
// from day on.
func weekdaySlots(day time.Time, n int) []string {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	var out []string
	for d := day; len(out) < n; d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		for m := 9 * 60; m < 17*60 && len(out) < n; m += 30 {
			out = append(out, time.Date(d.Year(), d.Month(), d.Day(), m/60, m%60, 0, 0, berlin).Format(time.RFC3339))
		}
	}
	return out
}

// TestBookLimits: each limit (per client address, customer e-mail, staff member, tenant)
// answers 429 with Retry-After (the seconds to the end of its UTC window) and a JSON
// error at its hourly threshold, opens again when the hour ends, closes at the daily
// threshold and opens again the next day. Only the dimension under test varies nothing;
// the others change with every request. The shared fake clock moves the windows; nothing
// sleeps. A cancel link keeps working while its sender is limited.
func TestBookLimits(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	for _, s := range []string{"anna", "ben", "cleo"} {
		h.setRules("t1", s, weekdayRules())
	}
	h.putService("t1", "cut", "Haircut", 30, 0, "anna", "ben", "cleo")
	// Rules allow 60 days ahead of the fake clock (2026-11-02 08:00 Berlin); every
	// booking takes a fresh slot from mid-December on.
	free := weekdaySlots(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), 400)
	next := 0
	staffs := []string{"anna", "ben", "cleo"}
	seq := 0
	book := func(dim string) (*http.Response, []byte) {
		seq++
		ip, email, staff := fmt.Sprintf("198.51.100.%d", seq%250+1), fmt.Sprintf("c%d@example.org", seq), staffs[seq%3]
		switch dim {
		case "ip":
			ip = "203.0.113.9"
		case "email":
			email = "Same@Example.org"
			if seq%2 == 0 {
				email = "same@example.org" // the limit key ignores case
			}
		case "staff":
			staff = "ben"
		}
		b, _ := json.Marshal(serviceBody("t1", staff, free[next], "cut", "Erika Mustermann", email))
		next++
		// The client (and any proxy before Google's) may write what it likes in front; only
		// the last entry, which Cloud Run's front end appends, counts.
		return h.raw("POST", h.Stack.Function("Book")+"/", "application/json", b, map[string]string{"X-Forwarded-For": "6.6.6." + strconv.Itoa(seq%250) + ", " + ip})
	}
	expect429 := func(dim string, window time.Duration) {
		t.Helper()
		resp, body := book(dim)
		if resp.StatusCode != http.StatusTooManyRequests || errCode(t, body) != "rate_limited" {
			t.Fatalf("%s: %d %s, want 429 rate_limited", dim, resp.StatusCode, body)
		}
		now := h.FG.Now()
		want := int(now.Truncate(window).Add(window).Sub(now) / time.Second)
		if got := resp.Header.Get("Retry-After"); got != strconv.Itoa(want) {
			t.Fatalf("%s: Retry-After %q, want %d (end of the %v window)", dim, got, want, window)
		}
		if !strings.Contains(string(body), dim) {
			t.Fatalf("%s: the message does not name the limit: %s", dim, body)
		}
	}
	expectOK := func(dim string, n int) []map[string]any {
		t.Helper()
		var out []map[string]any
		for i := 0; i < n; i++ {
			resp, body := book(dim)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("%s booking %d: %d %s", dim, i+1, resp.StatusCode, body)
			}
			out = append(out, decodeMap(t, body))
		}
		return out
	}
	high := map[string]int{"hour": 100000, "day": 100000}
	for _, dim := range []string{"ip", "email", "staff", "tenant"} {
		t.Run(dim, func(t *testing.T) {
			limits := map[string]any{"perIp": high, "perEmail": high, "perStaff": high, "perTenant": high}
			limits[map[string]string{"ip": "perIp", "email": "perEmail", "staff": "perStaff", "tenant": "perTenant"}[dim]] = map[string]int{"hour": 2, "day": 3}
			if code, body := h.manage("PATCH", "/v1/tenants/t1/settings", map[string]any{"limits": limits}); code != 200 {
				t.Fatalf("settings: %d %s", code, body)
			}
			// Start on a fresh UTC day (the tenant's daily count would otherwise include the
			// bookings of the subtests before).
			now := h.FG.Now()
			h.FG.Advance(now.Truncate(24 * time.Hour).Add(24 * time.Hour).Sub(now))
			made := expectOK(dim, 2)
			expect429(dim, time.Hour)
			if dim == "ip" {
				// Cancel links keep working for a limited client.
				resp, body := h.raw("POST", h.Stack.Function("Book")+"/cancel", "application/json",
					[]byte(`{"id":"`+made[0]["id"].(string)+`","cancelToken":"`+made[0]["cancelToken"].(string)+`"}`),
					map[string]string{"X-Forwarded-For": "203.0.113.9"})
				if resp.StatusCode != http.StatusNoContent {
					t.Fatalf("cancel while limited: %d %s", resp.StatusCode, body)
				}
			}
			h.FG.Advance(time.Hour) // the next hour: open again, until the day's 3
			expectOK(dim, 1)
			expect429(dim, 24*time.Hour)
			now = h.FG.Now()
			h.FG.Advance(now.Truncate(24 * time.Hour).Add(24 * time.Hour).Sub(now)) // the next UTC day
			expectOK(dim, 1)
		})
		if t.Failed() {
			return
		}
	}
	if leak := containsAny(h.Logs.String(), "Erika", "example.org", "203.0.113.9", "198.51.100."); leak != "" {
		t.Fatalf("logs carry %q", leak)
	}
}

// TestBookTextLandsCleanInGoogle: a customer name full of bidi overrides, zero-width
// characters, a control character and a URL is cleaned when booked and reaches the staff
// member's Google calendar as plain, unlinkable text.
func TestBookTextLandsCleanInGoogle(t *testing.T) {
	h := newHarness(t, harnessOptions{Push: true})
	primary, _ := h.addAccount("anna@example.com")
	conn := mustConnect(t, h, "t1", "anna", "anna@example.com")
	if code, body := h.manage("PUT", staffPath("t1", "anna")+"/connections/"+conn+"/calendars/"+url.PathEscape(primary), map[string]bool{"selected": true}); code != 200 {
		t.Fatalf("select: %d %s", code, body)
	}
	h.setRules("t1", "anna", weekdayRules())
	h.putService("t1", "cut", "Haircut", 30, 0, "anna")
	name := "\u202eEri\u200bka\u200d \u2066Muster\u00admann\u2069\u0007 \ufeffhttps://evil.example/pay?x=1 www.phish.test"
	resp, body := h.public("POST", h.Stack.Function("Book")+"/", serviceBody("t1", "anna", "2026-11-03T10:00:00+01:00", "cut", name, "erika@example.org"))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("book: %d %s", resp.StatusCode, body)
	}
	id := decodeMap(t, body)["id"].(string)
	b, err := booking.Get(t.Context(), h.Stack.Platform.Store, "t1", "anna", id)
	if err != nil {
		t.Fatal(err)
	}
	const stored = "Erika Mustermann https://evil.example/pay?x=1 www.phish.test"
	if b.CustomerName != stored {
		t.Fatalf("stored name %q, want %q", b.CustomerName, stored)
	}
	evID := booking.EventID(id)
	eventually(t, 30*time.Second, "the booking in Google", func() bool { return h.FG.Event(primary, evID) != nil })
	ev := h.FG.Event(primary, evID)
	const summary = "Haircut – Erika Mustermann https[:]//evil[.]example/pay?x=1 www[.]phish[.]test"
	t.Logf("customer typed %q; Google shows %q", name, ev.Summary)
	if ev.Summary != summary || ev.Description != "" {
		t.Fatalf("Google event summary %q description %q, want %q", ev.Summary, ev.Description, summary)
	}
}
