package fakegoogle

// Refresh tokens of OAuth apps in Google's "Testing" publishing status.
//
// Google: "A Google Cloud Platform project with an OAuth consent screen configured for an
// external user type and a publishing status of 'Testing' is issued a refresh token
// expiring in 7 days" (https://developers.google.com/identity/protocols/oauth2#expiration,
// "Refresh token expiration"; the same section lists the exception "unless the only OAuth
// scopes requested are a subset of name, email address, and user profile" — calendar
// scopes are not). After that the token endpoint answers invalid_grant
// ("Token has been expired or revoked."), exactly as for a revoked grant.
//
// Options.RefreshTokenTTL = TestingModeRefreshTokenTTL (or SetRefreshTokenTTL, or the
// control route POST /_fake/refreshTokenTTL {"ttl":"168h"}) makes the fake behave like
// an app in Testing status; 0 (the default) like a published (Production) app. The TTL
// applies to grants by their issue time, also to grants issued before it was set.

import (
	"net/http"
	"time"
)

// TestingModeRefreshTokenTTL is the refresh-token lifetime of an app in "Testing" status.
const TestingModeRefreshTokenTTL = 7 * 24 * time.Hour

// SetRefreshTokenTTL sets the refresh-token lifetime (0 = never expire).
func (s *Server) SetRefreshTokenTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.RefreshTokenTTL = max(d, 0)
}

func (s *Server) handleRefreshTTLControl(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeCtlErr(w, ctlErr(405, "method_not_allowed", "use POST"))
		return
	}
	var b struct {
		TTL string `json:"ttl"`
	}
	if err := readControl(r, &b); err != nil {
		writeCtlErr(w, err)
		return
	}
	d, err := time.ParseDuration(b.TTL)
	if err != nil || d < 0 {
		writeCtlErr(w, ctlErr(400, "invalid_ttl", "ttl must be a Go duration >= 0, e.g. 168h"))
		return
	}
	s.SetRefreshTokenTTL(d)
	w.WriteHeader(http.StatusNoContent)
}
