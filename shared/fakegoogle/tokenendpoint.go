package fakegoogle

// The token endpoint (POST /token): code exchange with PKCE, refresh.

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (s *Server) clientAuth(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if ok {
		if uid, err := url.QueryUnescape(id); err == nil {
			id = uid
		}
		if us, err := url.QueryUnescape(secret); err == nil {
			secret = us
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	return subtle.ConstantTimeCompare([]byte(id), []byte(s.opts.ClientID)) == 1 &&
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) == 1
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		tokenError(w, 405, "invalid_request", "Method not allowed")
		return
	}
	if err := r.ParseForm(); err != nil {
		tokenError(w, 400, "invalid_request", "Bad Request")
		return
	}
	if f, _ := s.takeFault("token", "", ""); f != nil {
		code := f.Reason
		if code == "" {
			switch {
			case f.Status == 400:
				code = "invalid_grant"
			case f.Status == 401:
				code = "invalid_client"
			case f.Status >= 500:
				code = "internal_failure"
			default:
				code = "invalid_request"
			}
		}
		tokenError(w, f.Status, code, "injected fault")
		return
	}
	if !s.clientAuth(r) {
		tokenError(w, 401, "invalid_client", "Unauthorized")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		s.exchangeCode(w, r)
	case "refresh_token":
		s.refreshToken(w, r)
	case "":
		tokenError(w, 400, "invalid_request", "Missing required parameter: grant_type")
	default:
		tokenError(w, 400, "unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
	}
}

func (s *Server) newAccessToken(g *grant) (string, time.Time) {
	tok := accessTokenPrefix + randomString(accessTokenRandomLen, tokenChrs)
	exp := s.now().Add(accessTokenTTL)
	s.access[tok] = &accessToken{grant: g, expires: exp}
	return tok, exp
}

// tokenResponse is the token endpoint's answer for a new access token of grant g.
func tokenResponse(tok string, g *grant) map[string]any {
	return map[string]any{
		"access_token": tok, "expires_in": int(accessTokenTTL / time.Second),
		"scope": strings.Join(g.scopes, " "), "token_type": "Bearer",
	}
}

func (s *Server) exchangeCode(w http.ResponseWriter, r *http.Request) {
	codeStr := r.PostForm.Get("code")
	if codeStr == "" {
		tokenError(w, 400, "invalid_request", "Missing required parameter: code")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.codes[codeStr]
	if c == nil {
		tokenError(w, 400, "invalid_grant", "Malformed auth code.")
		return
	}
	if c.used || s.now().After(c.expires) {
		tokenError(w, 400, "invalid_grant", "Bad Request")
		return
	}
	c.used = true // single use, even when this attempt fails
	if c.clientID != s.opts.ClientID {
		tokenError(w, 400, "invalid_grant", "Bad Request")
		return
	}
	if r.PostForm.Get("redirect_uri") != c.redirectURI {
		tokenError(w, 400, "redirect_uri_mismatch", "Bad Request")
		return
	}
	v := r.PostForm.Get("code_verifier")
	if v == "" {
		tokenError(w, 400, "invalid_grant", "Missing code verifier.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(s256(v)), []byte(c.challenge)) != 1 {
		tokenError(w, 400, "invalid_grant", "Invalid code verifier.")
		return
	}
	g := &grant{ID: randomString(16, b32hex), clientID: c.clientID, account: c.account,
		scopes: slices.Clone(c.scopes), issued: s.now()}
	if c.wantRefresh {
		if s.noRefreshN > 0 {
			s.noRefreshN--
		} else {
			g.refreshToken = refreshTokenPrefix + randomString(refreshTokenRandomLen, tokenChrs)
			s.refresh[g.refreshToken] = g
		}
	}
	s.grants = append(s.grants, g)
	tok, _ := s.newAccessToken(g)
	resp := tokenResponse(tok, g)
	if g.refreshToken != "" {
		resp["refresh_token"] = g.refreshToken
		if s.opts.RefreshTokenTTL > 0 {
			resp["refresh_token_expires_in"] = int(s.opts.RefreshTokenTTL / time.Second)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, 200, resp)
}

func (s *Server) refreshToken(w http.ResponseWriter, r *http.Request) {
	rt := r.PostForm.Get("refresh_token")
	if rt == "" {
		tokenError(w, 400, "invalid_request", "Missing required parameter: refresh_token")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.refresh[rt]
	if g == nil || g.revoked || g.clientID != s.opts.ClientID ||
		(s.opts.RefreshTokenTTL > 0 && !s.now().Before(g.issued.Add(s.opts.RefreshTokenTTL))) {
		tokenError(w, 400, "invalid_grant", errTokenRevoked)
		return
	}
	tok, _ := s.newAccessToken(g)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, 200, tokenResponse(tok, g))
}
