package fakegoogle

// The gate every Calendar API call passes: bearer token, injected faults, rate limit
// and scopes.

import (
	"net/http"
	"slices"
	"strings"
)

func (s *Server) apiCall(w http.ResponseWriter, r *http.Request, op, cal string, scopes ...string) (*caller, bool) {
	c, aerr := s.authenticate(r)
	if aerr != nil {
		s.takeFault(op, cal, "")
		writeErr(w, aerr)
		return nil, false
	}
	f, empty := s.takeFault(op, cal, c.key)
	c.emptyPages = empty
	if f != nil {
		if f.ExpireAccessToken {
			writeErr(w, s.expireCallerToken(r))
			return nil, false
		}
		writeErr(w, faultError(f, op))
		return nil, false
	}
	if err := s.checkRate(c.key); err != nil {
		writeErr(w, err)
		return nil, false
	}
	if !hasAny(c.scopes, scopes...) {
		writeErr(w, &apiError{code: 403, reason: "insufficientPermissions", message: msgInsufficientScopes})
		return nil, false
	}
	return c, true
}

var (
	scopesCalendarList = []string{ScopeCalendar, ScopeCalendarReadonly, ScopeCalendarListReadonly, ScopeCalendarList}
	scopesEventsRead   = []string{ScopeCalendar, ScopeCalendarReadonly, ScopeCalendarEvents, ScopeCalendarEventsReadonly}
	scopesEventsWrite  = []string{ScopeCalendar, ScopeCalendarEvents}
)

type caller struct {
	emptyPages int
	acct       *account
	key        string
	scopes     []string
}

func (s *Server) authenticate(r *http.Request) (*caller, *apiError) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		tok = r.URL.Query().Get("access_token")
	}
	unauth := &apiError{code: 401, reason: "authError", message: msgInvalidCredentials}
	if tok == "" {
		return nil, unauth
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.access[strings.TrimSpace(tok)]
	if at == nil || at.grant.revoked || !s.now().Before(at.expires) {
		return nil, unauth
	}
	a := s.accounts[at.grant.account]
	if a == nil {
		return nil, unauth
	}
	return &caller{acct: a, key: at.grant.account, scopes: at.grant.scopes}, nil
}

func hasAny(have []string, want ...string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}
