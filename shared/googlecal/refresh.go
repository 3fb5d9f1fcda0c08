package googlecal

// Refresh and retry once on 401.
//
// Google's Calendar API answers 401 authError when "the access token you're using is
// either expired or invalid"; the suggested action is to refresh it with the refresh
// token and, only if that fails, to send the user through the OAuth flow again
// (https://developers.google.com/workspace/calendar/api/guides/errors#401_invalid_credentials).
// golang.org/x/oauth2 refreshes only when its own idea of the expiry (expires_in on the
// local clock) has passed, so a token Google ends early — or a clock that disagrees — gives
// a 401 it never recovers from by itself. The client built here drops the refused access
// token, refreshes, and repeats the request once. If the refresh fails with invalid_grant
// the error is an *oauth2.RetrieveError (ClassAuth: the grant is gone); a second 401 with a
// freshly refreshed token is ClassUnauthorized (retried later, never a reauth).

import (
	"context"
	"io"
	"net/http"
	"sync"

	"golang.org/x/oauth2"
)

// RefreshingTokenSource caches access tokens like oauth2.ReuseTokenSource and can drop
// one Google refused before its expiry.
type RefreshingTokenSource struct {
	mu      sync.Mutex
	tok     *oauth2.Token
	refresh string
	newTS   func(refresh string) oauth2.TokenSource
}

// RefreshingTokenSource builds the token source of one connected account.
func (g *Google) RefreshingTokenSource(ctx context.Context, refreshToken string) *RefreshingTokenSource {
	octx := g.ctx(ctx)
	return &RefreshingTokenSource{refresh: refreshToken, newTS: func(rt string) oauth2.TokenSource {
		return g.OAuth.TokenSource(octx, &oauth2.Token{RefreshToken: rt})
	}}
}

// Token returns the cached access token, refreshing it when it is missing or expired.
func (s *RefreshingTokenSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok.Valid() {
		return s.tok, nil
	}
	t, err := s.newTS(s.refresh).Token()
	if err != nil {
		return nil, err
	}
	if t.RefreshToken != "" {
		s.refresh = t.RefreshToken
	}
	s.tok = t
	return t, nil
}

// Invalidate drops the cached access token if it is still the refused one.
func (s *RefreshingTokenSource) Invalidate(accessToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && s.tok.AccessToken == accessToken {
		s.tok = nil
	}
}

type invalidator interface{ Invalidate(accessToken string) }

// retryOn401 authorises requests with src and, when src can drop a refused token,
// refreshes and repeats a request answered 401 once.
type retryOn401 struct {
	src  oauth2.TokenSource
	base http.RoundTripper
}

func (t *retryOn401) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.src.Token()
	if err != nil {
		closeBody(req)
		return nil, err
	}
	first := req.Clone(req.Context())
	tok.SetAuthHeader(first)
	resp, err := t.base.RoundTrip(first)
	inv, canRefresh := t.src.(invalidator)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !canRefresh || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	inv.Invalidate(tok.AccessToken)
	fresh, err := t.src.Token()
	if err != nil {
		return nil, err
	}
	second := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		second.Body = body
	}
	fresh.SetAuthHeader(second)
	return t.base.RoundTrip(second)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
