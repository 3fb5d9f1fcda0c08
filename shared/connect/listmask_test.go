package connect_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/option"

	"github.com/belbo/calsync/shared/connect"
	"github.com/belbo/calsync/shared/fakegoogle"
)

// TestCalendarListMaskCarriesWhatConnectStores (issue 15 item 4): the fake answers only
// what the `fields` mask names, as Google does. Every calendar-list field connect and
// the calendar-list refresh store or decide on (id, summary, summaryOverride,
// backgroundColor, timeZone, primary, accessRole, deleted — connect.go saveConnection,
// manage.go refresh) must come back through ListGoogleCalendars as in the full entry.
func TestCalendarListMaskCarriesWhatConnectStores(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	fg, _ := fakegoogle.Start(t, fakegoogle.Options{})
	if _, err := fg.CreateAccount(fakegoogle.Account{Email: "anna@example.com"}); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []fakegoogle.CalendarSpec{
		{Email: "anna@example.com", Primary: true, TimeZone: "Europe/Berlin", BackgroundColor: "#7986cb"},
		{Email: "anna@example.com", Summary: "Team", TimeZone: "America/New_York", BackgroundColor: "#0b8043"},
	} {
		if _, err := fg.CreateCalendar(spec); err != nil {
			t.Fatal(err)
		}
	}
	cfg := fg.OAuthConfig("https://app.example.test/cb", "email", fakegoogle.ScopeCalendarListReadonly)
	v := oauth2.GenerateVerifier()
	red, err := fg.Consent(ctx, cfg.AuthCodeURL("s", oauth2.AccessTypeOffline, oauth2.S256ChallengeOption(v)), "anna@example.com", fakegoogle.ConsentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.Exchange(ctx, red.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := calendar.NewService(ctx, option.WithEndpoint(fg.CalendarEndpoint()), option.WithHTTPClient(cfg.Client(ctx, tok)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := connect.ListGoogleCalendars(ctx, svc)
	if err != nil {
		t.Fatal(err)
	}
	full, err := svc.CalendarList.List().Do()
	if err != nil {
		t.Fatal(err)
	}
	read := func(e *calendar.CalendarListEntry) string {
		return fmt.Sprintf("id=%s summary=%q override=%q color=%s tz=%s primary=%v role=%s deleted=%v",
			e.Id, e.Summary, e.SummaryOverride, e.BackgroundColor, e.TimeZone, e.Primary, e.AccessRole, e.Deleted)
	}
	if len(got) != len(full.Items) || len(got) != 2 {
		t.Fatalf("%d entries through the mask, %d in full", len(got), len(full.Items))
	}
	for i := range got {
		if g, w := read(got[i]), read(full.Items[i]); g != w {
			t.Errorf("entry through the mask differs:\n got %s\nwant %s", g, w)
		}
	}
	// the mask is applied: a field connect does not read is absent
	if got[0].Etag != "" || got[0].Kind != "" {
		t.Fatalf("fields outside the mask came back: %+v", got[0])
	}
}
