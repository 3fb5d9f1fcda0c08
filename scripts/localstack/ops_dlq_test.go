package localstack

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/belbo/calsync/scripts/ops/opslib"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/health"
	"github.com/belbo/calsync/shared/messages"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/topology"
)

// A calendar-sync message that failed every delivery while Google was down is
// dead-lettered by Pub/Sub; once Google is back, `ops dlq replay` republishes it, the
// sync succeeds and a second replay finds nothing to do.
func TestOpsDeadLetterReplay(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	ctx := context.Background()
	tool := opslib.New(h.Stack.Platform, h.Stack.Env.SyncSchedule)
	primary, _ := h.addAccount("dlq@example.com")
	conn := mustConnect(t, h, "t1", "s1", "dlq@example.com")
	h.selectCalendar("t1", "s1", conn, primary, true)
	h.waitHealthy("t1", "s1", conn, primary)

	if err := h.FG.AddFault(fakegoogle.Fault{Op: "events.list", Calendar: primary, Status: 503, Count: 1000}); err != nil {
		t.Fatal(err)
	}
	rep, err := tool.Resync(ctx, opslib.Scope{Tenant: "t1", Staff: "s1", Connection: conn, Calendar: primary}, false)
	if err != nil || rep.Published != 1 {
		t.Fatalf("resync: %+v %v", rep, err)
	}
	opts := opslib.DLQOptions{Topic: topology.CalendarSync, Wait: time.Second}
	var dead []opslib.DeadLetter
	eventually(t, 60*time.Second, "the failing message to be dead-lettered", func() bool {
		dead, err = tool.DLQList(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		return len(dead) == 1
	})
	var m messages.Sync
	if err := json.Unmarshal([]byte(dead[0].Data), &m); err != nil || m.Connection != conn || m.Reason != "safety" || dead[0].SourceTopic != topology.CalendarSync {
		t.Fatalf("dead letter: %+v (%v)", dead[0], err)
	}
	if trace := dead[0].Attributes["traceparent"]; !strings.Contains(trace, rep.Trace) {
		t.Errorf("dead letter lost the trace %s: %v", rep.Trace, dead[0].Attributes)
	}
	// Listing does not consume.
	if again, err := tool.DLQList(ctx, opts); err != nil || len(again) != 1 {
		t.Fatalf("second list: %d %v", len(again), err)
	}
	failures := calHealth(h.health("t1", "s1", conn), primary).ConsecutiveFailures
	if failures < 5 {
		t.Fatalf("consecutiveFailures %d after a dead-lettered message", failures)
	}

	h.FG.ClearFaults()
	rr, err := tool.DLQReplay(ctx, opts)
	if err != nil || rr.Replayed != 1 || rr.IDs[0] != dead[0].MessageID {
		t.Fatalf("replay: %+v %v", rr, err)
	}
	h.waitHealthy("t1", "s1", conn, primary)
	if c := calHealth(h.health("t1", "s1", conn), primary); c.ConsecutiveFailures != 0 || c.LastErrorClass != "" {
		t.Fatalf("after replay: %+v", c)
	}
	// Safe to run twice: nothing left.
	if rr, err := tool.DLQReplay(ctx, opts); err != nil || rr.Replayed != 0 {
		t.Fatalf("second replay: %+v %v", rr, err)
	}
	if left, err := tool.DLQList(ctx, opts); err != nil || len(left) != 0 {
		t.Fatalf("dead letters left: %+v %v", left, err)
	}
}

// A message the platform dead-lettered itself (calsync* attributes, e.g. while the
// connection was broken) is replayed with its data and trace but without the dead-letter
// attributes, and the sync it asks for runs under the original trace.
func TestOpsReplayPlatformDeadLetter(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	ctx := context.Background()
	tool := opslib.New(h.Stack.Platform, h.Stack.Env.SyncSchedule)
	primary, _ := h.addAccount("dlq2@example.com")
	conn := mustConnect(t, h, "t1", "s1", "dlq2@example.com")
	h.selectCalendar("t1", "s1", conn, primary, true)
	h.waitHealthy("t1", "s1", conn, primary)
	runs := calHealth(h.health("t1", "s1", conn), primary).SyncRuns

	trace := "4bf92f3577b34da6a3ce929d0e0e4736"
	data, _ := json.Marshal(messages.Sync{Tenant: "t1", Staff: "s1", Connection: conn, Calendar: store.CalendarDocID(primary), Reason: "full"})
	attrs := map[string]string{
		"traceparent":        "00-" + trace + "-00f067aa0ba902b7-01",
		"calsyncSourceTopic": topology.CalendarSync,
		"calsyncError":       "open connection: token did not open",
	}
	if err := h.Stack.Platform.PublishRaw(ctx, topology.DeadLetter(topology.CalendarSync), data, attrs); err != nil {
		t.Fatal(err)
	}
	opts := opslib.DLQOptions{Topic: topology.CalendarSync, Wait: time.Second}
	var dead []opslib.DeadLetter
	eventually(t, 30*time.Second, "the dead letter to be listed", func() bool {
		var err error
		dead, err = tool.DLQList(ctx, opts)
		return err == nil && len(dead) == 1
	})
	if dead[0].Error != attrs["calsyncError"] || dead[0].SourceTopic != topology.CalendarSync {
		t.Fatalf("listed: %+v", dead[0])
	}
	// Other topics' dead letters are not touched.
	if other, err := tool.DLQList(ctx, opslib.DLQOptions{Topic: topology.CalendarExport, Wait: time.Second}); err != nil || len(other) != 0 {
		t.Fatalf("calendar-export dead letters: %+v %v", other, err)
	}
	if _, err := tool.DLQList(ctx, opslib.DLQOptions{Topic: "calendar-sync-dead-letter"}); err == nil {
		t.Fatal("unknown topic accepted")
	}

	rr, err := tool.DLQReplay(ctx, opts)
	if err != nil || rr.Replayed != 1 {
		t.Fatalf("replay: %+v %v", rr, err)
	}
	eventually(t, 30*time.Second, "the replayed full sync", func() bool {
		c := calHealth(h.health("t1", "s1", conn), primary)
		return c.SyncRuns > runs && c.State == health.OK
	})
	// The sync ran under the original trace and said so in its sync.done line.
	eventually(t, 10*time.Second, "sync.done under the replayed trace", func() bool {
		for _, l := range logLines(t, h) {
			if l["event"] == "sync.done" && strings.HasSuffix(str(l["logging.googleapis.com/trace"]), "/traces/"+trace) && l["reason"] == "full" && l["outcome"] == "ok" {
				return true
			}
		}
		return false
	})
	if rr, err := tool.DLQReplay(ctx, opts); err != nil || rr.Replayed != 0 {
		t.Fatalf("second replay: %+v %v", rr, err)
	}
}

// logLines parses the captured JSON log lines of the stack.
func logLines(t *testing.T, h *harness) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(h.Logs.String(), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

func str(v any) string { s, _ := v.(string); return s }
