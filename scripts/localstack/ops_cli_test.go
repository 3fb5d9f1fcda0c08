package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/secrets"
	"github.com/belbo/calsync/shared/topology"
)

// secretEnv renders a static secret as the SECRET_* rotation list the functions and the
// ops tool read locally ("2=NEW,1=OLD", newest first).
func secretEnv(t *testing.T, s *secrets.Static, name string) string {
	t.Helper()
	ctx := context.Background()
	_, latest, err := s.Latest(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(latest)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for ; n > 0; n-- {
		v := strconv.Itoa(n)
		val, err := s.Version(ctx, name, v)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, v+"="+string(val))
	}
	return strings.Join(parts, ",")
}

// The ops command itself (go build ./scripts/ops), run as an operator would against the
// local stack: same environment variables as the functions, every command.
func TestOpsCLIAgainstLocalStack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	primary, _ := h.addAccount("cli@example.com")
	conn := mustConnect(t, h, "t1", "s1", "cli@example.com")
	h.selectCalendar("t1", "s1", conn, primary, true)
	h.waitHealthy("t1", "s1", conn, primary)

	bin := filepath.Join(t.TempDir(), "ops")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/belbo/calsync/scripts/ops").CombinedOutput(); err != nil {
		t.Fatalf("go build ./scripts/ops: %v\n%s", err, out)
	}
	h.Secrets.Add(secrets.TokenKey, key32(t)) // a rotation is pending: v2 is latest, the connection is on v1
	env := append(os.Environ(),
		"GOOGLE_CLOUD_PROJECT=other-project-overridden-by-flag",
		"CLOCK_URL="+h.FG.ClockURL(),
		"SECRET_TOKEN_KEY="+secretEnv(t, h.Secrets, secrets.TokenKey),
		"SECRET_STATE_KEY="+secretEnv(t, h.Secrets, secrets.StateKey),
		"SECRET_OAUTH_CLIENT_SECRET="+testClientSecret,
	)
	ops := func(wantCode int, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"-project", h.Project}, args...)...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("ops %v: %v", args, err)
		}
		if code != wantCode {
			t.Fatalf("ops %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, stdout.String(), stderr.String())
		}
		return stdout.String()
	}

	out := ops(0, "inspect", "-tenant", "t1", "-staff", "s1")
	var rep struct {
		Connections []struct {
			ID, Status, TokenKeyVersion string
			Health                      struct{ State string }
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Connections) != 1 || rep.Connections[0].ID != conn || rep.Connections[0].Health.State != "ok" || rep.Connections[0].TokenKeyVersion != "1" {
		t.Fatalf("inspect: %v\n%s", err, out)
	}
	if strings.Contains(out, "@") || strings.Contains(out, "Work ") {
		t.Fatalf("inspect without -show-email printed an address or a name:\n%s", out)
	}
	if out := ops(0, "inspect", "-tenant", "t1", "-staff", "s1", "-connection", conn, "-show-email"); !strings.Contains(out, "cli@example.com") || strings.Contains(out, "Work ") {
		t.Fatalf("inspect -show-email:\n%s", out)
	}

	runs := calHealth(h.health("t1", "s1", conn), primary).SyncRuns
	out = ops(0, "resync", "-tenant", "t1", "-staff", "s1", "-connection", conn, "-calendar", primary, "-full")
	if !strings.Contains(out, `"published": 1`) || !strings.Contains(out, `"reason": "full"`) {
		t.Fatalf("resync:\n%s", out)
	}
	if out := ops(0, "resync", "-all"); !strings.Contains(out, `"published": 1`) {
		t.Fatalf("resync -all:\n%s", out)
	}
	eventually(t, 30*time.Second, "both resyncs to run", func() bool {
		return calHealth(h.health("t1", "s1", conn), primary).SyncRuns >= runs+2
	})

	if out := ops(0, "dlq", "list", "-topic", topology.CalendarSync, "-wait", "1s"); !strings.Contains(out, `"messages": []`) {
		t.Fatalf("dlq list:\n%s", out)
	}
	if out := ops(0, "dlq", "replay", "-topic", topology.CalendarExport, "-wait", "1s"); !strings.Contains(out, `"replayed": 0`) {
		t.Fatalf("dlq replay:\n%s", out)
	}
	if out := ops(0, "reencrypt", "-dry-run"); !strings.Contains(out, `"rotated": 1`) || h.tokenVersion("t1", "s1", conn) != "1" {
		t.Fatalf("reencrypt -dry-run:\n%s", out)
	}
	if out := ops(0, "reencrypt"); !strings.Contains(out, `"rotated": 1`) || h.tokenVersion("t1", "s1", conn) != "2" {
		t.Fatalf("reencrypt:\n%s", out)
	}
	if out := ops(0, "reencrypt"); !strings.Contains(out, `"rotated": 0`) {
		t.Fatalf("second reencrypt:\n%s", out)
	}
	if out := ops(0, "keys"); !strings.Contains(out, `"tokenKey": "2"`) {
		t.Fatalf("keys:\n%s", out)
	}
	if out := ops(0, "rotate-state-key"); !strings.Contains(out, "state-key: latest version 1") {
		t.Fatalf("rotate-state-key:\n%s", out)
	}
	h.selectCalendar("t1", "s1", conn, primary, true) // still works after reencrypt
	h.waitHealthy("t1", "s1", conn, primary)

	ops(2, "resync")
	ops(2, "resync", "-all", "-tenant", "t1")
	ops(2, "dlq", "peek", "-topic", "calendar-sync")
	ops(2, "dlq", "list", "-topic", "nope")
	ops(2, "inspect", "-tenant", "t1")
	ops(2, "bogus")
}
