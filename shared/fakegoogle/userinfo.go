package fakegoogle

// The userinfo endpoints (v3 and v2).

import (
	"net/http"
	"strings"
)

func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		googleError(w, 405, "badRequest", "Method not allowed")
		return
	}
	c, aerr := s.authenticate(r)
	if aerr != nil {
		s.takeFault("userinfo", "", "")
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		writeJSON(w, 401, map[string]string{"error": "invalid_request", "error_description": "Invalid Credentials"})
		return
	}
	if f, _ := s.takeFault("userinfo", "", c.key); f != nil {
		writeErr(w, faultError(f, "userinfo"))
		return
	}
	if !hasAny(c.scopes, "openid", "email", "profile", ScopeUserinfoEmail, ScopeUserinfoProfile) {
		writeJSON(w, 401, map[string]string{"error": "invalid_request", "error_description": "Insufficient scopes"})
		return
	}
	a := c.acct
	if strings.HasPrefix(r.URL.Path, "/oauth2/v2/") {
		writeJSON(w, 200, map[string]any{"id": a.Sub, "email": a.Email, "verified_email": true,
			"name": a.Name, "picture": a.Picture})
		return
	}
	writeJSON(w, 200, map[string]any{"sub": a.Sub, "email": a.Email, "email_verified": true,
		"name": a.Name, "picture": a.Picture})
}
