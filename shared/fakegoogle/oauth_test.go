package fakegoogle

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestConsentAllowDenyUntick(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name       string
		opts       ConsentOptions
		wantErr    string
		wantScopes []string
	}{
		{name: "allow", wantScopes: allScopes},
		{name: "deny", opts: ConsentOptions{Deny: true}, wantErr: "access_denied"},
		{name: "untick events", opts: ConsentOptions{Untick: []string{ScopeCalendarEvents}},
			wantScopes: []string{"openid", "email", ScopeCalendarReadonly, ScopeCalendarEvents}}, // include_granted_scopes keeps earlier grant
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t)
			v := oauth2.GenerateVerifier()
			red, err := e.fg.Consent(ctx, e.authURL(v), "alice@example.com", tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			q := red.Query()
			if !strings.HasPrefix(red.String(), testRedirect) || q.Get("state") != "state-123" {
				t.Fatalf("redirect %s", red)
			}
			if tc.wantErr != "" {
				if q.Get("error") != tc.wantErr || q.Get("code") != "" {
					t.Fatalf("redirect %s, want error %s", red, tc.wantErr)
				}
				return
			}
			if got := strings.Fields(q.Get("scope")); strings.Join(got, " ") != strings.Join(tc.wantScopes, " ") {
				t.Fatalf("scope %q, want %q", got, tc.wantScopes)
			}
			tok, err := e.cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(tok.AccessToken, "ya29.") || tok.TokenType != "Bearer" {
				t.Fatalf("token %+v", tok)
			}
			if sc, _ := tok.Extra("scope").(string); sc != q.Get("scope") {
				t.Fatalf("token scope %q", sc)
			}
		})
	}
}

func TestConsentUntickWithoutIncludeGranted(t *testing.T) {
	t.Parallel()
	fg, _ := Start(t, Options{})
	if _, err := fg.CreateAccount(Account{Email: "bob@example.com"}); err != nil {
		t.Fatal(err)
	}
	cfg := fg.OAuthConfig(testRedirect, allScopes...)
	v := oauth2.GenerateVerifier()
	red, err := fg.Consent(ctxT(t), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), "bob@example.com",
		ConsentOptions{Untick: []string{ScopeCalendarEvents}})
	if err != nil {
		t.Fatal(err)
	}
	if got := red.Query().Get("scope"); strings.Contains(got, ScopeCalendarEvents) {
		t.Fatalf("unticked scope granted: %q", got)
	}
}

