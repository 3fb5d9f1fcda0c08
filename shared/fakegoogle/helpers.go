package fakegoogle

// Helpers: random strings, JSON bodies and Google-shaped errors.

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
)

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

const (
	alnum     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	tokenChrs = alnum + "-_"
	b32hex    = "0123456789abcdefghijklmnopqrstuv"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	if v != nil {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
	}
}

// GoogleErrorItem is one entry of errors[] in Google's error shape.
type GoogleErrorItem struct {
	Domain       string `json:"domain"`
	Reason       string `json:"reason"`
	Message      string `json:"message"`
	LocationType string `json:"locationType,omitempty"`
	Location     string `json:"location,omitempty"`
}

type googleErrorBody struct {
	Error struct {
		Code    int               `json:"code"`
		Message string            `json:"message"`
		Errors  []GoogleErrorItem `json:"errors"`
		Status  string            `json:"status,omitempty"`
	} `json:"error"`
}

var statusNames = map[int]string{
	400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
	409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE",
	502: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED", 412: "FAILED_PRECONDITION",
}

func googleError(w http.ResponseWriter, code int, reason, message string) {
	domain := "global"
	if reason == "rateLimitExceeded" || reason == "userRateLimitExceeded" || reason == "quotaExceeded" {
		domain = "usageLimits"
	}
	writeGoogleError(w, code, message, GoogleErrorItem{Domain: domain, Reason: reason, Message: message})
}

func writeGoogleError(w http.ResponseWriter, code int, message string, item GoogleErrorItem) {
	var b googleErrorBody
	b.Error.Code = code
	b.Error.Message = message
	b.Error.Errors = []GoogleErrorItem{item}
	b.Error.Status = statusNames[code]
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
	}
	writeJSON(w, code, b)
}

// apiError is an error carrying a Google-shaped answer.
type apiError struct {
	code    int
	reason  string
	message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.code, e.reason, e.message) }

func errf(code int, reason, format string, args ...any) *apiError {
	return &apiError{code: code, reason: reason, message: fmt.Sprintf(format, args...)}
}

func writeErr(w http.ResponseWriter, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		googleError(w, ae.code, ae.reason, ae.message)
		return
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		googleError(w, http.StatusRequestEntityTooLarge, "tooLarge", "Request body too large")
		return
	}
	googleError(w, http.StatusBadRequest, "badRequest", err.Error())
}

func readJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return errf(400, "badRequest", "could not read body: %v", err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return errf(400, "badRequest", "Request body is empty")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errf(400, "parseError", "Parse Error: %v", err)
	}
	return nil
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
