package fakegoogle

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/belbo/calsync/shared/clock"
)

// maxBody limits every request body the fake reads.
const maxBody = 1 << 20

// Default OAuth client credentials when Options leaves them empty.
const (
	DefaultClientID     = "fake-client-id.apps.googleusercontent.com"
	DefaultClientSecret = "fake-client-secret"
)

// ExpansionHorizon is how far after the fake's current time unbounded recurring series
// are expanded into instances (singleEvents=true). Google expands far ahead too.
const ExpansionHorizon = 2 * 365 * 24 * time.Hour

// Options configure a fake.
type Options struct {
	// Start is the fake clock's initial instant (default: 2026-10-01T08:00:00Z).
	Start time.Time
	// ClientID and ClientSecret are the only OAuth client the fake knows
	// (defaults: DefaultClientID, DefaultClientSecret).
	ClientID, ClientSecret string
	// RedirectURIs, when not empty, is the allow-list of redirect URIs; when empty any
	// http(s) redirect URI is accepted.
	RedirectURIs []string
	// AllowHTTPPush lets watch channels use http:// addresses (real Google demands
	// https). nil means true.
	AllowHTTPPush *bool
	// PushRetries is how many times a push is retried after a 500/502/503/504 answer
	// (default 3); PushBackoff is the first retry's delay, doubled each time
	// (default 20ms, real time).
	PushRetries int
	PushBackoff time.Duration
	// PushTimeout bounds one push delivery attempt (default 5s).
	PushTimeout time.Duration
	// RefreshTokenTTL, when > 0, expires refresh tokens that long after issue on the
	// fake clock (Google: 7 days for apps in testing mode). 0 = never.
	RefreshTokenTTL time.Duration
	// HTTPClient delivers push notifications (default: a plain client).
	HTTPClient *http.Client
	// Clock, when set, is used instead of a new clock.Manual standing at Start.
	Clock *clock.Manual
}

// Server is the fake. All methods are safe for concurrent use.
type Server struct {
	opts    Options
	clk     *clock.Manual
	handler http.Handler

	mu      sync.Mutex
	baseURL string
	seq     int64

	accounts     map[string]*account // by email (lower case)
	accountOrder []string
	calendars    map[string]*calData
	calOrder     []string
	members      map[string]map[string]*membership // account → calendar id → list entry (calendarlist_roles.go)

	authReqs    map[string]*authRequest
	authLog     []AuthRequest
	codes       map[string]*authCode
	grants      []*grant
	refresh     map[string]*grant
	access      map[string]*accessToken
	consented   map[string][]string // client|sub → scopes granted before
	revokedLog  []Grant
	pages       map[string]*pageState
	syncTokens  map[string]*syncTokenState
	channels    map[string]*channel
	chanOrder   []string
	faults      []*Fault
	listHook    ListHook // listhook.go
	calls       map[string]int
	callsByMin  map[callKey]int
	callsByAcct map[string]map[string]int // account → op → count
	rateLimit   int
	deliveries  []Delivery
	inflight    int
	idle        chan struct{}
	noRefreshN  int
	pushDropN   int
	pushDupN    int
	dropUntil   time.Time
	closed      bool
	pushWG      sync.WaitGroup
	deliverySeq int
}

type callKey struct {
	account string
	minute  time.Time
}

// New builds a fake standing at opts.Start with no accounts.
func New(opts Options) *Server {
	if opts.Start.IsZero() {
		opts.Start = time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	}
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.PushRetries == 0 {
		opts.PushRetries = 3
	}
	if opts.PushBackoff == 0 {
		opts.PushBackoff = 20 * time.Millisecond
	}
	if opts.PushTimeout == 0 {
		opts.PushTimeout = 5 * time.Second
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	clk := opts.Clock
	if clk == nil {
		clk = clock.NewManual(opts.Start)
	}
	s := &Server{
		opts:        opts,
		clk:         clk,
		baseURL:     "http://fakegoogle.invalid",
		accounts:    map[string]*account{},
		calendars:   map[string]*calData{},
		authReqs:    map[string]*authRequest{},
		codes:       map[string]*authCode{},
		refresh:     map[string]*grant{},
		access:      map[string]*accessToken{},
		consented:   map[string][]string{},
		pages:       map[string]*pageState{},
		syncTokens:  map[string]*syncTokenState{},
		channels:    map[string]*channel{},
		calls:       map[string]int{},
		callsByMin:  map[callKey]int{},
		callsByAcct: map[string]map[string]int{},
	}
	s.handler = s.routes()
	return s
}

// Start serves a new fake on an httptest server closed when the test ends, with the
// base URL set. It is a convenience for tests of other packages.
func Start(t testing.TB, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	fg := New(opts)
	srv := httptest.NewServer(fg.Handler())
	fg.SetBaseURL(srv.URL)
	t.Cleanup(func() {
		fg.Close()
		srv.Close()
	})
	return fg, srv
}

// Handler serves every endpoint of the fake.
func (s *Server) Handler() http.Handler { return s.handler }

// SetBaseURL tells the fake its own absolute URL (used in resourceUri and by the
// URL helpers below).
func (s *Server) SetBaseURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.baseURL = strings.TrimRight(u, "/")
}

