package fakegoogle

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/googleapi"
)

// ---- fields masks (fields.go) ----

func TestFieldsMaskThroughClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ev, err := e.svc.Events.Insert(e.cal, &calendar.Event{Summary: "Dentist", Description: "secret", Location: "Main St",
		Start: dt("2026-10-05T10:00:00+02:00", ""), End: dt("2026-10-05T11:00:00+02:00", ""),
		Attendees:          []*calendar.EventAttendee{{Email: "alice@example.com", Self: true, ResponseStatus: "accepted"}},
		ExtendedProperties: &calendar.EventExtendedProperties{Private: map[string]string{"k": "v"}}}).
		Fields("id,status").Do()
	if err != nil {
		t.Fatal(err)
	}
	if ev.Id == "" || ev.Status != "confirmed" || ev.Summary != "" || ev.Start != nil || ev.Etag != "" {
		t.Fatalf("insert with fields=id,status answered %+v", ev)
	}
	// events.list: only what the mask names; nextSyncToken is not named, so it is absent
	res, err := e.svc.Events.List(e.cal).Fields("items(id,summary,start),nextPageToken").Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 || res.NextSyncToken != "" || res.Kind != "" || res.TimeZone != "" {
		t.Fatalf("list: %+v", res)
	}
	it := res.Items[0]
	if it.Id != ev.Id || it.Summary != "Dentist" || it.Start == nil || it.Start.DateTime == "" ||
		it.End != nil || it.Description != "" || it.Location != "" || it.Attendees != nil || it.Updated != "" {
		t.Fatalf("masked item %+v", it)
	}
	// nested selections: a/b paths and a(b,c) sub-selections
	res, err = e.svc.Events.List(e.cal).Fields("nextSyncToken,items(id,start/dateTime,attendees(self,responseStatus),extendedProperties/private)").Do()
	if err != nil {
		t.Fatal(err)
	}
	it = res.Items[0]
	if res.NextSyncToken == "" || it.Start.DateTime == "" || it.Start.TimeZone != "" || len(it.Attendees) != 1 ||
		!it.Attendees[0].Self || it.Attendees[0].ResponseStatus != "accepted" || it.Attendees[0].Email != "" ||
		it.ExtendedProperties.Private["k"] != "v" || it.Summary != "" {
		t.Fatalf("nested mask: %+v attendees %+v", it, it.Attendees)
	}
	// items/* keeps every field of an item
	res, err = e.svc.Events.List(e.cal).Fields("items/*").Do()
	if err != nil || res.Items[0].Location != "Main St" || res.Items[0].Description != "secret" {
		t.Fatalf("items/*: %v %+v", err, res)
	}
	// events.get and events.patch
	got, err := e.svc.Events.Get(e.cal, ev.Id).Fields("summary").Do()
	if err != nil || got.Summary != "Dentist" || got.Id != "" || got.Description != "" {
		t.Fatalf("get: %v %+v", err, got)
	}
	p, err := e.svc.Events.Patch(e.cal, ev.Id, &calendar.Event{Summary: "Moved"}).Fields("id,updated").Do()
	if err != nil || p.Id != ev.Id || p.Updated == "" || p.Summary != "" {
		t.Fatalf("patch: %v %+v", err, p)
	}
	if full := e.fg.Event(e.cal, ev.Id); full.Summary != "Moved" || full.Description != "secret" {
		t.Fatalf("the mask changed what is stored: %+v", full)
	}
	// calendarList.list / get
	cl, err := e.svc.CalendarList.List().Fields("items(id,primary)").Do()
	if err != nil || len(cl.Items) != 1 || cl.Items[0].Id != e.cal || !cl.Items[0].Primary ||
		cl.Items[0].Summary != "" || cl.Items[0].TimeZone != "" || cl.NextSyncToken != "" {
		t.Fatalf("calendarList: %v %+v", err, cl)
	}
	ce, err := e.svc.CalendarList.Get("primary").Fields("timeZone").Do()
	if err != nil || ce.TimeZone != "Europe/Berlin" || ce.Id != "" {
		t.Fatalf("calendarList.get: %v %+v", err, ce)
	}
	// unknown names and broken syntax → 400, nothing done
	for _, bad := range []string{"items(id,summmary)", "nope", "items(id", "items(start(dateTime,zone))", "items/id)"} {
		_, err := e.svc.Events.List(e.cal).Fields(googleapi.Field(bad)).Do()
		if code, reason := apiCode(err); code != 400 || reason != "invalidParameter" {
			t.Errorf("fields=%s: %v", bad, err)
		}
	}
	before := len(e.fg.Events(e.cal, false, time.Time{}, time.Time{}))
	_, err = e.svc.Events.Insert(e.cal, &calendar.Event{Summary: "x", Start: dt("2026-10-06T10:00:00Z", ""),
		End: dt("2026-10-06T11:00:00Z", "")}).Fields("idd").Do()
	if code, _ := apiCode(err); code != 400 || len(e.fg.Events(e.cal, false, time.Time{}, time.Time{})) != before {
		t.Fatalf("insert with a bad mask: %v", err)
	}
	// errors are not masked
	_, err = e.svc.Events.Get(e.cal, "unknownid1").Fields("id").Do()
	if code, reason := apiCode(err); code != 404 || reason != "notFound" {
		t.Fatalf("masked error: %v", err)
	}
}