func TestConsentPageRejectsBadRequests(t *testing.T) {
	t.Parallel()
	fg, srv := Start(t, Options{})
	good := url.Values{"client_id": {fg.opts.ClientID}, "redirect_uri": {testRedirect}, "response_type": {"code"},
		"scope": {"email"}, "code_challenge": {s256(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
	tests := []struct {
		name   string
		change func(url.Values)
		status int
	}{
		{"ok", func(url.Values) {}, 200},
		{"no pkce", func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }, 400},
		{"plain pkce", func(v url.Values) { v.Set("code_challenge_method", "plain") }, 400},
		{"bad client", func(v url.Values) { v.Set("client_id", "nope") }, 401},
		{"bad redirect", func(v url.Values) { v.Set("redirect_uri", "javascript:alert(1)") }, 400},
		{"token response", func(v url.Values) { v.Set("response_type", "token") }, 400},
		{"no scope", func(v url.Values) { v.Del("scope") }, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := url.Values{}
			for k, vs := range good {
				v[k] = append([]string(nil), vs...)
			}
			tc.change(v)
			resp, err := http.Get(srv.URL + "/o/oauth2/auth?" + v.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
}

func retrieveErr(t *testing.T, err error) *oauth2.RetrieveError {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("want *oauth2.RetrieveError, got %v", err)
	}
	return re
}

func TestCodeExchangeFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name     string
		exchange func(ctx context.Context, code, verifier string) error
		want     string
	}{
		{"wrong verifier", func(ctx context.Context, code, _ string) error {
			_, err := e.cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
			return err
		}, "invalid_grant"},
		{"no verifier", func(ctx context.Context, code, _ string) error {
			_, err := e.cfg.Exchange(ctx, code)
			return err
		}, "invalid_grant"},
		{"replay", func(ctx context.Context, code, v string) error {
			if _, err := e.cfg.Exchange(ctx, code, oauth2.VerifierOption(v)); err != nil {
				return err
			}
			_, err := e.cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
			return err
		}, "invalid_grant"},
		{"bad secret", func(ctx context.Context, code, v string) error {
			c := *e.cfg
			c.ClientSecret = "wrong"
			_, err := c.Exchange(ctx, code, oauth2.VerifierOption(v))
			return err
		}, "invalid_client"},
		{"other redirect", func(ctx context.Context, code, v string) error {
			c := *e.cfg
			c.RedirectURL = "https://evil.example/cb"
			_, err := c.Exchange(ctx, code, oauth2.VerifierOption(v))
			return err
		}, "redirect_uri_mismatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t)
			v := oauth2.GenerateVerifier()
			red, err := e.fg.Consent(ctx, e.authURL(v), "alice@example.com", ConsentOptions{})
			if err != nil {
				t.Fatal(err)
			}
			err = tc.exchange(ctx, red.Query().Get("code"), v)
			if re := retrieveErr(t, err); re.ErrorCode != tc.want {
				t.Fatalf("error code %q, want %q (%v)", re.ErrorCode, tc.want, err)
			}
		})
	}
}

func TestCodeExpiresOnFakeClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := ctxT(t)
	v := oauth2.GenerateVerifier()
	red, err := e.fg.Consent(ctx, e.authURL(v), "alice@example.com", ConsentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.fg.Advance(11 * time.Minute)
	_, err = e.cfg.Exchange(ctx, red.Query().Get("code"), oauth2.VerifierOption(v))
	if re := retrieveErr(t, err); re.ErrorCode != "invalid_grant" {
		t.Fatalf("got %v", err)
	}
}

func TestRefreshTokenIssuance(t *testing.T) {
	t.Parallel()
	fg, _ := Start(t, Options{})
	if _, err := fg.CreateAccount(Account{Email: "carol@example.com"}); err != nil {
		t.Fatal(err)
	}
	e := &env{fg: fg, cfg: fg.OAuthConfig(testRedirect, allScopes...)}
	steps := []struct {
		name        string
		opts        []oauth2.AuthCodeOption
		fault       bool
		wantRefresh bool
	}{
		{"first grant offline", nil, false, true},
		{"again without prompt=consent", nil, false, false},
		{"again with prompt=consent", []oauth2.AuthCodeOption{oauth2.ApprovalForce}, false, true},
		{"noRefreshToken fault", []oauth2.AuthCodeOption{oauth2.ApprovalForce}, true, false},
		{"online access", []oauth2.AuthCodeOption{oauth2.ApprovalForce, oauth2.AccessTypeOnline}, false, false},
	}
	for _, st := range steps {
		if st.fault {
			if err := fg.AddFault(Fault{NoRefreshToken: true}); err != nil {
				t.Fatal(err)
			}
		}
		ctx := ctxT(t)
		v := oauth2.GenerateVerifier()
		opts := append([]oauth2.AuthCodeOption{oauth2.AccessTypeOffline, oauth2.S256ChallengeOption(v)}, st.opts...)
		red, err := fg.Consent(ctx, e.cfg.AuthCodeURL("s", opts...), "carol@example.com", ConsentOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := e.cfg.Exchange(ctx, red.Query().Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.RefreshToken != ""; got != st.wantRefresh {
			t.Fatalf("%s: refresh token %q, want present=%v", st.name, tok.RefreshToken, st.wantRefresh)
		}
		if st.wantRefresh && !strings.HasPrefix(tok.RefreshToken, "1//0g") {
			t.Fatalf("refresh token shape %q", tok.RefreshToken)
		}
	}
	reqs := fg.AuthRequests()
	if len(reqs) != len(steps) || reqs[0].AccessType != "offline" || reqs[2].Prompt != "consent" {
		t.Fatalf("auth requests %+v", reqs)
	}
}

func TestRefreshAndRevoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := ctxT(t)
	// refresh through the real TokenSource
	expired := *e.tok
	expired.Expiry = time.Now().Add(-time.Minute)
	ts := e.cfg.TokenSource(ctx, &expired)
	nt, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if nt.AccessToken == e.tok.AccessToken || nt.RefreshToken != e.tok.RefreshToken {
		t.Fatalf("refresh gave %+v", nt)
	}
	if _, err := e.service(t, nt).CalendarList.List().Do(); err != nil {
		t.Fatalf("refreshed token unusable: %v", err)
	}
	// revoke the refresh token: the whole grant dies
	resp, err := http.PostForm(e.fg.RevokeURL(), url.Values{"token": {e.tok.RefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("revoke status %d", resp.StatusCode)
	}
	_, err = e.cfg.TokenSource(ctx, &expired).Token()
	re := retrieveErr(t, err)
	if re.ErrorCode != "invalid_grant" || re.ErrorDescription != "Token has been expired or revoked." || re.Response.StatusCode != 400 {
		t.Fatalf("after revoke: %+v", re)
	}
	for _, tok := range []*oauth2.Token{e.tok, nt} {
		_, err := e.service(t, tok).CalendarList.List().Do()
		if code, _ := apiCode(err); code != 401 {
			t.Fatalf("revoked access token: %v", err)
		}
	}
	// revoking again / unknown token
	resp, err = http.PostForm(e.fg.RevokeURL(), url.Values{"token": {"nope"}})
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 400 || body["error"] != "invalid_token" {
		t.Fatalf("unknown revoke: %d %v", resp.StatusCode, body)
	}
	if g := e.fg.RevokedGrants(); len(g) != 1 || g[0].Email != "alice@example.com" {
		t.Fatalf("revoked grants %+v", g)
	}
	// a new consent after revocation is a first grant again: refresh token without prompt
	tok := e.login(t, "alice@example.com", ConsentOptions{}, oauth2.SetAuthURLParam("prompt", "select_account"))
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token on first grant after revocation")
	}
}

func TestUserinfo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	get := func(tok string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, e.fg.UserinfoURL(), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return resp.StatusCode, m
	}
	code, m := get(e.tok.AccessToken)
	if code != 200 || m["email"] != "alice@example.com" || m["sub"] != e.acct.Sub || m["email_verified"] != true ||
		!strings.HasPrefix(m["picture"].(string), "https://") || m["name"] != "Alice" {
		t.Fatalf("userinfo %d %v", code, m)
	}
	if code, _ := get("ya29.bogus"); code != 401 {
		t.Fatalf("bogus token: %d", code)
	}
	e.fg.Advance(time.Hour)
	if code, _ := get(e.tok.AccessToken); code != 401 {
		t.Fatalf("expired token: %d", code)
	}
	// pictures are unique per account
	b, _ := e.fg.CreateAccount(Account{Email: "b@example.com"})
	if b.Picture == e.acct.Picture {
		t.Fatal("pictures not unique")
	}
}

func TestTokenEndpointClientAuthStyles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		c := *e.cfg
		c.Endpoint.AuthStyle = style
		ts := c.TokenSource(ctxT(t), &oauth2.Token{RefreshToken: e.tok.RefreshToken})
		if _, err := ts.Token(); err != nil {
			t.Fatalf("style %v: %v", style, err)
		}
	}
}
