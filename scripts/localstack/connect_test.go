package localstack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/calendar/v3"

	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/store"
)

type connectionsBody struct {
	Connections []struct {
		ID, Email, Status, PictureURL, WriteCalendarID string
	}
}

type calendarsBody struct {
	Calendars []struct {
		ID, Name, Color string
		Selected        bool
	}
}

func (h *harness) connections(tenant, staff string) connectionsBody {
	h.t.Helper()
	code, body := h.manage("GET", staffPath(tenant, staff)+"/connections", nil)
	if code != http.StatusOK {
		h.t.Fatalf("list connections: %d %s", code, body)
	}
	var out connectionsBody
	if err := json.Unmarshal(body, &out); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// dumpFirestore returns every document of the project as path → JSON.
func dumpFirestore(t *testing.T, fs *firestore.Client) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, d := range walkFirestore(t, fs) {
		b, _ := json.Marshal(d.Data)
		out[d.Path] = string(b)
	}
	return out
}

func TestConnectSelectDisconnect(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	primary, second := h.addAccount("anna@example.com")
	conn := mustConnect(t, h, "t1", "anna", "anna@example.com")

	got := h.connections("t1", "anna")
	if len(got.Connections) != 1 {
		t.Fatalf("connections = %+v", got)
	}
	c := got.Connections[0]
	acct := h.FG.Accounts()[0]
	if c.ID != conn || c.Email != "anna@example.com" || c.Status != store.StatusActive || c.PictureURL != acct.Picture || c.PictureURL == "" {
		t.Fatalf("connection = %+v, want active anna with live picture %q", c, acct.Picture)
	}
	if c.WriteCalendarID != primary {
		t.Errorf("write calendar = %q, want the primary %q", c.WriteCalendarID, primary)
	}

	code, body := h.manage("GET", staffPath("t1", "anna")+"/connections/"+conn+"/calendars", nil)
	var cals calendarsBody
	if code != 200 || json.Unmarshal(body, &cals) != nil || len(cals.Calendars) != 2 {
		t.Fatalf("calendars: %d %s", code, body)
	}
	names := map[string]string{}
	for _, cal := range cals.Calendars {
		names[cal.ID] = cal.Name + "|" + cal.Color
		if cal.Selected {
			t.Errorf("calendar %s selected before anyone chose it", cal.ID)
		}
	}
	if names[primary] != "Work anna@example.com|#7986cb" || names[second] != "Private anna@example.com|#33b679" {
		t.Fatalf("calendar names/colours = %v", names)
	}

	// Select: a channel opens at Google and its lookup document exists.
	code, body = h.manage("PUT", staffPath("t1", "anna")+"/connections/"+conn+"/calendars/"+url.PathEscape(primary), map[string]bool{"selected": true})
	if code != 200 || !strings.Contains(string(body), `"selected":true`) {
		t.Fatalf("select: %d %s", code, body)
	}
	live := liveChannels(h.FG, primary)
	if len(live) != 1 {
		t.Fatalf("live channels after select = %d, want 1", len(live))
	}
	fs := h.Stack.Platform.Store
	if _, err := fs.Channel(live[0].ID).Get(context.Background()); err != nil {
		t.Fatalf("channel lookup missing: %v", err)
	}

	// Rename and recolour in Google: the refreshed list shows it; a new calendar appears unselected.
	if _, err := h.FG.UpdateCalendar(second, fakegoogle.CalendarPatch{Summary: ptr("Family"), BackgroundColor: ptr("#ff0000")}); err != nil {
		t.Fatal(err)
	}
	third, err := h.FG.CreateCalendar(fakegoogle.CalendarSpec{Email: "anna@example.com", Summary: "Holidays", BackgroundColor: "#000000", TimeZone: "Europe/Berlin"})
	if err != nil {
		t.Fatal(err)
	}
	_, body = h.manage("GET", staffPath("t1", "anna")+"/connections/"+conn+"/calendars", nil)
	cals = calendarsBody{}
	_ = json.Unmarshal(body, &cals)
	seen := map[string]string{}
	for _, cal := range cals.Calendars {
		seen[cal.ID] = cal.Name + "|" + cal.Color
	}
	if seen[second] != "Family|#ff0000" || seen[third.ID] != "Holidays|#000000" || len(seen) != 3 {
		t.Fatalf("refreshed calendars = %v", seen)
	}

	// Deselect: the channel is stopped at Google.
	code, body = h.manage("PUT", staffPath("t1", "anna")+"/connections/"+conn+"/calendars/"+url.PathEscape(primary), map[string]bool{"selected": false})
	if code != 200 {
		t.Fatalf("deselect: %d %s", code, body)
	}
	if n := len(liveChannels(h.FG, primary)); n != 0 {
		t.Fatalf("live channels after deselect = %d", n)
	}

	// Select again, then disconnect: channel stopped, grant revoked, nothing left.
	if code, body := h.manage("PUT", staffPath("t1", "anna")+"/connections/"+conn+"/calendars/"+url.PathEscape(primary), map[string]bool{"selected": true}); code != 200 {
		t.Fatalf("re-select: %d %s", code, body)
	}
	if n := len(liveChannels(h.FG, primary)); n != 1 {
		t.Fatalf("live channels after re-select = %d, want 1", n)
	}
	if len(h.FG.Grants()) == 0 {
		t.Fatal("the fake Google knows no grant: the revoke check below would prove nothing")
	}
	code, body = h.manage("DELETE", staffPath("t1", "anna")+"/connections/"+conn, nil)
	if code != http.StatusNoContent {
		t.Fatalf("disconnect: %d %s", code, body)
	}
	if n := len(liveChannels(h.FG, primary)); n != 0 {
		t.Fatalf("live channels after disconnect = %d", n)
	}
	for _, g := range h.FG.Grants() {
		if !g.Revoked {
			t.Fatalf("grant %s not revoked at Google", g.ID)
		}
	}
	for path := range dumpFirestore(t, fs.FS) {
		if strings.Contains(path, conn) || strings.HasPrefix(path, "channels/") {
			t.Errorf("left after disconnect: %s", path)
		}
	}
	if got := h.connections("t1", "anna"); len(got.Connections) != 0 {
		t.Fatalf("connections after disconnect = %+v", got)
	}
}