func TestParseFields(t *testing.T) {
	t.Parallel()
	sel, err := parseFields("a,b/c,d(e,f/g(h)),b/i")
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]any{"a": 1, "x": 2, "b": map[string]any{"c": 3, "i": 4, "j": 5},
		"d": []any{map[string]any{"e": 6, "z": 7, "f": map[string]any{"g": map[string]any{"h": 8, "k": 9}}}}}
	b, _ := json.Marshal(sel.apply(in))
	if want := `{"a":1,"b":{"c":3,"i":4},"d":[{"e":6,"f":{"g":{"h":8}}}]}`; string(b) != want {
		t.Fatalf("got %s want %s", b, want)
	}
	for _, bad := range []string{"", "a,", "a(", "a()", "(a)", "a/", "a)b", "a,,b"} {
		if _, err := parseFields(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// ---- irregular pages (paging.go) ----

func TestIrregularPagesThroughClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created := insertN(t, e, 40)
	if err := e.fg.SetPaging(&Paging{Seed: 7, Short: 0.5, Empty: 0.3}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	short, emptyMiddle, pagesTotal := 0, 0, 0
	for round := 0; round < 5; round++ {
		var sizes []int
		items, pages, st := listAll(t, func(pt string) (*calendar.Events, error) {
			res, err := e.svc.Events.List(e.cal).SingleEvents(true).MaxResults(5).PageToken(pt).Do()
			if err == nil {
				sizes = append(sizes, len(res.Items))
			}
			return res, err
		})
		if len(items) != 40 || st == "" {
			t.Fatalf("round %d: %d items over %d pages", round, len(items), pages)
		}
		for _, it := range items {
			seen[it.Id]++
		}
		for i, n := range sizes {
			switch {
			case n > 5:
				t.Fatalf("page of %d > maxResults", n)
			case n == 0 && i > 0 && i < len(sizes)-1:
				emptyMiddle++
			case n > 0 && n < 5 && i < len(sizes)-1:
				short++
			}
		}
		pagesTotal += pages
	}
	for _, c := range created {
		if seen[c.Id] != 5 {
			t.Fatalf("event %s listed %d times over 5 listings", c.Id, seen[c.Id])
		}
	}
	if short == 0 || emptyMiddle == 0 {
		t.Fatalf("no irregular page seen: short %d, empty in the middle %d, pages %d", short, emptyMiddle, pagesTotal)
	}
	// back to full pages
	if err := e.fg.SetPaging(nil); err != nil {
		t.Fatal(err)
	}
	_, pages, _ := listAll(t, func(pt string) (*calendar.Events, error) {
		return e.svc.Events.List(e.cal).SingleEvents(true).MaxResults(5).PageToken(pt).Do()
	})
	if pages != 8 {
		t.Fatalf("regular paging: %d pages", pages)
	}
	if err := e.fg.SetPaging(&Paging{Empty: 1}); err == nil {
		t.Fatal("empty=1 would never end a listing")
	}
}

// ---- access-token expiry (tokens.go) ----

func TestAccessTokenExpiryAnswers401UntilRefreshed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := ctxT(t)
	if _, err := e.svc.CalendarList.List().Do(); err != nil {
		t.Fatal(err)
	}
	// on demand: every live access token of the account ends, the refresh token lives on
	if n := e.fg.ExpireAccessTokens("Alice@example.com"); n != 1 {
		t.Fatalf("expired %d tokens", n)
	}
	_, err := e.svc.CalendarList.List().Do()
	if code, reason := apiCode(err); code != 401 || reason != "authError" {
		t.Fatalf("expired access token: %v", err)
	}
	// golang.org/x/oauth2 still believes the token valid (its expiry runs on the real
	// clock), so its token source does not refresh by itself
	ts := e.cfg.TokenSource(ctx, e.tok)
	cur, err := ts.Token()
	if err != nil || cur.AccessToken != e.tok.AccessToken {
		t.Fatalf("token source refreshed on its own: %v", err)
	}
	// a refresh gives a working token: the grant is alive
	stale := *e.tok
	stale.Expiry = time.Now().Add(-time.Minute)
	fresh, err := e.cfg.TokenSource(ctx, &stale).Token()
	if err != nil {
		t.Fatal(err)
	}
	svc := e.service(t, fresh)
	if _, err := svc.Events.List(e.cal).Do(); err != nil {
		t.Fatalf("refreshed token: %v", err)
	}
	// the fault: the matching call's token expires just before it is served
	if err := e.fg.AddFault(Fault{Op: "events.list", ExpireAccessToken: true}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Events.List(e.cal).Do()
	if code, reason := apiCode(err); code != 401 || reason != "authError" {
		t.Fatalf("fault: %v", err)
	}
	if _, err := svc.CalendarList.List().Do(); err == nil {
		t.Fatal("the token stays expired after the fault")
	}
	// on the fake clock: 3599 s after issue
	again, err := e.cfg.TokenSource(ctx, &stale).Token()
	if err != nil {
		t.Fatal(err)
	}
	svc = e.service(t, again)
	e.fg.Advance(3598 * time.Second)
	if _, err := svc.CalendarList.List().Do(); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	e.fg.Advance(2 * time.Second)
	if _, err := svc.CalendarList.List().Do(); err == nil {
		t.Fatal("after 3599 s the access token still works")
	}
	if err := e.fg.AddFault(Fault{Op: "token", ExpireAccessToken: true}); err == nil {
		t.Fatal("expireAccessToken on the token endpoint accepted")
	}
}

// ---- cancelled-instances window (series.go) ----

func TestCancelledInstancesWindow(t *testing.T) {
	t.Parallel()
	for _, window := range []time.Duration{0, 183 * 24 * time.Hour} {
		t.Run(fmt.Sprint(window), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.fg.SetCancelledInstancesWindow(window)
			// weekly for a year, from 2026-10-05 (the fake's now is 2026-10-01)
			m, err := e.svc.Events.Insert(e.cal, &calendar.Event{Summary: "Weekly",
				Start: dt("2026-10-05T09:00:00", "Europe/Berlin"), End: dt("2026-10-05T10:00:00", "Europe/Berlin"),
				Recurrence: []string{"RRULE:FREQ=WEEKLY;COUNT=52"}}).Do()
			if err != nil {
				t.Fatal(err)
			}
			all, _, st := listAll(t, func(pt string) (*calendar.Events, error) {
				return e.svc.Events.List(e.cal).SingleEvents(true).ShowDeleted(true).MaxResults(100).PageToken(pt).Do()
			})
			if len(all) != 52 {
				t.Fatalf("%d instances", len(all))
			}
			e.fg.Advance(30 * time.Minute) // within the access token's hour
			deletedAt := e.fg.Now()
			if err := e.svc.Events.Delete(e.cal, m.Id).Do(); err != nil {
				t.Fatal(err)
			}
			inc, _, _ := listAll(t, func(pt string) (*calendar.Events, error) {
				return e.svc.Events.List(e.cal).SingleEvents(true).SyncToken(st).MaxResults(100).PageToken(pt).Do()
			})
			full, _, _ := listAll(t, func(pt string) (*calendar.Events, error) {
				return e.svc.Events.List(e.cal).SingleEvents(true).ShowDeleted(true).MaxResults(100).PageToken(pt).Do()
			})
			for name, items := range map[string][]*calendar.Event{"incremental": inc, "full showDeleted": full} {
				last := time.Time{}
				for _, it := range items {
					ost, err := time.Parse(time.RFC3339, it.OriginalStartTime.DateTime)
					if err != nil || it.Status != "cancelled" {
						t.Fatalf("%s: %+v", name, it)
					}
					if ost.After(last) {
						last = ost
					}
				}
				want := 52
				if window > 0 {
					want = 0
					for i := 0; i < 52; i++ {
						if !time.Date(2026, 10, 5, 7, 0, 0, 0, time.UTC).AddDate(0, 0, 7*i).After(deletedAt.Add(window)) {
							want++
						}
					}
					if last.After(deletedAt.Add(window)) {
						t.Fatalf("%s: instance %s beyond the window reported", name, last)
					}
				}
				if len(items) != want || want < 20 {
					t.Fatalf("%s: %d cancelled instances, want %d", name, len(items), want)
				}
			}
			// the series master is still reported cancelled with singleEvents=false, and
			// the live view has nothing left
			res, err := e.svc.Events.List(e.cal).ShowDeleted(true).Do()
			if err != nil || len(res.Items) != 1 || res.Items[0].Id != m.Id || res.Items[0].Status != "cancelled" {
				t.Fatalf("singleEvents=false: %v %+v", err, res)
			}
			if n := len(e.fg.Events(e.cal, true, time.Time{}, time.Time{})); n != 0 {
				t.Fatalf("%d live instances", n)
			}
		})
	}
}

// ---- testing-mode refresh tokens (testingmode.go) ----

func TestTestingModeRefreshTokensExpireAfter7Days(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := ctxT(t)
	refresh := func() error {
		_, err := e.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: e.tok.RefreshToken}).Token()
		return err
	}
	e.fg.Advance(30 * 24 * time.Hour)
	if err := refresh(); err != nil {
		t.Fatalf("published app: refresh after 30 days: %v", err)
	}
	e.fg.SetRefreshTokenTTL(TestingModeRefreshTokenTTL)
	err := refresh()
	if re := retrieveErr(t, err); re.ErrorCode != "invalid_grant" || re.ErrorDescription != errTokenRevoked {
		t.Fatalf("testing app after 30 days: %+v", re)
	}
	tok := e.login(t, "alice@example.com", ConsentOptions{})
	e.tok = tok
	e.fg.Advance(TestingModeRefreshTokenTTL - time.Minute)
	if err := refresh(); err != nil {
		t.Fatalf("6 days 23:59 after consent: %v", err)
	}
	e.fg.Advance(time.Minute)
	if re := retrieveErr(t, refresh()); re.ErrorCode != "invalid_grant" {
		t.Fatalf("7 days after consent: %+v", re)
	}
	// control route
	post := func(path, body string) int {
		resp, err := http.Post(e.fg.BaseURL()+path, "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := post("/_fake/refreshTokenTTL", `{"ttl":"0s"}`); st != 204 {
		t.Fatalf("ttl 0: %d", st)
	}
	if err := refresh(); err != nil {
		t.Fatalf("published again: %v", err)
	}
	if st := post("/_fake/refreshTokenTTL", `{"ttl":"-1h"}`); st != 400 {
		t.Fatalf("negative ttl: %d", st)
	}
}

func TestParityControlRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequestWithContext(context.Background(), method, e.fg.BaseURL()+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	checks := []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/_fake/paging", `{"seed":3,"short":0.5,"empty":0.2}`, 204},
		{"POST", "/_fake/paging", `{"short":2}`, 400},
		{"POST", "/_fake/paging", `{"shrt":0.5}`, 400},
		{"DELETE", "/_fake/paging", ``, 204},
		{"GET", "/_fake/paging", ``, 405},
		{"POST", "/_fake/cancelledInstancesWindow", `{"window":"4392h"}`, 204},
		{"POST", "/_fake/cancelledInstancesWindow", `{"window":"soon"}`, 400},
		{"POST", "/_fake/accounts/alice@example.com/expireAccessTokens", ``, 200},
		{"POST", "/_fake/faults", `{"op":"events.list","expireAccessToken":true}`, 204},
		{"POST", "/_fake/faults", `{"op":"events.list","expireAccessToken":true,"status":401}`, 400},
	}
	for _, c := range checks {
		if st, body := do(c.method, c.path, c.body); st != c.want {
			t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, st, body)
		}
	}
	if _, err := e.svc.CalendarList.List().Do(); err == nil {
		t.Fatal("access token still valid after expireAccessTokens")
	}
}
