package googlecal

import (
	"context"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/fakegoogle"
)

// connectFake logs alice in through the fake's consent flow with the product's OAuth
// client and returns the product's Google client and the refresh token.
func connectFake(t *testing.T) (*fakegoogle.Server, *Google, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	fg, _ := fakegoogle.Start(t, fakegoogle.Options{PushBackoff: time.Millisecond})
	if _, err := fg.CreateAccount(fakegoogle.Account{Email: "alice@example.com"}); err != nil {
		t.Fatal(err)
	}
	cal, err := fg.CreateCalendar(fakegoogle.CalendarSpec{Email: "alice@example.com", Summary: "Work", TimeZone: "Europe/Berlin", Primary: true})
	if err != nil {
		t.Fatal(err)
	}
	b := fg.BaseURL()
	g := New(config.Google{AuthURL: b + "/o/oauth2/auth", TokenURL: b + "/token", RevokeURL: fg.RevokeURL(),
		UserinfoURL: fg.UserinfoURL(), CalendarEndpoint: fg.CalendarEndpoint(), OAuthClientID: fakegoogle.DefaultClientID},
		fakegoogle.DefaultClientSecret, nil)
	g.OAuth.RedirectURL = "https://app.example.test/cb"
	v := oauth2.GenerateVerifier()
	red, err := fg.Consent(ctx, g.AuthURL("state", v), "alice@example.com", fakegoogle.ConsentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := g.Exchange(ctx, red.Query().Get("code"), v)
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("exchange: %v", err)
	}
	return fg, g, tok.RefreshToken, cal.ID
}

// TestExpiredAccessTokenIsRefreshedAndRetriedOnce: Google answers 401 for an access token
// it ended early; the product refreshes and repeats the request instead of taking the
// grant for revoked. Only invalid_grant at the token endpoint is ClassAuth.
func TestExpiredAccessTokenIsRefreshedAndRetriedOnce(t *testing.T) {
	t.Parallel()
	fg, g, refresh, calID := connectFake(t)
	ctx := context.Background()
	ts := g.RefreshingTokenSource(ctx, refresh)
	svc, err := g.CalendarService(ctx, ts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Events.List(calID).Do(); err != nil {
		t.Fatal(err)
	}
	tokenCalls := fg.Calls("token")

	// Google ends the access token early: one refresh, the call succeeds
	fg.ExpireAccessTokens("alice@example.com")
	if _, err := svc.Events.List(calID).Do(); err != nil {
		t.Fatalf("after the access token expired at Google: %v (class %s)", err, Classify(err))
	}
	if n := fg.Calls("token") - tokenCalls; n != 1 {
		t.Fatalf("%d token calls, want 1 refresh", n)
	}
	// a write with a body is repeated with its body
	if err := fg.AddFault(fakegoogle.Fault{Op: "events.insert", ExpireAccessToken: true}); err != nil {
		t.Fatal(err)
	}
	ev, err := svc.Events.Insert(calID, &calendar.Event{Summary: "Booked", Start: &calendar.EventDateTime{DateTime: "2026-10-05T10:00:00Z"},
		End: &calendar.EventDateTime{DateTime: "2026-10-05T11:00:00Z"}}).Do()
	if err != nil || ev.Summary != "Booked" {
		t.Fatalf("insert after 401: %v", err)
	}
	if n := len(fg.Events(calID, false, time.Time{}, time.Time{})); n != 1 {
		t.Fatalf("%d events after a repeated insert", n)
	}
	// on the fake clock: an hour later the cached token is refused; refreshed again
	fg.Advance(2 * time.Hour)
	if _, err := svc.CalendarList.List().Do(); err != nil {
		t.Fatalf("after the access token's hour on Google's clock: %v", err)
	}
	// a 401 that persists after a successful refresh is retried later, never a reauth
	if err := fg.AddFault(fakegoogle.Fault{Op: "events.list", Status: 401, Count: 2}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Events.List(calID).Do()
	if c := Classify(err); c != ClassUnauthorized || !c.Retryable() {
		t.Fatalf("persistent 401: %v (class %s)", err, c)
	}
	// the grant revoked: 401, the refresh answers invalid_grant → ClassAuth
	fg.RevokeAccount("alice@example.com")
	_, err = svc.Events.List(calID).Do()
	if c := Classify(err); c != ClassAuth {
		t.Fatalf("revoked grant: %v (class %s)", err, c)
	}
	// userinfo uses the same client
	if _, err := g.FetchUserInfo(ctx, ts); Classify(err) != ClassAuth {
		t.Fatalf("userinfo after revocation: %v", err)
	}
}

// TestTestingModeRefreshTokenExpiryIsReauth: an app left in Google's "Testing" publishing
// status gets refresh tokens that die after 7 days with invalid_grant — the product can
// only ask for a reconnect (ClassAuth); docs/deploy.md says to publish the app.
func TestTestingModeRefreshTokenExpiryIsReauth(t *testing.T) {
	t.Parallel()
	fg, g, refresh, calID := connectFake(t)
	fg.SetRefreshTokenTTL(fakegoogle.TestingModeRefreshTokenTTL)
	ctx := context.Background()
	svc, err := g.CalendarService(ctx, g.RefreshingTokenSource(ctx, refresh))
	if err != nil {
		t.Fatal(err)
	}
	fg.Advance(6 * 24 * time.Hour)
	if _, err := svc.Events.List(calID).Do(); err != nil {
		t.Fatalf("day 6: %v", err)
	}
	fg.Advance(24 * time.Hour)
	_, err = svc.Events.List(calID).Do()
	if c := Classify(err); c != ClassAuth {
		t.Fatalf("day 7: %v (class %s)", err, c)
	}
}
