package fakegoogle

import (
	"fmt"
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
	// Paging, when set, makes events.list pages irregular (paging.go).
	Paging *Paging
	// CancelledInstancesWindow, when > 0, limits which instances of a deleted (or
	// shrunk) series a singleEvents=true listing reports as cancelled (series.go).
	CancelledInstancesWindow time.Duration
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
	paging      *pagingState
	cancelWin   time.Duration
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
	s.cancelWin = opts.CancelledInstancesWindow
	if opts.Paging != nil {
		_ = s.SetPaging(opts.Paging)
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
