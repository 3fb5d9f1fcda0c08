// Package googlecal talks to Google: the OAuth client (authorization URL, code exchange,
// refresh, revoke), userinfo, and the Calendar v3 client, all through the official client
// libraries pointed at the configured endpoints (Google's, or the fake Google locally).
// It classifies Google's errors so callers can decide retry versus permanent. It never
// logs or stores access tokens; refresh tokens pass through it only in memory.
package googlecal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/belbo/calsync/shared/config"
)

// Scopes are the least two-way sync needs: the account's e-mail and profile (to tell
// connections apart), the calendar list read-only, and events read/write.
var Scopes = []string{
	"openid",
	"https://www.googleapis.com/auth/userinfo.email",
	"https://www.googleapis.com/auth/userinfo.profile",
	"https://www.googleapis.com/auth/calendar.calendarlist.readonly",
	"https://www.googleapis.com/auth/calendar.events",
}

// RequiredScopes must all be granted for a connection to work (openid is implied by the
// e-mail scope in Google's answer, so it is not checked).
var RequiredScopes = Scopes[1:]

// Google is the configured set of endpoints and the OAuth client.
type Google struct {
	OAuth    *oauth2.Config
	Revoke   string
	Userinfo string
	Calendar string
	HTTP     *http.Client
}

// New builds the client for cfg with the OAuth client secret. Its OAuth configuration has no
// redirect URL: only the consent and the code exchange need one, and the connect flow that
// does them sets it (config.Connect).
func New(cfg config.Google, clientSecret string, hc *http.Client) *Google {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Google{
		OAuth: &oauth2.Config{
			ClientID:     cfg.OAuthClientID,
			ClientSecret: clientSecret,
			Scopes:       Scopes,
			Endpoint:     oauth2.Endpoint{AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		},
		Revoke:   cfg.RevokeURL,
		Userinfo: cfg.UserinfoURL,
		Calendar: cfg.CalendarEndpoint,
		HTTP:     hc,
	}
}

func (g *Google) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, g.HTTP)
}

// AuthURL is the consent URL: offline access, forced consent (so a refresh token comes
// back), incremental scopes, PKCE S256.
func (g *Google) AuthURL(state, verifier string) string {
	return g.OAuth.AuthCodeURL(state,
		oauth2.AccessTypeOffline,
		oauth2.SetAuthURLParam("prompt", "consent"),
		oauth2.SetAuthURLParam("include_granted_scopes", "true"),
		oauth2.S256ChallengeOption(verifier))
}

// Exchange trades an authorization code for tokens.
func (g *Google) Exchange(ctx context.Context, code, verifier string) (*oauth2.Token, error) {
	tok, err := g.OAuth.Exchange(g.ctx(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("exchange code: %w", err)
	}
	return tok, nil
}

// TokenSource refreshes access tokens from a refresh token.
func (g *Google) TokenSource(ctx context.Context, refreshToken string) oauth2.TokenSource {
	return g.OAuth.TokenSource(g.ctx(ctx), &oauth2.Token{RefreshToken: refreshToken})
}

// HTTPClient is an authorised client for one token source. With a
// *RefreshingTokenSource a request answered 401 is repeated once after a refresh
// (refresh.go).
func (g *Google) HTTPClient(ctx context.Context, ts oauth2.TokenSource) *http.Client {
	base := g.HTTP.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	if _, ok := ts.(*RefreshingTokenSource); !ok {
		ts = oauth2.ReuseTokenSource(nil, ts)
	}
	return &http.Client{Transport: &retryOn401{src: ts, base: base}}
}

// Calendar is a Calendar v3 client for one account.
func (g *Google) CalendarService(ctx context.Context, ts oauth2.TokenSource) (*calendar.Service, error) {
	svc, err := calendar.NewService(ctx, option.WithEndpoint(g.Calendar), option.WithHTTPClient(g.HTTPClient(ctx, ts)))
	if err != nil {
		return nil, fmt.Errorf("calendar client: %w", err)
	}
	return svc, nil
}

// UserInfo is what the product reads of the account. Picture is shown live and never stored.
type UserInfo struct {
	Subject string `json:"sub"`
	Email   string `json:"email"`
	Picture string `json:"picture"`
}

// FetchUserInfo reads the account's subject, e-mail and picture URL.
func (g *Google) FetchUserInfo(ctx context.Context, ts oauth2.TokenSource) (UserInfo, error) {
	var u UserInfo
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.Userinfo, nil)
	if err != nil {
		return u, fmt.Errorf("userinfo request: %w", err)
	}
	resp, err := g.HTTPClient(ctx, ts).Do(req)
	if err != nil {
		return u, fmt.Errorf("userinfo: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return u, fmt.Errorf("userinfo: read: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return u, &googleapi.Error{Code: resp.StatusCode, Message: "userinfo failed"}
	}
	if err := json.Unmarshal(body, &u); err != nil {
		return u, fmt.Errorf("userinfo: decode: %w", err)
	}
	if u.Subject == "" || u.Email == "" {
		return u, errors.New("userinfo: answer lacks sub or email")
	}
	return u, nil
}

// RevokeToken revokes a token (and with it Google's whole grant). A token Google no longer
// knows counts as revoked.
func (g *Google) RevokeToken(ctx context.Context, token string) error {
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.Revoke, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("revoke request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := g.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusBadRequest && strings.Contains(string(body), "invalid_token"):
		return nil
	}
	return &googleapi.Error{Code: resp.StatusCode, Message: "revoke failed"}
}
