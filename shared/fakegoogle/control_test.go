package fakegoogle

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func do(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestControlAPIHappyPath(t *testing.T) {
	t.Parallel()
	fg, srv := Start(t, Options{Start: time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)})
	u := srv.URL + "/_fake"
	steps := []struct {
		method, path, body string
		want               int
		contains           string
	}{
		{"POST", "/accounts", `{"email":"dora@example.com","name":"Dora"}`, 201, `"sub"`},
		{"GET", "/accounts", "", 200, "dora@example.com"},
		{"POST", "/calendars", `{"email":"dora@example.com","id":"dora-cal","summary":"Dora","backgroundColor":"#ff0000","timeZone":"Europe/Berlin"}`, 201, `"resourceId"`},
		{"PATCH", "/calendars/dora-cal", `{"summary":"Renamed","backgroundColor":"#00ff00"}`, 200, "Renamed"},
		{"POST", "/calendars/dora-cal/events", `{"id":"evt00001","summary":"x","start":{"dateTime":"2026-10-02T10:00:00+02:00"},"end":{"dateTime":"2026-10-02T11:00:00+02:00"}}`, 201, "evt00001"},
		{"PATCH", "/calendars/dora-cal/events/evt00001", `{"summary":"y"}`, 200, `"summary": "y"`},
		{"GET", "/calendars/dora-cal/events?singleEvents=true", "", 200, "evt00001"},
		{"DELETE", "/calendars/dora-cal/events/evt00001", "", 204, ""},
		{"DELETE", "/calendars/dora-cal/events/evt00001", "", 410, "deleted"},
		{"GET", "/clock", "", 200, "2026-10-01T08:00:00Z"},
		{"POST", "/clock", `{"advance":"90m"}`, 200, "2026-10-01T09:30:00Z"},
		{"POST", "/clock", `{"set":"2026-12-01T00:00:00Z"}`, 200, "2026-12-01T00:00:00Z"},
		{"POST", "/faults", `{"op":"events.list","status":503,"count":2}`, 204, ""},
		{"GET", "/faults", "", 200, "events.list"},
		{"DELETE", "/faults", "", 204, ""},
		{"POST", "/faults", `{"invalidateSyncTokens":"dora-cal"}`, 204, ""},
		{"POST", "/calendars/dora-cal/invalidateSyncTokens", "", 204, ""},
		{"GET", "/channels", "", 200, "channels"},
		{"GET", "/deliveries", "", 200, "deliveries"},
		{"GET", "/calls", "", 200, "byOp"},
		{"GET", "/grants", "", 200, "revoked"},
		{"POST", "/seed-demo", "", 204, ""},
		{"DELETE", "/calendars/dora-cal", "", 204, ""},
		{"GET", "/calendars/dora-cal/events", "", 404, "unknown_calendar"},
	}
	for _, st := range steps {
		code, body := do(t, st.method, u+st.path, st.body)
		if code != st.want || !strings.Contains(body, st.contains) {
			t.Fatalf("%s %s: %d %s", st.method, st.path, code, body)
		}
	}
	if got := fg.Now(); !got.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("clock %v", got)
	}
	if len(fg.Calendars()) != 4 {
		t.Fatalf("calendars %+v", fg.Calendars())
	}
}

func TestControlAPIBadInput(t *testing.T) {
	t.Parallel()
	fg, srv := Start(t, Options{})
	if _, err := fg.CreateAccount(Account{Email: "e@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := fg.CreateCalendar(CalendarSpec{Email: "e@example.com", ID: "cal1"}); err != nil {
		t.Fatal(err)
	}
	u := srv.URL + "/_fake"
	tests := []struct {
		name, method, path, body string
		want                     int
		code                     string
	}{
		{"empty body", "POST", "/accounts", "", 400, "empty_body"},
		{"not json", "POST", "/accounts", "{", 400, "invalid_json"},
		{"unknown field", "POST", "/accounts", `{"email":"a@b.c","x":1}`, 400, "invalid_json"},
		{"trailing", "POST", "/accounts", `{"email":"a@b.c"} {}`, 400, "invalid_json"},
		{"bad email", "POST", "/accounts", `{"email":"nope"}`, 400, "invalid_email"},
		{"duplicate account", "POST", "/accounts", `{"email":"E@example.com"}`, 409, "account_exists"},
		{"calendar for unknown account", "POST", "/calendars", `{"email":"zz@example.com"}`, 404, "unknown_account"},
		{"bad tz", "POST", "/calendars", `{"email":"e@example.com","timeZone":"Mars/Base"}`, 400, "invalid_time_zone"},
		{"bad colour", "PATCH", "/calendars/cal1", `{"backgroundColor":"red"}`, 400, "invalid_color"},
		{"unknown calendar", "PATCH", "/calendars/nope", `{"summary":"x"}`, 404, "unknown_calendar"},
		{"bad clock", "POST", "/clock", `{"set":"tomorrow"}`, 400, "invalid_time"},
		{"bad duration", "POST", "/clock", `{"advance":"soon"}`, 400, "invalid_duration"},
		{"both clock fields", "POST", "/clock", `{"set":"2026-01-01T00:00:00Z","advance":"1m"}`, 400, "ambiguous"},
		{"fault without op", "POST", "/faults", `{"status":500}`, 400, "missing_op"},
		{"fault bad op", "POST", "/faults", `{"op":"events.explode","status":500}`, 400, "unknown_op"},
		{"fault bad status", "POST", "/faults", `{"op":"events.list","status":200}`, 400, "invalid_status"},
		{"fault bad latency", "POST", "/faults", `{"op":"events.list","latency":"forever"}`, 400, "invalid_latency"},
		{"fault bad push", "POST", "/faults", `{"push":"explode"}`, 400, "invalid_push"},
		{"fault negative count", "POST", "/faults", `{"op":"*","status":500,"count":-1}`, 400, "invalid_count"},
		{"event bad json type", "POST", "/calendars/cal1/events", `{"summary":5}`, 400, "invalid_json"},
		{"event without times", "POST", "/calendars/cal1/events", `{"summary":"x"}`, 400, "invalid_event"},
		{"event bad rrule", "POST", "/calendars/cal1/events", `{"start":{"date":"2026-10-01"},"end":{"date":"2026-10-02"},"recurrence":["RRULE:FREQ=SECONDLY"]}`, 400, "invalid_event"},
		{"patch unknown event", "PATCH", "/calendars/cal1/events/nope0", `{"summary":"x"}`, 404, "not_found"},
		{"unknown route", "GET", "/nope", "", 404, "not_found"},
		{"wrong method", "PUT", "/clock", "", 405, "method_not_allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, body := do(t, tc.method, u+tc.path, tc.body)
			var e struct {
				Error struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("body not JSON: %s", body)
			}
			if code != tc.want || e.Error.Code != tc.code || e.Error.Message == "" {
				t.Fatalf("got %d %s", code, body)
			}
		})
	}
	// oversized bodies are refused, not read
	big := `{"email":"` + strings.Repeat("a", 2<<20) + `@x"}`
	if code, _ := do(t, "POST", u+"/accounts", big); code != 413 {
		t.Fatalf("big body: %d", code)
	}
}

