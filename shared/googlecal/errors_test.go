package googlecal

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	retrieve := func(code string, status int) error {
		return fmt.Errorf("refresh: %w", &oauth2.RetrieveError{ErrorCode: code, Response: &http.Response{StatusCode: status}})
	}
	api := func(code int, reason string) error {
		return fmt.Errorf("list: %w", &googleapi.Error{Code: code, Errors: []googleapi.ErrorItem{{Reason: reason}}})
	}
	tests := []struct {
		name      string
		err       error
		want      Class
		retryable bool
	}{
		{"nil", nil, ClassNone, false},
		{"grant revoked", retrieve("invalid_grant", 400), ClassAuth, false},
		{"client secret wrong is not a revoked grant", retrieve("invalid_client", 401), ClassOAuthClient, true},
		{"client not allowed is not a revoked grant", retrieve("unauthorized_client", 400), ClassOAuthClient, true},
		{"token endpoint down", retrieve("", 503), ClassServer, true},
		{"token endpoint throttled", retrieve("", 429), ClassRateLimited, true},
		{"429", api(429, ""), ClassRateLimited, true},
		{"403 rate limit", api(403, "rateLimitExceeded"), ClassRateLimited, true},
		{"403 user rate limit", api(403, "userRateLimitExceeded"), ClassRateLimited, true},
		{"403 forbidden", api(403, "forbidden"), ClassForbidden, false},
		{"500", api(500, ""), ClassServer, true},
		{"410", api(410, "fullSyncRequired"), ClassGone, false},
		{"401 after refresh is not a revoked grant", api(401, "authError"), ClassUnauthorized, true},
		{"404", api(404, ""), ClassNotFound, false},
		{"409", api(409, "duplicate"), ClassConflict, false},
		{"400", api(400, "invalid"), ClassInvalid, false},
		{"network", &url.Error{Op: "Get", URL: "x", Err: errors.New("connection refused")}, ClassServer, true},
		{"other", errors.New("boom"), ClassOther, false},
	}
	for _, tc := range tests {
		got := Classify(tc.err)
		if got != tc.want || got.Retryable() != tc.retryable {
			t.Errorf("%s: Classify = %q (retryable %v), want %q (retryable %v)", tc.name, got, got.Retryable(), tc.want, tc.retryable)
		}
	}
}
