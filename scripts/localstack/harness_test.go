package localstack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/secrets"
	"github.com/belbo/calsync/shared/testenv"
	"github.com/belbo/calsync/shared/topology"
)

// logBuffer captures every log line the stack writes, for privacy and trace assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// harness is one isolated system: a fresh emulator project, a fake Google, all functions.
type harness struct {
	t       testing.TB
	FG      *fakegoogle.Server
	Google  string // fake Google base URL
	Stack   *Stack
	Logs    *logBuffer
	Key     string
	Secrets *secrets.Static
	Project string
	Return  string // an allow-listed return URL
}

type harnessOptions struct {
	// Push creates the Pub/Sub topology with push subscriptions pointing at the stack,
	// so messages flow exactly as deployed. Without it, nothing consumes the topics.
	Push bool
	// Start is the fake clock's start.
	Start time.Time
	// Meter, when set, counts the stack's operations at the wire (metering_test.go).
	Meter *meter
	// SafetySync replaces the test stacks' 30-minute SAFETY_SYNC_INTERVAL (the cost model
	// runs at the deployed default).
	SafetySync time.Duration
	// Secrets replaces the in-memory secrets (e.g. the real Secret Manager client against
	// secretstest's fake server).
	Secrets secrets.Source
}

const testClientSecret = "test-client-secret"

func key32(t testing.TB) []byte {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return []byte(base64.StdEncoding.EncodeToString(b))
}

func newHarness(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")
	start := o.Start
	if start.IsZero() {
		start = time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC) // a Monday, 08:00 in Berlin
	}
	fg := fakegoogle.New(fakegoogle.Options{Start: start, ClientID: "calsync-test.apps.googleusercontent.com", ClientSecret: testClientSecret})
	gsrv := httptest.NewServer(fg.Handler())
	t.Cleanup(gsrv.Close)
	fg.SetBaseURL(gsrv.URL)

	sec := testSecrets(t)

	h := &harness{t: t, FG: fg, Google: gsrv.URL, Logs: &logBuffer{}, Key: "test-manage-key-0123456789", Secrets: sec, Project: testenv.Project(t)}
	h.Return = "http://app.example.test/settings"
	env := testEnv(h.Project, gsrv.URL, "calsync-test.apps.googleusercontent.com", fg.ClockURL())
	env.AllowedReturnURLs = []string{h.Return}
	env.WidgetOrigins = []string{"http://widget.example.test"}
	env.ManageAPIKey = h.Key
	if o.SafetySync > 0 {
		env.SafetySyncInterval = o.SafetySync
	}
	var src secrets.Source = sec
	if o.Secrets != nil {
		src, h.Secrets = o.Secrets, nil
	}
	opts := Options{Env: env, Deps: platform.Deps{Secrets: src, LogWriter: h.Logs}, TopicsOnly: true}
	if m := o.Meter; m != nil {
		fo, err := m.C.FirestoreOptions()
		if err != nil {
			t.Fatal(err)
		}
		opts.Deps.FirestoreOptions, opts.Deps.PubSubOptions = fo, m.C.PubSubOptions()
		opts.Deps.Secrets = countingSecrets{src, m.C}
		opts.Observe = m.observe
	}
	if o.Push {
		opts.Topology = &topology.Options{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, MaxDeliveryAttempts: 5}
	}
	st, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(st.Close)
	h.Stack = st
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stack logs:\n%s", h.Logs.String())
		}
	})
	return h
}

// testSecrets are the three secrets every test stack needs, fresh keys each time.
func testSecrets(t testing.TB) *secrets.Static {
	sec := secrets.NewStatic(nil, nil)
	sec.Add("oauth-client-secret", []byte(testClientSecret))
	sec.Add("state-key", key32(t))
	sec.Add("token-key", key32(t))
	return sec
}