// BaseURL returns the URL set with SetBaseURL.
func (s *Server) BaseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// Endpoint is the OAuth endpoint for golang.org/x/oauth2.
func (s *Server) Endpoint() oauth2.Endpoint {
	b := s.BaseURL()
	return oauth2.Endpoint{AuthURL: b + "/o/oauth2/auth", TokenURL: b + "/token"}
}

// OAuthConfig is an oauth2.Config for the fake's client with the given redirect URL
// and scopes.
func (s *Server) OAuthConfig(redirectURL string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{ClientID: s.opts.ClientID, ClientSecret: s.opts.ClientSecret,
		Endpoint: s.Endpoint(), RedirectURL: redirectURL, Scopes: scopes}
}

// CalendarEndpoint is the base path for option.WithEndpoint.
func (s *Server) CalendarEndpoint() string { return s.BaseURL() + "/calendar/v3/" }

// UserinfoURL is the v3 userinfo endpoint.
func (s *Server) UserinfoURL() string { return s.BaseURL() + "/oauth2/v3/userinfo" }

// RevokeURL is the token revocation endpoint.
func (s *Server) RevokeURL() string { return s.BaseURL() + "/revoke" }

// ClockURL serves the fake's clock as RFC 3339 text (CLOCK_URL).
func (s *Server) ClockURL() string { return s.BaseURL() + "/_fake/clock" }

// Clock returns the fake's adjustable clock.
func (s *Server) Clock() *clock.Manual { return s.clk }

// Now returns the fake clock's instant.
func (s *Server) Now() time.Time { return s.clk.Time() }

// SetTime moves the fake clock to t.
func (s *Server) SetTime(t time.Time) { s.clk.Set(t) }

// Advance moves the fake clock forward by d.
func (s *Server) Advance(d time.Duration) time.Time { return s.clk.Advance(d) }

// Close stops push deliveries from starting and waits for running ones.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.pushWG.Wait()
}

func (s *Server) now() time.Time { return s.clk.Time() }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/o/oauth2/auth", s.handleAuth)
	mux.HandleFunc("/o/oauth2/v2/auth", s.handleAuth)
	mux.HandleFunc("/o/oauth2/approve", s.handleApprove)
	mux.HandleFunc("/token", s.handleToken)
	mux.HandleFunc("/revoke", s.handleRevoke)
	mux.HandleFunc("/oauth2/v3/userinfo", s.handleUserinfo)
	mux.HandleFunc("/oauth2/v2/userinfo", s.handleUserinfo)
	mux.HandleFunc("/calendar/v3/users/me/calendarList", s.handleCalendarList)
	mux.HandleFunc("/calendar/v3/users/me/calendarList/{id}", s.handleCalendarListEntry)
	mux.HandleFunc("/calendar/v3/calendars/{cal}/events", s.handleEvents)
	mux.HandleFunc("/calendar/v3/calendars/{cal}/events/{id}", s.handleEvent)
	mux.HandleFunc("/calendar/v3/calendars/{cal}/events/{id}/instances", s.handleInstances)
	mux.HandleFunc("/calendar/v3/channels/stop", s.handleChannelsStop)
	mux.HandleFunc("/calendar/v3/", func(w http.ResponseWriter, r *http.Request) {
		googleError(w, http.StatusNotFound, "notFound", "Not Found")
	})
	s.controlRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		googleError(w, http.StatusNotFound, "notFound", "Not Found")
	})
	return recoverer(mux)
}

