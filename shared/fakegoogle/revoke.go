package fakegoogle

// Revocation (/revoke, Revoke, RevokeAccount): the whole grant dies.

import (
	"errors"
	"net/http"
	"strings"
)

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		tokenError(w, 405, "invalid_request", "Method not allowed")
		return
	}
	if err := r.ParseForm(); err != nil {
		tokenError(w, 400, "invalid_request", "Bad Request")
		return
	}
	if f, _ := s.takeFault("revoke", "", ""); f != nil {
		tokenError(w, f.Status, "internal_failure", "injected fault")
		return
	}
	if err := s.Revoke(r.Form.Get("token")); err != nil {
		tokenError(w, 400, "invalid_token", "Token expired or revoked")
		return
	}
	writeJSON(w, 200, map[string]any{})
}

// Revoke revokes an access or refresh token and, like Google, every grant of that
// account to that client (the refresh token and all access tokens issued from it).
// Like the user removing the app on their Google permissions page.
func (s *Server) Revoke(token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var g *grant
	if at := s.access[token]; at != nil && !at.grant.revoked && s.now().Before(at.expires) {
		g = at.grant
	} else if rg := s.refresh[token]; rg != nil && !rg.revoked {
		g = rg
	}
	if g == nil {
		return errors.New("invalid_token")
	}
	s.revokeAppLocked(g.clientID, g.account)
	return nil
}

// RevokeAccount revokes every grant of the account to the fake's client, as if the
// user removed the app's access on Google's permissions page.
func (s *Server) RevokeAccount(email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeAppLocked(s.opts.ClientID, strings.ToLower(email))
}

func (s *Server) revokeAppLocked(clientID, acct string) {
	for _, g := range s.grants {
		if g.clientID == clientID && g.account == acct && !g.revoked {
			g.revoked = true
			g.revokedAt = s.now()
			s.revokedLog = append(s.revokedLog, s.grantView(g))
		}
	}
	delete(s.consented, clientID+"|"+acct)
}
