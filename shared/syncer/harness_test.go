package syncer_test

import (
	"bytes"
	"cloud.google.com/go/firestore"
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"sort"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/accounts"
	"github.com/belbo/calsync/shared/calevents"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/secrets"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/syncer"
	"github.com/belbo/calsync/shared/testenv"
	"github.com/belbo/calsync/shared/tokencrypt"
)

const (
	clientID     = "calsync-test.apps.googleusercontent.com"
	clientSecret = "test-client-secret"
	tenant       = "t1"
	staff        = "anna"
	email        = "anna@example.com"
)

var t0 = time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC)

type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// env is one isolated world: a fake Google with one account and calendar, a fresh
// Firestore project holding a connection and the selected calendar, and a syncer.
type env struct {
	t     testing.TB
	FG    *fakegoogle.Server
	Store *store.Store
	S     *syncer.Syncer
	Cal   string // Google calendar id
	Ref   store.CalRef
	Msg   messages.Sync
	Logs  *syncLog
	Conn  *store.Connection
	Acc   *accounts.Service
	zone  string // the calendar's time zone
}

func newEnv(t testing.TB) *env {
	t.Helper()
	fs, _ := testenv.Firestore(t)
	return newEnvWith(t, fs, "Europe/Berlin")
}

// newEnvWith builds an env on the given Firestore client (a fresh project) with the
// calendar in time zone zone.
func newEnvWith(t testing.TB, fs *firestore.Client, zone string) *env {
	t.Helper()
	fg := fakegoogle.New(fakegoogle.Options{Start: t0, ClientID: clientID, ClientSecret: clientSecret})
	srv := httptest.NewServer(fg.Handler())
	t.Cleanup(srv.Close)
	fg.SetBaseURL(srv.URL)
	if _, err := fg.CreateAccount(fakegoogle.Account{Email: email}); err != nil {
		t.Fatal(err)
	}
	spec, err := fg.CreateCalendar(fakegoogle.CalendarSpec{Email: email, Primary: true, TimeZone: zone, BackgroundColor: "#7986cb"})
	if err != nil {
		t.Fatal(err)
	}
	sec := secrets.NewStatic(nil, nil)
	sec.Add(secrets.OAuthClientSecret, []byte(clientSecret))
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	sec.Add(secrets.TokenKey, []byte(base64.StdEncoding.EncodeToString(k)))
	cfg := config.Google{OAuthClientID: clientID, AuthURL: srv.URL + "/o/oauth2/auth", TokenURL: srv.URL + "/token",
		RevokeURL: srv.URL + "/revoke", UserinfoURL: srv.URL + "/oauth2/v3/userinfo", CalendarEndpoint: srv.URL + "/calendar/v3/"}
	st := store.New(fs)
	acc := &accounts.Service{Store: st, Sealer: tokencrypt.New(sec), Secrets: sec, Config: cfg}
	e := &env{t: t, FG: fg, Store: st, Cal: spec.ID, Logs: &syncLog{}, Acc: acc, zone: zone}

	// A refresh token through the fake consent page.
	ctx := context.Background()
	g, err := acc.Google(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g.OAuth.RedirectURL = "http://app.test/cb"
	verifier := oauth2.GenerateVerifier()
	redirect, err := fg.Consent(ctx, g.AuthURL("st", verifier), email, fakegoogle.ConsentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := g.Exchange(ctx, redirect.Query().Get("code"), verifier)
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("exchange: %v", err)
	}
	_ = url.Values{}
	connID := store.ConnectionID(tenant, "sub")
	sealed, err := acc.Sealer.Seal(ctx, []byte(tok.RefreshToken), accounts.AAD(tenant, staff, connID))
	if err != nil {
		t.Fatal(err)
	}
	conn := &store.Connection{ID: connID, Tenant: tenant, Staff: staff, Email: email, Status: store.StatusActive, Token: sealed}
	if _, err := st.Connection(tenant, staff, connID).Set(ctx, conn); err != nil {
		t.Fatal(err)
	}
	e.Conn = conn
	e.Ref = store.CalRef{Tenant: tenant, Staff: staff, Connection: connID, Calendar: store.CalendarDocID(spec.ID)}
	if _, err := st.Doc(e.Ref).Set(ctx, store.Calendar{GoogleID: spec.ID, Name: "Work", Color: "#7986cb", TimeZone: zone, Selected: true}); err != nil {
		t.Fatal(err)
	}
	e.Msg = messages.Sync{Tenant: tenant, Staff: staff, Connection: connID, Calendar: e.Ref.Calendar, Reason: "select"}
	e.S = &syncer.Syncer{Store: st, Accounts: acc, Log: slog.New(slog.NewJSONHandler(e.Logs, nil)),
		Horizon: 400 * 24 * time.Hour, Past: 31 * 24 * time.Hour}
	return e
}

func (e *env) run() (syncer.Stats, error) {
	e.t.Helper()
	return e.S.RunStats(context.Background(), e.Msg, e.FG.Now())
}

func (e *env) mustRun() syncer.Stats {
	e.t.Helper()
	st, err := e.run()
	if err != nil {
		e.t.Fatalf("sync: %v", err)
	}
	return st
}

func (e *env) calDoc() *store.Calendar {
	e.t.Helper()
	c, err := e.Store.GetCalendar(context.Background(), e.Ref)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) create(ev *calendar.Event) *calendar.Event {
	e.t.Helper()
	out, err := e.FG.CreateEvent(e.Cal, ev)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func timed(summary string, start time.Time, d time.Duration) *calendar.Event {
	return &calendar.Event{Summary: summary, Start: &calendar.EventDateTime{DateTime: start.Format(time.RFC3339)},
		End: &calendar.EventDateTime{DateTime: start.Add(d).Format(time.RFC3339)}}
}

// snapshot is a comparable view: event id → "start|end|allDay|busy|title" and busy
// items id → "month:start|end|sd|ed" (sorted months).
// snapshot is the oracle's view (oracle_test.go): events and busy items by event id.
type snapshot = view

func (e *env) stored() snapshot {
	e.t.Helper()
	ctx := context.Background()
	out := snapshot{Events: map[string]string{}, Busy: map[string]string{}}
	snaps, err := e.Store.Doc(e.Ref).Collection("events").Documents(ctx).GetAll()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, s := range snaps {
		var ev store.Event
		if err := s.DataTo(&ev); err != nil {
			e.t.Fatal(err)
		}
		out.Events[s.Ref.ID] = key(ev)
	}
	bs, err := e.Store.Busy(tenant, staff).Documents(ctx).GetAll()
	if err != nil {
		e.t.Fatal(err)
	}
	busy := map[string][]string{}
	for _, s := range bs {
		var bm store.BusyMonth
		if err := s.DataTo(&bm); err != nil {
			e.t.Fatal(err)
		}
		for id, it := range bm.Items {
			busy[id] = append(busy[id], bm.Month+":"+itemKey(it))
		}
	}
	for id, v := range busy {
		sort.Strings(v)
		out.Busy[id] = join(v)
	}
	return out
}

// expected derives the same view from what the fake holds, within the sync window.
func (e *env) expected() snapshot {
	e.t.Helper()
	now := e.FG.Now()
	c := e.calDoc()
	horizonEnd := c.HorizonEnd
	zone, _ := time.LoadLocation("Europe/Berlin")
	out := snapshot{Events: map[string]string{}, Busy: map[string]string{}}
	for _, g := range e.FG.Events(e.Cal, true, time.Time{}, time.Time{}) {
		ev, cancelled, err := calevents.FromGoogle(g, zone)
		if err != nil || cancelled {
			continue
		}
		if !ev.Start.Before(horizonEnd) || !ev.End.After(now.Add(-e.S.Past)) {
			continue
		}
		ev.Months = calevents.ClipMonths(ev.Months, now.Add(-e.S.Past), horizonEnd)
		out.Events[ev.ID] = key(ev)
		if ev.Busy {
			var v []string
			for _, m := range ev.Months {
				v = append(v, m+":"+itemKey(calevents.Item(ev)))
			}
			sort.Strings(v)
			out.Busy[ev.ID] = join(v)
		}
	}
	return out
}

func key(ev store.Event) string {
	return ev.Start.UTC().Format(time.RFC3339) + "|" + ev.End.UTC().Format(time.RFC3339) + "|" +
		map[bool]string{true: "allday", false: "timed"}[ev.AllDay] + "|" + map[bool]string{true: "busy", false: "free"}[ev.Busy] + "|" + ev.Title
}

func itemKey(it store.BusyItem) string {
	s := ""
	if !it.Start.IsZero() {
		s = it.Start.UTC().Format(time.RFC3339) + "|" + it.End.UTC().Format(time.RFC3339)
	}
	return s + "|" + it.StartDate + "|" + it.EndDate
}

func join(v []string) string {
	out := ""
	for i, s := range v {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

func (e *env) converged() {
	e.t.Helper()
	if d := viewDiff(e.expected(), e.stored()); len(d) > 0 {
		e.t.Fatalf("store differs from Google (%d):\n%s", len(d), joinLines(d))
	}
}

func joinLines(v []string) string {
	if len(v) > 30 {
		v = append(v[:30], "…")
	}
	out := ""
	for _, s := range v {
		out += "  " + s + "\n"
	}
	return out
}

var _ = googlecal.ClassGone

type firestoreUpdate = firestore.Update

func mergeAll() firestore.SetOption { return firestore.MergeAll }
func firestoreIncrement(n int) any  { return firestore.Increment(n) }
