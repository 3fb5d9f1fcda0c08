package googlecal

import (
	"errors"
	"net"
	"net/http"
	"strings"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"
)

// Class is how a Google error is handled.
type Class string

// Error classes. They are also the values of a calendar's lastErrorClass.
const (
	ClassNone         Class = ""
	ClassRateLimited  Class = "rate_limited"  // 429, 403 rateLimitExceeded/userRateLimitExceeded: retry with backoff
	ClassServer       Class = "google_server" // 5xx, network: retry with backoff
	ClassGone         Class = "gone"          // 410: sync token invalid → full resync; event already deleted
	ClassAuth         Class = "auth_revoked"  // invalid_grant at the token endpoint: the grant is gone, reauth required
	ClassUnauthorized Class = "unauthorized"  // 401 from an API even after a refresh (refresh.go): the grant is alive, retried with backoff, never reauth
	ClassOAuthClient  Class = "oauth_client"  // the token endpoint refused our client (invalid_client…): an operator must fix the configuration; retried, never reauth
	ClassNotFound     Class = "not_found"     // 404
	ClassForbidden    Class = "forbidden"     // 403 other than rate limits (scope removed, no access)
	ClassConflict     Class = "conflict"      // 409 (duplicate id)
	ClassInvalid      Class = "invalid"       // 400
	ClassOther        Class = "other"
)

// Classify maps an error from the client libraries to a Class.
func Classify(err error) Class {
	if err == nil {
		return ClassNone
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		// Only invalid_grant says the user's grant is gone (revoked, expired). Anything else
		// from the token endpoint — a rotated or wrong client secret, a disabled client —
		// is our configuration: treating it as a revoked grant would wipe every connection.
		switch {
		case re.ErrorCode == "invalid_grant":
			return ClassAuth
		case re.Response != nil && re.Response.StatusCode >= 500:
			return ClassServer
		case re.Response != nil && re.Response.StatusCode == http.StatusTooManyRequests:
			return ClassRateLimited
		}
		return ClassOAuthClient
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		switch {
		case ge.Code == http.StatusTooManyRequests:
			return ClassRateLimited
		case ge.Code == http.StatusForbidden && hasReason(ge, "rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"):
			return ClassRateLimited
		case ge.Code >= 500:
			return ClassServer
		case ge.Code == http.StatusGone:
			return ClassGone
		case ge.Code == http.StatusUnauthorized:
			// Only invalid_grant at the token endpoint says the grant is gone. A 401 from
			// the API reaches here only after HTTPClient refreshed successfully and
			// repeated the request (refresh.go), so the grant is alive.
			return ClassUnauthorized
		case ge.Code == http.StatusNotFound:
			return ClassNotFound
		case ge.Code == http.StatusForbidden:
			return ClassForbidden
		case ge.Code == http.StatusConflict:
			return ClassConflict
		case ge.Code == http.StatusBadRequest:
			return ClassInvalid
		}
		return ClassOther
	}
	var ne net.Error
	if errors.As(err, &ne) || strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "EOF") {
		return ClassServer
	}
	return ClassOther
}

// Retryable reports whether a retry later may succeed.
// A configuration error is retried too: Pub/Sub backs off and finally dead-letters,
// which alerts an operator, and no user data is touched meanwhile.
func (c Class) Retryable() bool {
	return c == ClassRateLimited || c == ClassServer || c == ClassOAuthClient || c == ClassUnauthorized
}

func hasReason(ge *googleapi.Error, reasons ...string) bool {
	for _, it := range ge.Errors {
		for _, r := range reasons {
			if it.Reason == r {
				return true
			}
		}
	}
	for _, r := range reasons {
		if strings.Contains(ge.Message, r) || strings.Contains(ge.Body, `"`+r+`"`) {
			return true
		}
	}
	return false
}