func TestGoogleEndpointsNeverPanicOnJunk(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.srv.URL
	junk := []struct{ method, path, body string }{
		{"POST", "/calendar/v3/calendars/" + e.cal + "/events", `{"start":{"dateTime":"x"}}`},
		{"POST", "/calendar/v3/calendars/" + e.cal + "/events", `[]`},
		{"POST", "/calendar/v3/calendars/" + e.cal + "/events/watch", `{"id":"a","type":"web_hook","address":"ftp://x"}`},
		{"PATCH", "/calendar/v3/calendars/" + e.cal + "/events/xx", `null`},
		{"POST", "/token", "grant_type=authorization_code&code=%ZZ"},
		{"GET", "/calendar/v3/nothing", ""},
		{"DELETE", "/calendar/v3/users/me/calendarList", ""},
		{"POST", "/o/oauth2/approve", "req=nope&action=allow"},
	}
	for _, j := range junk {
		req, _ := http.NewRequest(j.method, u+j.path, strings.NewReader(j.body))
		req.Header.Set("Authorization", "Bearer "+e.tok.AccessToken)
		if j.method == "POST" && !strings.HasPrefix(j.path, "/calendar") {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Fatalf("%s %s: %d", j.method, j.path, resp.StatusCode)
		}
	}
}

func FuzzControlDecode(f *testing.F) {
	for _, s := range []string{`{"op":"events.list","status":500,"count":2}`, `{"push":"drop","until":"2026-01-01T00:00:00Z"}`,
		`{"latency":"200ms","op":"*"}`, `{"emptyPages":3,"op":"events.list"}`, `{}`, `[]`, `{"count":-5}`, `null`} {
		f.Add(s)
	}
	fg, calls := New(Options{}), 0
	f.Fuzz(func(t *testing.T, s string) {
		// A fresh fake now and then: the accounts and calendars accepted below would
		// otherwise pile up over a million executions and slow every one of them.
		if calls++; calls%1000 == 0 {
			fg = New(Options{})
		}
		var fl Fault
		if err := decodeControl([]byte(s), &fl); err != nil {
			return
		}
		// Properties: what decodes re-encodes to a body that decodes to the same fault (the
		// control API loses nothing it accepted), and a negative count is always refused.
		again, err := json.Marshal(fl)
		if err != nil {
			t.Fatalf("%q: re-encode %+v: %v", s, fl, err)
		}
		var fl2 Fault
		if err := decodeControl(again, &fl2); err != nil || fl2 != fl {
			t.Fatalf("%q: decoded %+v, re-encoded %s, decoded again %+v (%v)", s, fl, again, fl2, err)
		}
		if err := fg.AddFault(fl); fl.Count < 0 && err == nil {
			t.Fatalf("%q: a fault with count %d was accepted", s, fl.Count)
		}
		fg.ClearFaults()
		var a Account
		if decodeControl([]byte(s), &a) == nil {
			_, _ = fg.CreateAccount(a)
		}
		var c CalendarSpec
		if decodeControl([]byte(s), &c) == nil {
			_, _ = fg.CreateCalendar(c)
		}
	})
}

func FuzzRRule(f *testing.F) {
	for _, s := range []string{"RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10", "RRULE:FREQ=DAILY;INTERVAL=3;UNTIL=20271231T000000Z",
		"RRULE:FREQ=MONTHLY;BYDAY=-1FR", "RRULE:FREQ=MONTHLY;BYMONTHDAY=31", "RRULE:FREQ=YEARLY", "EXDATE;TZID=Europe/Berlin:20261012T090000",
		"RRULE:FREQ=WEEKLY;INTERVAL=1000;COUNT=100000"} {
		f.Add(s)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2026, 10, 19, 9, 0, 0, 0, berlin)
	limit := start.Add(ExpansionHorizon)
	f.Fuzz(func(t *testing.T, line string) {
		rc, err := parseRecurrence([]string{line})
		if err != nil {
			return
		}
		got := rc.expand(start, false, berlin, limit, maxInstancesPerSeries)
		for i, x := range got {
			if x.Before(start) || x.After(limit) || (i > 0 && !x.After(got[i-1])) {
				t.Fatalf("%q: bad instance %v at %d", line, x, i)
			}
		}
	})
}