func recoverer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				googleError(w, http.StatusInternalServerError, "backendError", fmt.Sprintf("fake google bug: %v", v))
			}
		}()
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		h.ServeHTTP(w, r)
	})
}

// ---- helpers ----

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

// ---- faults and call accounting ----

// Fault is one injected fault (control API POST /_fake/faults).
type Fault struct {
	// Op is events.list, events.get, events.insert, events.patch, events.update,
	// events.delete, events.watch, events.instances, channels.stop, calendarList.list,
	// token, userinfo, revoke or * (any).
	Op       string `json:"op,omitempty"`
	Calendar string `json:"calendar,omitempty"`
	Status   int    `json:"status,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Message  string `json:"message,omitempty"`
	// Count is how many matching calls are affected (default 1).
	Count int `json:"count,omitempty"`
	// Latency delays matching calls (real time), e.g. "200ms".
	Latency string `json:"latency,omitempty"`
	// EmptyPages makes the next matching events.list listing start with that many
	// empty pages that carry a nextPageToken.
	EmptyPages int `json:"emptyPages,omitempty"`
	// Push is "drop" or "duplicate": the next Count notifications (or, for drop with
	// Until, every notification until that fake time) are dropped or sent twice.
	Push  string `json:"push,omitempty"`
	Until string `json:"until,omitempty"`
	// NoRefreshToken makes the next Count code exchanges return no refresh_token.
	NoRefreshToken bool `json:"noRefreshToken,omitempty"`
	// InvalidateSyncTokens invalidates every sync token of that calendar (→ 410).
	InvalidateSyncTokens string `json:"invalidateSyncTokens,omitempty"`
	// UserRateLimit, when > 0, limits every account to that many Calendar API calls per
	// fake-clock minute (403 rateLimitExceeded beyond); -1 removes the limit.
	UserRateLimit int `json:"userRateLimit,omitempty"`

	latency time.Duration
}

// AddFault queues a fault. It validates the fault like the control API does.
func (s *Server) AddFault(f Fault) error {
	if f.Count < 0 {
		return ctlErr(400, "invalid_count", "count must be >= 0")
	}
	if f.Count == 0 {
		f.Count = 1
	}
	switch {
	case f.InvalidateSyncTokens != "":
		return s.InvalidateSyncTokens(f.InvalidateSyncTokens)
	case f.UserRateLimit != 0:
		s.mu.Lock()
		s.rateLimit = max(f.UserRateLimit, 0)
		s.mu.Unlock()
		return nil
	case f.NoRefreshToken:
		s.mu.Lock()
		s.noRefreshN += f.Count
		s.mu.Unlock()
		return nil
	case f.Push != "":
		s.mu.Lock()
		defer s.mu.Unlock()
		switch f.Push {
		case "drop":
			if f.Until != "" {
				t, err := time.Parse(time.RFC3339, f.Until)
				if err != nil {
					return ctlErr(400, "invalid_until", "until must be RFC 3339")
				}
				s.dropUntil = t
				return nil
			}
			s.pushDropN += f.Count
		case "duplicate":
			s.pushDupN += f.Count
		default:
			return ctlErr(400, "invalid_push", "push must be drop or duplicate")
		}
		return nil
	}
	if f.Op == "" {
		return ctlErr(400, "missing_op", "op is required")
	}
	if !knownOps[f.Op] {
		return ctlErr(400, "unknown_op", fmt.Sprintf("unknown op %q", f.Op))
	}
	if f.Latency != "" {
		d, err := time.ParseDuration(f.Latency)
		if err != nil || d < 0 || d > time.Minute {
			return ctlErr(400, "invalid_latency", "latency must be a Go duration between 0 and 1m")
		}
		f.latency = d
	} else if f.EmptyPages > 0 {
		if f.EmptyPages > 100 {
			return ctlErr(400, "invalid_empty_pages", "emptyPages must be <= 100")
		}
		if f.Op != "events.list" {
			return ctlErr(400, "invalid_op", "emptyPages applies to events.list")
		}
	} else {
		if f.Status < 400 || f.Status > 599 {
			return ctlErr(400, "invalid_status", "status must be 4xx or 5xx")
		}
	}
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
	return nil
}

// ClearFaults removes every queued fault and push fault and the rate limit.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.noRefreshN, s.pushDropN, s.pushDupN = 0, 0, 0
	s.dropUntil = time.Time{}
	s.rateLimit = 0
}

// Faults lists the queued call faults.
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, 0, len(s.faults))
	for _, f := range s.faults {
		out = append(out, *f)
	}
	return out
}

var knownOps = map[string]bool{
	"*": true, "events.list": true, "events.get": true, "events.insert": true, "events.patch": true,
	"events.update": true, "events.delete": true, "events.watch": true, "events.instances": true,
	"channels.stop": true, "calendarList.list": true, "calendarList.get": true, "calendarList.watch": true,
	"token": true, "userinfo": true, "revoke": true,
}

func defaultReason(status int, op string) string {
	switch status {
	case 429:
		return "rateLimitExceeded"
	case 403:
		return "rateLimitExceeded"
	case 410:
		if op == "events.list" {
			return "fullSyncRequired"
		}
		return "deleted"
	case 404:
		return "notFound"
	case 401:
		return "authError"
	case 400:
		return "badRequest"
	case 409:
		return "conflict"
	}
	return "backendError"
}

// takeFault finds the first matching fault for op/calendar, applies its latency and
// returns the status fault to answer with (nil if none). It also counts the call.
func (s *Server) takeFault(op, cal, acct string) (*Fault, int) {
	s.mu.Lock()
	s.calls[op]++
	if acct != "" {
		s.callsByMin[callKey{acct, s.now().Truncate(time.Minute)}]++
		if s.callsByAcct[acct] == nil {
			s.callsByAcct[acct] = map[string]int{}
		}
		s.callsByAcct[acct][op]++
	}
	var delay time.Duration
	var hit *Fault
	empty := 0
	kept := s.faults[:0]
	for _, f := range s.faults {
		match := f.Count > 0 && (f.Op == "*" || f.Op == op) && (f.Calendar == "" || f.Calendar == cal)
		if match {
			switch {
			case f.latency > 0:
				delay += f.latency
				f.Count--
			case f.EmptyPages > 0:
				if empty == 0 {
					empty = f.EmptyPages
					f.Count--
				}
			case hit == nil:
				c := *f
				hit = &c
				f.Count--
			}
		}
		if f.Count > 0 {
			kept = append(kept, f)
		}
	}
	s.faults = kept
	s.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	return hit, empty
}

func faultError(f *Fault, op string) *apiError {
	reason := f.Reason
	if reason == "" {
		reason = defaultReason(f.Status, op)
	}
	msg := f.Message
	if msg == "" {
		switch reason {
		case "rateLimitExceeded":
			msg = "Rate Limit Exceeded"
		case "fullSyncRequired":
			msg = "Sync token is no longer valid, a full sync is required."
		case "backendError":
			msg = "Backend Error"
		default:
			msg = http.StatusText(f.Status)
		}
	}
	return &apiError{code: f.Status, reason: reason, message: msg}
}

// Calls returns how many calls of an operation (e.g. "events.list") the fake served,
// including failed ones. "" sums every operation.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op == "" {
		n := 0
		for _, c := range s.calls {
			n += c
		}
		return n
	}
	return s.calls[op]
}

// CallsPerMinute returns an account's authenticated Calendar/userinfo calls per
// fake-clock minute.
func (s *Server) CallsPerMinute(email string) map[time.Time]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[time.Time]int{}
	for k, n := range s.callsByMin {
		if k.account == strings.ToLower(email) {
			out[k.minute] = n
		}
	}
	return out
}

// ResetCalls zeroes the call counters.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]int{}
	s.callsByMin = map[callKey]int{}
	s.callsByAcct = map[string]map[string]int{}
}

// CallsByAccount returns how many authenticated calls of op ("" = all) an account made.
func (s *Server) CallsByAccount(email, op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for o, c := range s.callsByAcct[strings.ToLower(email)] {
		if op == "" || o == op {
			n += c
		}
	}
	return n
}

// WaitIdle waits until no push delivery is in flight.
func (s *Server) WaitIdle(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.inflight == 0 {
			s.mu.Unlock()
			return nil
		}
		if s.idle == nil {
			s.idle = make(chan struct{})
		}
		ch := s.idle
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
