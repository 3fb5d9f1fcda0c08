package fakegoogle

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

const testRedirect = "https://app.example.test/oauth/callback"

var allScopes = []string{"openid", "email", ScopeCalendarReadonly, ScopeCalendarEvents}

type env struct {
	fg   *Server
	srv  *httptest.Server
	cfg  *oauth2.Config
	acct Account
	cal  string // primary calendar id
	tok  *oauth2.Token
	svc  *calendar.Service
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newEnv starts a fake with one account, a primary Europe/Berlin calendar, and logs
// in through the real consent flow.
func newEnv(t *testing.T) *env {
	t.Helper()
	fg, srv := Start(t, Options{Start: time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC), PushBackoff: time.Millisecond})
	e := &env{fg: fg, srv: srv, cfg: fg.OAuthConfig(testRedirect, allScopes...)}
	var err error
	if e.acct, err = fg.CreateAccount(Account{Email: "alice@example.com", Name: "Alice"}); err != nil {
		t.Fatal(err)
	}
	c, err := fg.CreateCalendar(CalendarSpec{Email: "alice@example.com", Summary: "Alice", TimeZone: "Europe/Berlin", Primary: true})
	if err != nil {
		t.Fatal(err)
	}
	e.cal = c.ID
	e.tok = e.login(t, "alice@example.com", ConsentOptions{})
	e.svc = e.service(t, e.tok)
	return e
}

func (e *env) service(t *testing.T, tok *oauth2.Token) *calendar.Service {
	t.Helper()
	ctx := context.Background()
	svc, err := calendar.NewService(ctx, option.WithEndpoint(e.fg.CalendarEndpoint()),
		option.WithHTTPClient(oauth2.NewClient(ctx, oauth2.StaticTokenSource(tok))))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// authURL builds the consent URL like the product does.
func (e *env) authURL(verifier string, opts ...oauth2.AuthCodeOption) string {
	opts = append([]oauth2.AuthCodeOption{oauth2.AccessTypeOffline, oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("include_granted_scopes", "true")}, opts...)
	return e.cfg.AuthCodeURL("state-123", opts...)
}

func (e *env) login(t *testing.T, email string, co ConsentOptions, opts ...oauth2.AuthCodeOption) *oauth2.Token {
	t.Helper()
	ctx := ctxT(t)
	v := oauth2.GenerateVerifier()
	red, err := e.fg.Consent(ctx, e.authURL(v, append([]oauth2.AuthCodeOption{oauth2.ApprovalForce}, opts...)...), email, co)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.cfg.Exchange(ctx, red.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func apiCode(err error) (int, string) {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		r := ""
		if len(ge.Errors) > 0 {
			r = ge.Errors[0].Reason
		}
		return ge.Code, r
	}
	return 0, ""
}

func dt(s, tz string) *calendar.EventDateTime {
	return &calendar.EventDateTime{DateTime: s, TimeZone: tz}
}

// listAll pages through events.list and returns items, the number of pages, and the
// nextSyncToken; it fails if a non-last page carries a sync token.
func listAll(t *testing.T, call func(pageToken string) (*calendar.Events, error)) ([]*calendar.Event, int, string) {
	t.Helper()
	var items []*calendar.Event
	pt := ""
	for pages := 1; ; pages++ {
		res, err := call(pt)
		if err != nil {
			t.Fatalf("list page %d: %v", pages, err)
		}
		items = append(items, res.Items...)
		if res.NextPageToken == "" {
			if res.NextSyncToken == "" {
				t.Fatalf("last page without nextSyncToken")
			}
			return items, pages, res.NextSyncToken
		}
		if res.NextSyncToken != "" {
			t.Fatalf("page %d has both nextPageToken and nextSyncToken", pages)
		}
		if pages > 1000 {
			t.Fatal("too many pages")
		}
		pt = res.NextPageToken
	}
}

// hook is a webhook receiver.
type hook struct {
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []*http.Request
	fail   int // answer 503 to this many requests first
	status int
}

func newHook(t *testing.T) *hook {
	h := &hook{status: 200}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.reqs = append(h.reqs, r)
		st := h.status
		if h.fail > 0 {
			h.fail--
			st = 503
		}
		h.mu.Unlock()
		w.WriteHeader(st)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) got() []*http.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*http.Request(nil), h.reqs...)
}

func waitIdle(t *testing.T, fg *Server) {
	t.Helper()
	if err := fg.WaitIdle(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}