func ptr[T any](v T) *T { return &v }

func liveChannels(fg *fakegoogle.Server, cal string) []fakegoogle.Channel {
	var out []fakegoogle.Channel
	for _, c := range fg.Channels() {
		if c.Calendar == cal && !c.Stopped && !c.Expired {
			out = append(out, c)
		}
	}
	return out
}

func TestReconnectNeverDuplicates(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.addAccount("anna@example.com")
	h.addAccount("anna.private@example.com")
	first := mustConnect(t, h, "t1", "anna", "anna@example.com")
	again := mustConnect(t, h, "t1", "anna", "anna@example.com")
	if first != again {
		t.Fatalf("reconnect made a new connection: %s then %s", first, again)
	}
	other := mustConnect(t, h, "t1", "anna", "anna.private@example.com")
	got := h.connections("t1", "anna")
	emails := map[string]bool{}
	for _, c := range got.Connections {
		emails[c.Email] = true
	}
	if len(got.Connections) != 2 || !emails["anna@example.com"] || !emails["anna.private@example.com"] || other == first {
		t.Fatalf("two accounts for one staff member: %+v", got)
	}
	// Another staff member of the same tenant connects the same account: it moves.
	moved := mustConnect(t, h, "t1", "ben", "anna@example.com")
	if moved != first {
		t.Fatalf("connection id changed on move: %s → %s", first, moved)
	}
	if n := len(h.connections("t1", "anna").Connections); n != 1 {
		t.Fatalf("anna keeps %d connections after the move, want 1 (the private one)", n)
	}
	if n := len(h.connections("t1", "ben").Connections); n != 1 {
		t.Fatalf("ben has %d connections, want 1", n)
	}
	// Another tenant connecting the same account is a separate connection.
	if id := mustConnect(t, h, "t2", "carl", "anna@example.com"); id == first {
		t.Fatal("tenants share a connection id")
	}
}

func TestConnectFailuresLeaveNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		setup  func(h *harness)
		opts   fakegoogle.ConsentOptions
		mangle func(h *harness, redirect *url.URL) *url.URL
		status int    // callback status when not a redirect
		reason string // reason on the return URL
	}{
		{name: "consent denied", opts: fakegoogle.ConsentOptions{Deny: true}, reason: "access_denied"},
		{name: "scope unticked", opts: fakegoogle.ConsentOptions{Untick: []string{"https://www.googleapis.com/auth/calendar.events"}}, reason: "missing_scopes"},
		{name: "no refresh token", setup: func(h *harness) { mustFault(h, fakegoogle.Fault{NoRefreshToken: true}) }, reason: "no_refresh_token"},
		{name: "google fails during exchange", setup: func(h *harness) { mustFault(h, fakegoogle.Fault{Op: "token", Status: 500}) }, reason: "exchange_failed"},
		{name: "userinfo fails", setup: func(h *harness) { mustFault(h, fakegoogle.Fault{Op: "userinfo", Status: 503}) }, reason: "google_unavailable"},
		{name: "forged state", mangle: func(h *harness, u *url.URL) *url.URL {
			q := u.Query()
			st := q.Get("state")
			q.Set("state", st[:len(st)-2]+"AA")
			u.RawQuery = q.Encode()
			return u
		}, status: http.StatusBadRequest},
		{name: "expired state", mangle: func(h *harness, u *url.URL) *url.URL {
			h.FG.Advance(16 * time.Minute)
			return u
		}, status: http.StatusBadRequest},
		{name: "no state", mangle: func(h *harness, u *url.URL) *url.URL {
			q := u.Query()
			q.Del("state")
			u.RawQuery = q.Encode()
			return u
		}, status: http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{})
			h.addAccount("anna@example.com")
			if tc.setup != nil {
				tc.setup(h)
			}
			auth := h.startConnect("t1", "anna")
			redirect, err := h.FG.Consent(context.Background(), auth, "anna@example.com", tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tc.mangle != nil {
				redirect = tc.mangle(h, redirect)
			}
			code, loc := h.callback(redirect)
			if tc.status != 0 {
				if code != tc.status {
					t.Fatalf("callback status = %d, want %d", code, tc.status)
				}
			} else {
				if code != http.StatusFound || loc.Query().Get("status") != "error" || loc.Query().Get("reason") != tc.reason {
					t.Fatalf("callback → %d %v, want error reason %s", code, loc, tc.reason)
				}
				if !strings.HasPrefix(loc.String(), h.Return) {
					t.Fatalf("redirected outside the return URL: %s", loc)
				}
			}
			for path := range dumpFirestore(t, h.Stack.Platform.Store.FS) {
				if strings.Contains(path, "/connections/") || strings.Contains(path, "/accounts/") {
					t.Errorf("half-written: %s", path)
				}
			}
		})
	}
}

func mustFault(h *harness, f fakegoogle.Fault) {
	h.t.Helper()
	if err := h.FG.AddFault(f); err != nil {
		h.t.Fatal(err)
	}
}

func TestStateIsSingleUse(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.addAccount("anna@example.com")
	auth := h.startConnect("t1", "anna")
	redirect, err := h.FG.Consent(context.Background(), auth, "anna@example.com", fakegoogle.ConsentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if code, loc := h.callback(redirect); code != http.StatusFound || loc.Query().Get("status") != "connected" {
		t.Fatalf("first use: %d %v", code, loc)
	}
	if code, _ := h.callback(redirect); code != http.StatusBadRequest {
		t.Fatalf("replayed state answered %d, want 400", code)
	}
}

func TestReturnURLMustBeAllowed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	for _, u := range []string{"https://evil.example/", "http://app.example.test.evil.example/settings", "http://app.example.test/other", "javascript:alert(1)", ""} {
		code, body := h.manage("POST", staffPath("t1", "anna")+"/connections", map[string]string{"returnUrl": u})
		if code != http.StatusBadRequest || !strings.Contains(string(body), `"code":"return_url_not_allowed"`) {
			t.Errorf("returnUrl %q: %d %s", u, code, body)
		}
	}
	if code, _ := h.manage("POST", staffPath("t1", "anna")+"/connections", map[string]string{"returnUrl": h.Return + "/sub?x=1"}); code != http.StatusCreated {
		t.Errorf("allowed sub-path refused: %d", code)
	}
}