// testEnv is a stack's configuration against the emulators and a fake Google at google.
func testEnv(project, google, clientID, clockURL string) config.Env {
	return config.Env{
		Platform: config.Platform{Project: project, FirestoreEmulatorHost: "set", PubsubEmulatorHost: "set", ClockURL: clockURL},
		Google: config.Google{
			OAuthClientID:    clientID,
			AuthURL:          google + "/o/oauth2/auth",
			TokenURL:         google + "/token",
			RevokeURL:        google + "/revoke",
			UserinfoURL:      google + "/oauth2/v3/userinfo",
			CalendarEndpoint: google + "/calendar/v3/",
		},
		Channels:     config.Channels{ChannelTTL: 7 * 24 * time.Hour, ChannelRenewMargin: 24 * time.Hour},
		SyncWindow:   config.SyncWindow{SyncHorizon: 400 * 24 * time.Hour, SyncPast: 31 * 24 * time.Hour},
		SyncSchedule: config.SyncSchedule{SafetySyncInterval: 30 * time.Minute, FullResyncInterval: 24 * time.Hour},
		Export:       config.Export{ExportFields: []string{"service", "customerName"}},
	}
}

// manage calls the Manage function with the bearer key; body may be nil.
func (h *harness) manage(method, path string, body any) (int, []byte) {
	h.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.Stack.Function("Manage")+path, r)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+h.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func staffPath(tenant, staff string) string { return "/v1/tenants/" + tenant + "/staff/" + staff }

// addAccount creates a Google account with a primary and a second calendar in the fake.
func (h *harness) addAccount(email string) (primary, second string) {
	h.t.Helper()
	if _, err := h.FG.CreateAccount(fakegoogle.Account{Email: email, Name: "Staff " + email}); err != nil {
		h.t.Fatal(err)
	}
	p, err := h.FG.CreateCalendar(fakegoogle.CalendarSpec{Email: email, ID: email, Summary: "Work " + email, BackgroundColor: "#7986cb", TimeZone: "Europe/Berlin", Primary: true})
	if err != nil {
		h.t.Fatal(err)
	}
	s, err := h.FG.CreateCalendar(fakegoogle.CalendarSpec{Email: email, Summary: "Private " + email, BackgroundColor: "#33b679", TimeZone: "Europe/Berlin"})
	if err != nil {
		h.t.Fatal(err)
	}
	return p.ID, s.ID
}

// startConnect asks Manage for an authorization URL.
func (h *harness) startConnect(tenant, staff string) string {
	h.t.Helper()
	code, body := h.manage("POST", staffPath(tenant, staff)+"/connections", map[string]string{"returnUrl": h.Return})
	if code != http.StatusCreated {
		h.t.Fatalf("start connection: %d %s", code, body)
	}
	var out struct{ AuthURL string }
	if err := json.Unmarshal(body, &out); err != nil || out.AuthURL == "" {
		h.t.Fatalf("start connection body %s: %v", body, err)
	}
	return out.AuthURL
}

// callback follows Google's redirect to OAuthCallback like a browser and returns where the
// callback sends the browser (or the status code of an error page).
func (h *harness) callback(redirect *url.URL) (int, *url.URL) {
	h.t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(redirect.String())
	if err != nil {
		h.t.Fatalf("callback: %v", err)
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	return resp.StatusCode, loc
}

// connect runs the whole consent flow and returns the connection id.
func (h *harness) connect(tenant, staff, email string, opts fakegoogle.ConsentOptions) (string, *url.URL) {
	h.t.Helper()
	auth := h.startConnect(tenant, staff)
	redirect, err := h.FG.Consent(context.Background(), auth, email, opts)
	if err != nil {
		h.t.Fatalf("consent: %v", err)
	}
	code, loc := h.callback(redirect)
	if code != http.StatusFound || loc == nil {
		h.t.Fatalf("callback answered %d", code)
	}
	return loc.Query().Get("connection"), loc
}

func mustConnect(t testing.TB, h *harness, tenant, staff, email string) string {
	t.Helper()
	id, loc := h.connect(tenant, staff, email, fakegoogle.ConsentOptions{})
	if loc.Query().Get("status") != "connected" || id == "" {
		t.Fatalf("connect %s: redirected to %s", email, loc)
	}
	return id
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func containsAny(s string, needles ...string) string {
	for _, n := range needles {
		if n != "" && strings.Contains(s, n) {
			return n
		}
	}
	return ""
}
