package fakegoogle

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/googleapi"
)

func TestCalendarListPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := 0; i < 4; i++ {
		if _, err := e.fg.CreateCalendar(CalendarSpec{Email: "alice@example.com", Summary: fmt.Sprintf("C%d", i),
			BackgroundColor: "#11223" + fmt.Sprint(i), TimeZone: "Europe/Berlin"}); err != nil {
			t.Fatal(err)
		}
	}
	// another account's calendar must not show up
	if _, err := e.fg.CreateAccount(Account{Email: "x@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fg.CreateCalendar(CalendarSpec{Email: "x@example.com", Summary: "X"}); err != nil {
		t.Fatal(err)
	}
	var got []*calendar.CalendarListEntry
	pt, pages := "", 0
	for {
		res, err := e.svc.CalendarList.List().MaxResults(2).PageToken(pt).Do()
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, res.Items...)
		if res.NextPageToken == "" {
			if res.NextSyncToken == "" {
				t.Fatal("no nextSyncToken on last page")
			}
			break
		}
		pt = res.NextPageToken
	}
	if pages != 3 || len(got) != 5 {
		t.Fatalf("pages %d items %d", pages, len(got))
	}
	if !got[0].Primary || got[0].Id != "alice@example.com" || got[0].AccessRole != "owner" || got[1].BackgroundColor != "#112230" || got[1].TimeZone != "Europe/Berlin" {
		t.Fatalf("entries %+v %+v", got[0], got[1])
	}
	if err := e.fg.DeleteCalendar(got[1].Id); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.CalendarList.List().Do()
	if err != nil || len(res.Items) != 4 {
		t.Fatalf("after delete: %v %d", err, len(res.Items))
	}
	_, err = e.svc.Events.List(got[1].Id).Do()
	if code, _ := apiCode(err); code != 404 {
		t.Fatalf("events of deleted calendar: %v", err)
	}
}

func insertN(t *testing.T, e *env, n int) []*calendar.Event {
	t.Helper()
	var out []*calendar.Event
	for i := 0; i < n; i++ {
		start := time.Date(2026, 10, 5, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
		ev, err := e.svc.Events.Insert(e.cal, &calendar.Event{Summary: fmt.Sprintf("E%d", i), Description: "d",
			Start: dt(start.Format(time.RFC3339), ""), End: dt(start.Add(30*time.Minute).Format(time.RFC3339), "")}).Do()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

func TestEventsListPagingSyncTokenOnLastPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	insertN(t, e, 7)
	items, pages, st := listAll(t, func(pt string) (*calendar.Events, error) {
		return e.svc.Events.List(e.cal).SingleEvents(true).ShowDeleted(true).MaxResults(3).PageToken(pt).Do()
	})
	if pages != 3 || len(items) != 7 {
		t.Fatalf("pages %d items %d", pages, len(items))
	}
	// nothing changed → empty incremental
	inc, _, st2 := listAll(t, func(pt string) (*calendar.Events, error) {
		return e.svc.Events.List(e.cal).SingleEvents(true).SyncToken(st).PageToken(pt).Do()
	})
	if len(inc) != 0 {
		t.Fatalf("incremental without changes: %d", len(inc))
	}
	// change one, delete one, add one
	if _, err := e.svc.Events.Patch(e.cal, items[0].Id, &calendar.Event{Summary: "changed"}).Do(); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Events.Delete(e.cal, items[1].Id).Do(); err != nil {
		t.Fatal(err)
	}
	insertN(t, e, 1)
	inc, _, _ = listAll(t, func(pt string) (*calendar.Events, error) {
		return e.svc.Events.List(e.cal).SingleEvents(true).SyncToken(st2).MaxResults(1).PageToken(pt).Do()
	})
	byID := map[string]*calendar.Event{}
	for _, it := range inc {
		byID[it.Id] = it
	}
	if len(inc) != 3 || byID[items[0].Id].Summary != "changed" || byID[items[1].Id].Status != "cancelled" {
		t.Fatalf("incremental %d items: %+v", len(inc), byID)
	}
	// sync token combined with a filter → 400
	_, err := e.svc.Events.List(e.cal).SyncToken(st2).TimeMin("2026-10-01T00:00:00Z").Do()
	if code, reason := apiCode(err); code != 400 || reason != "invalid" {
		t.Fatalf("syncToken+timeMin: %v", err)
	}
}

func TestEventsListEmptyPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	insertN(t, e, 2)
	if err := e.fg.AddFault(Fault{Op: "events.list", EmptyPages: 3}); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	pt := ""
	for {
		res, err := e.svc.Events.List(e.cal).PageToken(pt).Do()
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(res.Items))
		if res.NextPageToken == "" {
			if res.NextSyncToken == "" {
				t.Fatal("no sync token")
			}
			break
		}
		if res.NextSyncToken != "" {
			t.Fatal("sync token on a non-last page")
		}
		pt = res.NextPageToken
	}
	if fmt.Sprint(sizes) != "[0 0 0 2]" {
		t.Fatalf("page sizes %v", sizes)
	}
	// a page token can be used again (a retry after a failure)
	for i := 0; i < 2; i++ {
		res, err := e.svc.Events.List(e.cal).PageToken(pt).Do()
		if err != nil || len(res.Items) != 2 || res.NextSyncToken == "" {
			t.Fatalf("reuse %d: %v", i, err)
		}
	}
}