func TestManageAuthAndTenantIsolation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.addAccount("anna@example.com")
	conn := mustConnect(t, h, "t1", "anna", "anna@example.com")
	for _, path := range []string{
		staffPath("t2", "anna") + "/connections/" + conn + "/calendars",
		staffPath("t1", "ben") + "/connections/" + conn + "/calendars",
	} {
		if code, body := h.manage("GET", path, nil); code != http.StatusNotFound || !strings.Contains(string(body), `"error"`) {
			t.Errorf("GET %s: %d %s, want 404 JSON", path, code, body)
		}
	}
	if code, _ := h.manage("DELETE", staffPath("t2", "anna")+"/connections/"+conn, nil); code != http.StatusNotFound {
		t.Errorf("other tenant could delete: %d", code)
	}
	if n := len(h.connections("t1", "anna").Connections); n != 1 {
		t.Fatalf("connection gone after foreign delete attempt")
	}
	// No key, wrong key, bad ids, bad bodies: 4xx JSON.
	req, _ := http.NewRequest("GET", h.Stack.Function("Manage")+staffPath("t1", "anna")+"/connections", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no key: %d", resp.StatusCode)
	}
	bad := []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", "/v1/tenants/t%2F1/staff/anna/connections", nil, 400},
		{"GET", "/v1/nothing", nil, 404},
		{"POST", staffPath("t1", "anna") + "/connections", map[string]any{"returnUrl": 5}, 400},
		{"POST", staffPath("t1", "anna") + "/connections", map[string]any{"other": "x"}, 400},
		{"PUT", staffPath("t1", "anna") + "/connections/" + conn + "/calendars/nope", map[string]any{"selected": true}, 404},
		{"PUT", staffPath("t1", "anna") + "/connections/" + conn + "/calendars/nope", map[string]any{}, 400},
		{"PATCH", staffPath("t1", "anna") + "/connections/" + conn, map[string]any{"writeCalendarId": "nope"}, 404},
	}
	for _, b := range bad {
		code, body := h.manage(b.method, b.path, b.body)
		if code != b.want || !strings.Contains(string(body), `"error":{"code":`) {
			t.Errorf("%s %s: %d %s, want %d with JSON error", b.method, b.path, code, body, b.want)
		}
	}
}

func TestRevokedAtGoogleTurnsReauthRequired(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	primary, _ := h.addAccount("anna@example.com")
	start := h.FG.Now().Add(30 * time.Hour).Truncate(time.Hour)
	if _, err := h.FG.CreateEvent(primary, &calendar.Event{Summary: "Dentist", Start: &calendar.EventDateTime{DateTime: start.Format(time.RFC3339)}, End: &calendar.EventDateTime{DateTime: start.Add(time.Hour).Format(time.RFC3339)}}); err != nil {
		t.Fatal(err)
	}
	conn := mustConnect(t, h, "t1", "anna", "anna@example.com")
	h.manage("PUT", staffPath("t1", "anna")+"/connections/"+conn+"/calendars/"+url.PathEscape(primary), map[string]bool{"selected": true})
	ch := liveChannels(h.FG, primary)
	if len(ch) != 1 {
		t.Fatalf("channels = %d", len(ch))
	}
	fs := h.Stack.Platform.Store.FS
	synced := func() (events, busy int) {
		for path := range dumpFirestore(t, fs) {
			switch {
			case strings.Contains(path, "/events/"):
				events++
			case strings.Contains(path, "/busy/"):
				busy++
			}
		}
		return
	}
	eventually(t, 30*time.Second, "the event to be synced", func() bool { e, b := synced(); return e > 0 && b > 0 })

	h.FG.RevokeAccount("anna@example.com") // the user removes access on Google's permissions page
	got := h.connections("t1", "anna")
	if got.Connections[0].Status != store.StatusReauthRequired || got.Connections[0].PictureURL != "" {
		t.Fatalf("after revoke: %+v", got.Connections[0])
	}
	if _, err := h.Stack.Platform.Store.Channel(ch[0].ID).Get(context.Background()); err == nil {
		t.Fatal("channel lookup kept after the grant was revoked: pushes would still be processed")
	}
	if e, b := synced(); e != 0 || b != 0 {
		t.Fatalf("after Google revoked access the product still holds %d events and %d busy docs", e, b)
	}
	c, err := h.Stack.Platform.Store.GetConnection(context.Background(), "t1", "anna", conn)
	if err != nil || len(c.Token.Ciphertext) != 0 {
		t.Fatalf("dead refresh token kept: %v", err)
	}
	// Reconnecting makes it active again, with a new channel for the selected calendar and
	// the events synced again.
	mustConnect(t, h, "t1", "anna", "anna@example.com")
	if s := h.connections("t1", "anna").Connections[0].Status; s != store.StatusActive {
		t.Fatalf("after reconnect status = %s", s)
	}
	if n := len(liveChannels(h.FG, primary)); n < 1 {
		t.Fatalf("selected calendar has no live channel after reconnect")
	}
	eventually(t, 30*time.Second, "the event to be synced again", func() bool { e, _ := synced(); return e > 0 })
}

