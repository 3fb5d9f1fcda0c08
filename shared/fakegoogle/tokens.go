package fakegoogle

// Access-token expiry and invalidation.
//
// Google's access tokens are short-lived ("expires_in" 3599 s) and may stop working
// before that; the Calendar API then answers 401 "Invalid Credentials" with reason
// authError — "The access token you're using is either expired or invalid. Suggested
// action: Refresh the access token using the long-lived refresh token. If this fails,
// direct the user through the OAuth flow"
// (https://developers.google.com/workspace/calendar/api/guides/errors#401_invalid_credentials).
// Only the token endpoint's invalid_grant says the grant itself is gone.
//
// The fake expires access tokens on its own clock (3599 s), which a client's
// golang.org/x/oauth2 does not know (it computes expiry on the real clock), and can
// expire them on demand: ExpireAccessTokens, the control route
// POST /_fake/accounts/{email}/expireAccessTokens, or the fault
// {"op":"events.list","expireAccessToken":true} (the matching call's token expires just
// before it is served). The refresh token stays valid in every case.

import (
	"net/http"
	"strings"
)

// ExpireAccessTokens ends every live access token of the account now (its refresh
// tokens stay valid) and returns how many it ended.
func (s *Server) ExpireAccessTokens(email string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(email)
	now := s.now()
	n := 0
	for _, at := range s.access {
		if at.grant.account == key && now.Before(at.expires) {
			at.expires = now
			n++
		}
	}
	return n
}

// expireCallerToken expires the request's bearer token and returns the 401 Google
// answers for it.
func (s *Server) expireCallerToken(r *http.Request) *apiError {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		tok = r.URL.Query().Get("access_token")
	}
	s.mu.Lock()
	if at := s.access[strings.TrimSpace(tok)]; at != nil {
		at.expires = s.now()
	}
	s.mu.Unlock()
	return &apiError{code: http.StatusUnauthorized, reason: "authError", message: msgInvalidCredentials}
}

func (s *Server) handleExpireAccessTokens(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeCtlErr(w, ctlErr(405, "method_not_allowed", "use POST"))
		return
	}
	n := s.ExpireAccessTokens(r.PathValue("email"))
	writeJSON(w, 200, map[string]int{"expired": n})
}

// extraControlRoutes registers the control routes of the production-parity additions
// (paging.go, series.go, tokens.go, testing-mode refresh tokens).
func (s *Server) extraControlRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/_fake/paging", s.handlePagingControl)
	mux.HandleFunc("/_fake/cancelledInstancesWindow", s.handleCancelWindowControl)
	mux.HandleFunc("/_fake/accounts/{email}/expireAccessTokens", s.handleExpireAccessTokens)
	mux.HandleFunc("/_fake/refreshTokenTTL", s.handleRefreshTTLControl)
}
