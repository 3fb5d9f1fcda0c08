package localstack

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/belbo/calsync/scripts/ops/opslib"
	"github.com/belbo/calsync/shared/accounts"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/secrets"
	"github.com/belbo/calsync/shared/secrets/secretstest"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/tokencrypt"
)

func (h *harness) tokenVersion(tenant, staff, conn string) string {
	h.t.Helper()
	c, err := h.Stack.Platform.Store.GetConnection(context.Background(), tenant, staff, conn)
	if err != nil {
		h.t.Fatal(err)
	}
	return c.Token.KeyVersion
}

func (h *harness) calendarsFresh(tenant, staff, conn string) bool {
	h.t.Helper()
	code, body := h.manage("GET", staffPath(tenant, staff)+"/connections/"+conn+"/calendars", nil)
	if code != http.StatusOK {
		h.t.Fatalf("list calendars: %d %s", code, body)
	}
	return strings.Contains(string(body), `"fresh":true`)
}

// Connections sealed under the old token key keep working after a new key version is
// added; `ops reencrypt` moves them to the new version (keyVersion in Firestore), is a
// no-op the second time, and they keep working — without the old key at all.
func TestOpsTokenKeyRotation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	ctx := context.Background()
	tool := opslib.New(h.Stack.Platform, h.Stack.Env.SyncSchedule)
	primary, second := h.addAccount("rot@example.com")
	conn := mustConnect(t, h, "t1", "s1", "rot@example.com")
	if v := h.tokenVersion("t1", "s1", conn); v != "1" {
		t.Fatalf("token sealed under version %q, want 1", v)
	}

	newKey := key32(t)
	if v := h.Secrets.Add(secrets.TokenKey, newKey); v != "2" {
		t.Fatalf("new key version %s", v)
	}
	// Still works under the old key: Google is called with the decrypted token.
	if !h.calendarsFresh("t1", "s1", conn) {
		t.Fatal("calendar list not refreshed from Google after the key rotation")
	}
	h.selectCalendar("t1", "s1", conn, primary, true)
	h.waitHealthy("t1", "s1", conn, primary)

	// A connection made after the rotation is sealed under the new version directly.
	h.addAccount("rot2@example.com")
	conn2 := mustConnect(t, h, "t1", "s2", "rot2@example.com")
	if v := h.tokenVersion("t1", "s2", conn2); v != "2" {
		t.Fatalf("new connection sealed under %q, want 2", v)
	}

	dry, err := tool.Reencrypt(ctx, true)
	if err != nil || dry.Connections != 2 || dry.Rotated != 1 || dry.Current != 1 || dry.LatestVersion != "2" {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	if v := h.tokenVersion("t1", "s1", conn); v != "1" {
		t.Fatalf("dry run changed the key version to %s", v)
	}
	rep, err := tool.Reencrypt(ctx, false)
	if err != nil || rep.Rotated != 1 || rep.Current != 1 || rep.Failed != 0 {
		t.Fatalf("reencrypt: %+v %v", rep, err)
	}
	if v := h.tokenVersion("t1", "s1", conn); v != "2" {
		t.Fatalf("after reencrypt: key version %s, want 2", v)
	}
	again, err := tool.Reencrypt(ctx, false)
	if err != nil || again.Rotated != 0 || again.Current != 2 {
		t.Fatalf("second reencrypt: %+v %v", again, err)
	}

	// The token opens with the new key alone (the old version could now be disabled).
	onlyNew := secrets.NewStatic(map[string]map[string][]byte{secrets.TokenKey: {"2": newKey}}, map[string]string{secrets.TokenKey: "2"})
	c, err := h.Stack.Platform.Store.GetConnection(ctx, "t1", "s1", conn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokencrypt.New(onlyNew).Open(ctx, c.Token, accounts.AAD("t1", "s1", conn)); err != nil {
		t.Fatalf("re-encrypted token does not open with the new key alone: %v", err)
	}
	// And the system still works with it: list calendars from Google, select another one.
	if !h.calendarsFresh("t1", "s1", conn) {
		t.Fatal("calendar list not refreshed after reencrypt")
	}
	h.selectCalendar("t1", "s1", conn, second, true)
	h.waitHealthy("t1", "s1", conn, primary, second)
	if st := h.health("t1", "s1", conn).Status; st != store.StatusActive {
		t.Fatalf("connection status %s", st)
	}
}

// A connect flow started before a new state-key version was added completes after it
// (the state names its key version); new flows sign with the new version. Nobody is
// disconnected.
func TestOpsStateKeyRotation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	tool := opslib.New(h.Stack.Platform, h.Stack.Env.SyncSchedule)
	h.addAccount("state@example.com")
	before := mustConnect(t, h, "t1", "s1", "state@example.com")

	inFlight := h.startConnect("t1", "s2")
	if v := stateVersion(t, inFlight); v != "1" {
		t.Fatalf("state signed with version %s", v)
	}
	h.Secrets.Add(secrets.StateKey, key32(t))
	kv, err := tool.Keys(ctx)
	if err != nil || kv.StateKey != "2" || kv.TokenKey != "1" {
		t.Fatalf("keys: %+v %v", kv, err)
	}
	var guide strings.Builder
	opslib.RotateStateKeyGuide(&guide, kv, true)
	if !strings.Contains(guide.String(), "latest version 2") || !strings.Contains(guide.String(), "15m") {
		t.Fatalf("guide: %s", guide.String())
	}

	h.addAccount("state2@example.com")
	redirect, err := h.FG.Consent(ctx, inFlight, "state2@example.com", fakegoogle.ConsentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	code, loc := h.callback(redirect)
	if code != http.StatusFound || loc.Query().Get("status") != "connected" {
		t.Fatalf("in-flight state after rotation: %d %v", code, loc)
	}
	if v := stateVersion(t, h.startConnect("t1", "s3")); v != "2" {
		t.Fatalf("new state signed with version %s, want 2", v)
	}
	if st := h.health("t1", "s1", before).Status; st != store.StatusActive {
		t.Fatalf("existing connection: %s", st)
	}
}

func stateVersion(t *testing.T, authURL string) string {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := strings.Cut(u.Query().Get("state"), ".")
	return v
}

// TestOpsKeyRotationThroughSecretManager runs the runbook's token-key rotation against
// the real Secret Manager client and secretstest's in-process fake server, with a short
// SECRET_CACHE_TTL: add a version, reencrypt until nothing is left under the old one,
// disable the old version — and the warm platform stops accepting the old version
// without a restart, while the connection keeps working under the new one.
func TestOpsKeyRotationThroughSecretManager(t *testing.T) {
	t.Parallel()
	fake := secretstest.NewFake(t)
	fake.Add(secrets.OAuthClientSecret, []byte(testClientSecret))
	fake.Add(secrets.StateKey, key32(t))
	fake.Add(secrets.TokenKey, key32(t))
	src := secrets.NewSecretManagerTTL(fake.Client(), "test-project", 300*time.Millisecond)
	h := newHarness(t, harnessOptions{Secrets: src})
	ctx := context.Background()
	tool := opslib.New(h.Stack.Platform, h.Stack.Env.SyncSchedule)
	h.addAccount("smrot@example.com")
	conn := mustConnect(t, h, "t1", "s1", "smrot@example.com")
	if v := h.tokenVersion("t1", "s1", conn); v != "1" {
		t.Fatalf("token sealed under version %q, want 1", v)
	}
	// 1. Add a version. 2. Reencrypt until nothing is left under the old one.
	fake.Add(secrets.TokenKey, key32(t))
	eventually(t, 30*time.Second, "reencrypt to move the token to version 2", func() bool {
		rep, err := tool.Reencrypt(ctx, false)
		return err == nil && rep.Failed == 0 && h.tokenVersion("t1", "s1", conn) == "2"
	})
	// 3. Disable the old version: the warm instance stops accepting it within the TTL.
	fake.Disable(secrets.TokenKey, "1")
	eventually(t, 30*time.Second, "the disabled version to stop working on the warm platform", func() bool {
		_, err := h.Stack.Platform.Secrets.Version(ctx, secrets.TokenKey, "1")
		return err != nil
	})
	if !h.calendarsFresh("t1", "s1", conn) {
		t.Fatal("the connection stopped working after the old key was disabled")
	}
}