func TestGoogleScopesAreMinimal(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	auth, err := url.Parse(h.startConnect("t1", "anna"))
	if err != nil {
		t.Fatal(err)
	}
	q := auth.Query()
	if q.Get("access_type") != "offline" || q.Get("prompt") != "consent" || q.Get("include_granted_scopes") != "true" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		t.Fatalf("auth URL params = %v", q)
	}
	scopes := strings.Fields(q.Get("scope"))
	if strings.Join(scopes, " ") != strings.Join(googlecal.Scopes, " ") {
		t.Fatalf("scopes = %v", scopes)
	}
	for _, s := range scopes {
		if strings.HasSuffix(s, "/auth/calendar") || strings.HasSuffix(s, "/auth/calendar.readonly") {
			t.Errorf("broad scope requested: %s", s)
		}
	}
}

// TestLateReauthDoesNotUndoAReconnect: a request that still holds the old session fails
// with invalid_grant after the staff member has already reconnected; marking the
// connection reauth_required then would undo the reconnect. It must leave it active.
func TestLateReauthDoesNotUndoAReconnect(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.addAccount("anna@example.com")
	conn := mustConnect(t, h, "t1", "anna", "anna@example.com")
	st := h.Stack.Platform.Store
	old, err := st.GetConnection(context.Background(), "t1", "anna", conn)
	if err != nil {
		t.Fatal(err)
	}
	mustConnect(t, h, "t1", "anna", "anna@example.com") // reconnect: a new sealed token
	if err := h.Stack.Platform.Accounts(h.Stack.Env.Google).MarkReauth(context.Background(), old, h.FG.Now()); err != nil {
		t.Fatal(err)
	}
	if s := h.connections("t1", "anna").Connections[0].Status; s != store.StatusActive {
		t.Fatalf("status after a late reauth of the old session = %s, want active", s)
	}
	// The current session's failure still counts.
	cur, _ := st.GetConnection(context.Background(), "t1", "anna", conn)
	if err := h.Stack.Platform.Accounts(h.Stack.Env.Google).MarkReauth(context.Background(), cur, h.FG.Now()); err != nil {
		t.Fatal(err)
	}
	if s := h.connections("t1", "anna").Connections[0].Status; s != store.StatusReauthRequired {
		t.Fatalf("status after reauth of the current session = %s", s)
	}
}

// TestConnectIDComesBackOnTheRedirect: the connectId Manage returns to the backend comes
// back on the browser's return redirect (success and error), so the backend can check the
// flow was completed in the session that started it.
func TestConnectIDComesBackOnTheRedirect(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.addAccount("anna@example.com")
	for _, deny := range []bool{false, true} {
		code, body := h.manage("POST", staffPath("t1", "anna")+"/connections", map[string]string{"returnUrl": h.Return})
		var out struct{ AuthURL, ConnectID string }
		if code != http.StatusCreated || json.Unmarshal(body, &out) != nil || len(out.ConnectID) < 20 {
			t.Fatalf("start: %d %s", code, body)
		}
		if strings.Contains(out.AuthURL, out.ConnectID) {
			t.Fatal("the connectId must not travel through Google's authorization URL")
		}
		redirect, err := h.FG.Consent(context.Background(), out.AuthURL, "anna@example.com", fakegoogle.ConsentOptions{Deny: deny})
		if err != nil {
			t.Fatal(err)
		}
		_, loc := h.callback(redirect)
		if loc == nil || loc.Query().Get("connectId") != out.ConnectID {
			t.Fatalf("deny=%v: return redirect %v lacks connectId %s", deny, loc, out.ConnectID)
		}
	}
}