func TestCancelledItemsCarryOnlyID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	evs := insertN(t, e, 3)
	_, _, st := listAll(t, func(pt string) (*calendar.Events, error) {
		return e.svc.Events.List(e.cal).PageToken(pt).Do()
	})
	if err := e.svc.Events.Delete(e.cal, evs[0].Id).Do(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		call      *calendar.EventsListCall
		wantCount int
		wantGone  bool
	}{
		{"full, showDeleted=false", e.svc.Events.List(e.cal), 2, false},
		{"full, showDeleted=true", e.svc.Events.List(e.cal).ShowDeleted(true), 3, true},
		{"incremental", e.svc.Events.List(e.cal).SyncToken(st), 1, true},
		{"incremental singleEvents", e.svc.Events.List(e.cal).SyncToken(st).SingleEvents(true), 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var raw struct {
				Items []map[string]any `json:"items"`
			}
			res, err := tc.call.Do()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := res.MarshalJSON()
			_ = json.Unmarshal(b, &raw)
			if len(res.Items) != tc.wantCount {
				t.Fatalf("%d items", len(res.Items))
			}
			found := false
			for _, it := range raw.Items {
				if it["id"] != evs[0].Id {
					continue
				}
				found = true
				for k := range it {
					if k != "id" && k != "status" && k != "kind" && k != "etag" {
						t.Fatalf("cancelled item carries %q: %v", k, it)
					}
				}
				if it["status"] != "cancelled" {
					t.Fatalf("status %v", it["status"])
				}
			}
			if found != tc.wantGone {
				t.Fatalf("cancelled item present=%v", found)
			}
		})
	}
}

func TestSyncTokenInvalidation410(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	insertN(t, e, 1)
	_, _, st := listAll(t, func(pt string) (*calendar.Events, error) {
		return e.svc.Events.List(e.cal).PageToken(pt).Do()
	})
	if err := e.fg.InvalidateSyncTokens(e.cal); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{st, "CPunknown"} {
		_, err := e.svc.Events.List(e.cal).SyncToken(tok).Do()
		var ge *googleapi.Error
		code, reason := apiCode(err)
		if code != 410 || reason != "fullSyncRequired" {
			t.Fatalf("token %q: %v", tok, err)
		}
		_ = ge
	}
	// a full sync gives a working token again
	_, _, st = listAll(t, func(pt string) (*calendar.Events, error) {
		return e.svc.Events.List(e.cal).PageToken(pt).Do()
	})
	if _, err := e.svc.Events.List(e.cal).SyncToken(st).Do(); err != nil {
		t.Fatal(err)
	}
}

func TestInsertIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mk := func(id string) *calendar.Event {
		return &calendar.Event{Id: id, Summary: "booking", Start: dt("2026-10-05T10:00:00+02:00", ""), End: dt("2026-10-05T11:00:00+02:00", ""),
			ExtendedProperties: &calendar.EventExtendedProperties{Private: map[string]string{"belbo": "1"}}}
	}
	tests := []struct {
		name       string
		id         string
		pre        func()
		wantCode   int
		wantReason string
	}{
		{"client id ok", "booking0001", nil, 0, ""},
		{"duplicate", "booking0002", func() { _, _ = e.svc.Events.Insert(e.cal, mk("booking0002")).Do() }, 409, "duplicate"},
		{"duplicate of deleted", "booking0003", func() {
			_, _ = e.svc.Events.Insert(e.cal, mk("booking0003")).Do()
			_ = e.svc.Events.Delete(e.cal, "booking0003").Do()
		}, 409, "duplicate"},
		{"too short", "abcd", nil, 400, "invalid"},
		{"not base32hex", "bookingwxyz", nil, 400, "invalid"},
		{"upper case", "BOOKING0001", nil, 400, "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.pre != nil {
				tc.pre()
			}
			ev, err := e.svc.Events.Insert(e.cal, mk(tc.id)).Do()
			code, reason := apiCode(err)
			if code != tc.wantCode || reason != tc.wantReason {
				t.Fatalf("got %d %q (%v)", code, reason, err)
			}
			if err == nil && (ev.Id != tc.id || ev.ExtendedProperties.Private["belbo"] != "1" || ev.Etag == "" || ev.Updated == "" || ev.Status != "confirmed") {
				t.Fatalf("event %+v", ev)
			}
		})
	}
}

func TestPatchUpdateDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ev := insertN(t, e, 1)[0]
	e.fg.Advance(time.Minute)
	p, err := e.svc.Events.Patch(e.cal, ev.Id, &calendar.Event{Transparency: "transparent",
		Attendees: []*calendar.EventAttendee{{Email: "alice@example.com", Self: true, ResponseStatus: "declined"}}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary != ev.Summary || p.Transparency != "transparent" || p.Etag == ev.Etag || p.Updated == ev.Updated ||
		len(p.Attendees) != 1 || p.Attendees[0].ResponseStatus != "declined" {
		t.Fatalf("patched %+v", p)
	}
	u, err := e.svc.Events.Update(e.cal, ev.Id, &calendar.Event{Summary: "replaced",
		Start: &calendar.EventDateTime{Date: "2026-10-06"}, End: &calendar.EventDateTime{Date: "2026-10-07"}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if u.Summary != "replaced" || u.Description != "" || u.Start.Date != "2026-10-06" || u.Sequence < 1 {
		t.Fatalf("updated %+v", u)
	}
	steps := []struct {
		name string
		do   func() error
		want int
	}{
		{"delete", func() error { return e.svc.Events.Delete(e.cal, ev.Id).Do() }, 0},
		{"delete again", func() error { return e.svc.Events.Delete(e.cal, ev.Id).Do() }, 410},
		{"patch deleted", func() error {
			_, err := e.svc.Events.Patch(e.cal, ev.Id, &calendar.Event{Summary: "x"}).Do()
			return err
		}, 410},
		{"delete unknown", func() error { return e.svc.Events.Delete(e.cal, "unknown00").Do() }, 404},
		{"get unknown", func() error { _, err := e.svc.Events.Get(e.cal, "unknown00").Do(); return err }, 404},
		{"bad time range", func() error {
			_, err := e.svc.Events.Insert(e.cal, &calendar.Event{Start: dt("2026-10-05T10:00:00Z", ""), End: dt("2026-10-05T09:00:00Z", "")}).Do()
			return err
		}, 400},
		{"missing end", func() error {
			_, err := e.svc.Events.Insert(e.cal, &calendar.Event{Start: dt("2026-10-05T10:00:00Z", "")}).Do()
			return err
		}, 400},
	}
	for _, st := range steps {
		if code, _ := apiCode(st.do()); code != st.want {
			t.Fatalf("%s: code %d, want %d", st.name, code, st.want)
		}
	}
	got, err := e.svc.Events.Get(e.cal, ev.Id).Do()
	if err != nil || got.Status != "cancelled" {
		t.Fatalf("get deleted: %v %+v", err, got)
	}
}

func TestInsufficientScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.login(t, "alice@example.com", ConsentOptions{Untick: []string{ScopeCalendarEvents, ScopeCalendarReadonly}},
		oauth2.SetAuthURLParam("include_granted_scopes", "false"))
	svc := e.service(t, tok)
	_, err := svc.Events.List(e.cal).Do()
	if code, reason := apiCode(err); code != 403 || reason != "insufficientPermissions" {
		t.Fatalf("got %v", err)
	}
	ro := e.login(t, "alice@example.com", ConsentOptions{Untick: []string{ScopeCalendarEvents}},
		oauth2.SetAuthURLParam("include_granted_scopes", "false"))
	svc = e.service(t, ro)
	if _, err := svc.Events.List(e.cal).Do(); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Events.Insert(e.cal, &calendar.Event{Start: dt("2026-10-05T10:00:00Z", ""), End: dt("2026-10-05T11:00:00Z", "")}).Do()
	if code, _ := apiCode(err); code != 403 {
		t.Fatalf("insert with read-only scope: %v", err)
	}
}

func TestFaultInjectionThroughClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		fault      Fault
		call       func() error
		wantCode   int
		wantReason string
	}{
		{Fault{Op: "events.list", Status: 429}, func() error { _, err := e.svc.Events.List(e.cal).Do(); return err }, 429, "rateLimitExceeded"},
		{Fault{Op: "events.list", Status: 500}, func() error { _, err := e.svc.Events.List(e.cal).Do(); return err }, 500, "backendError"},
		{Fault{Op: "*", Calendar: e.cal, Status: 403, Reason: "rateLimitExceeded"}, func() error { _, err := e.svc.Events.Get(e.cal, "x0000").Do(); return err }, 403, "rateLimitExceeded"},
		{Fault{Op: "calendarList.list", Status: 503}, func() error { _, err := e.svc.CalendarList.List().Do(); return err }, 503, "backendError"},
		{Fault{Op: "events.insert", Status: 410, Reason: "fullSyncRequired"}, func() error {
			_, err := e.svc.Events.Insert(e.cal, &calendar.Event{}).Do()
			return err
		}, 410, "fullSyncRequired"},
	}
	for _, tc := range tests {
		if err := e.fg.AddFault(tc.fault); err != nil {
			t.Fatal(err)
		}
		code, reason := apiCode(tc.call())
		if code != tc.wantCode || reason != tc.wantReason {
			t.Fatalf("%+v: got %d %s", tc.fault, code, reason)
		}
	}
	// count=1 faults are used up
	if _, err := e.svc.Events.List(e.cal).Do(); err != nil {
		t.Fatal(err)
	}
	if n := e.fg.Calls("events.list"); n != 3 {
		t.Fatalf("events.list calls %d", n)
	}
	if n := e.fg.CallsByAccount("alice@example.com", "events.list"); n != 3 {
		t.Fatalf("alice events.list calls %d", n)
	}
	per := e.fg.CallsPerMinute("alice@example.com")
	if len(per) != 1 {
		t.Fatalf("per minute %v", per)
	}
	// token endpoint fault
	if err := e.fg.AddFault(Fault{Op: "token", Status: 400, Reason: "invalid_grant"}); err != nil {
		t.Fatal(err)
	}
	_, err := e.cfg.TokenSource(ctxT(t), &oauth2.Token{RefreshToken: e.tok.RefreshToken}).Token()
	if re := retrieveErr(t, err); re.ErrorCode != "invalid_grant" {
		t.Fatalf("token fault: %v", err)
	}
	// per-user rate limit
	if err := e.fg.AddFault(Fault{UserRateLimit: 2}); err != nil {
		t.Fatal(err)
	}
	e.fg.Advance(time.Minute)
	var codes []int
	for i := 0; i < 3; i++ {
		_, err := e.svc.CalendarList.List().Do()
		c, _ := apiCode(err)
		codes = append(codes, c)
	}
	if fmt.Sprint(codes) != "[0 0 403]" {
		t.Fatalf("rate limit codes %v", codes)
	}
	e.fg.ClearFaults()
}

func TestListParamsValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name string
		call *calendar.EventsListCall
		want int
	}{
		{"bad timeMin", e.svc.Events.List(e.cal).TimeMin("yesterday"), 400},
		{"orderBy startTime needs singleEvents", e.svc.Events.List(e.cal).OrderBy("startTime"), 400},
		{"bad pageToken", e.svc.Events.List(e.cal).PageToken("nope"), 400},
		{"sync+q", e.svc.Events.List(e.cal).SyncToken("x").Q("a"), 400},
		{"unknown calendar", e.svc.Events.List("nope@group.calendar.google.com"), 404},
		{"primary alias", e.svc.Events.List("primary"), 0},
		{"maxResults over 2500 is clipped", e.svc.Events.List(e.cal).MaxResults(9999), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.call.Do()
			if code, _ := apiCode(err); code != tc.want {
				t.Fatalf("code %d want %d (%v)", code, tc.want, err)
			}
		})
	}
	_ = strings.TrimSpace
}
