package localstack

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/store"
	"google.golang.org/api/calendar/v3"
)

// linesWithTrace returns the captured log lines of one trace.
func linesWithTrace(t *testing.T, h *harness, trace string) []map[string]any {
	var out []map[string]any
	for _, l := range logLines(t, h) {
		if strings.HasSuffix(str(l["logging.googleapis.com/trace"]), "/traces/"+trace) {
			out = append(out, l)
		}
	}
	return out
}

func findEvent(lines []map[string]any, event string, match map[string]string) map[string]any {
	for _, l := range lines {
		if l["event"] != event {
			continue
		}
		ok := true
		for k, v := range match {
			ok = ok && str(l[k]) == v
		}
		if ok {
			return l
		}
	}
	return nil
}

// The trace of a webhook request (traceparent header) travels through the Pub/Sub
// message attributes into the log lines of the sync it caused.
func TestOpsWebhookTraceReachesSync(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	primary, _ := h.addAccount("trace@example.com")
	conn := mustConnect(t, h, "t1", "s1", "trace@example.com")
	h.selectCalendar("t1", "s1", conn, primary, true)
	h.waitHealthy("t1", "s1", conn, primary)
	calDoc := store.CalendarDocID(primary)

	var ch *fakegoogle.Channel
	for _, c := range h.FG.Channels() {
		if c.Calendar == primary && !c.Stopped {
			c := c
			ch = &c
		}
	}
	if ch == nil {
		t.Fatal("no live channel at the fake Google")
	}
	trace := "0af7651916cd43dd8448eb211c80319c"
	req, _ := http.NewRequest("POST", h.Stack.Function("CalendarWebhook")+"/", nil)
	req.Header.Set("X-Goog-Channel-ID", ch.ID)
	req.Header.Set("X-Goog-Channel-Token", ch.Token)
	req.Header.Set("X-Goog-Resource-ID", ch.ResourceID)
	req.Header.Set("X-Goog-Resource-State", "exists")
	req.Header.Set("X-Goog-Message-Number", "4711")
	req.Header.Set("traceparent", "00-"+trace+"-b7ad6b7169203331-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook: %d", resp.StatusCode)
	}
	var sync map[string]any
	eventually(t, 30*time.Second, "sync.done under the webhook's trace", func() bool {
		sync = findEvent(linesWithTrace(t, h, trace), "sync.done", map[string]string{"calendar": calDoc, "reason": "push", "outcome": "ok"})
		return sync != nil
	})
	lines := linesWithTrace(t, h, trace)
	if findEvent(lines, "webhook.notification", map[string]string{"outcome": "published", "channel": ch.ID}) == nil {
		t.Fatalf("no webhook.notification line under trace %s", trace)
	}
	for _, k := range []string{"tenant", "staff", "connection", "calendar", "durationMs", "outcome", "written", "pages"} {
		if _, ok := sync[k]; !ok {
			t.Errorf("sync.done lacks %s: %v", k, sync)
		}
	}
	if !strings.HasPrefix(str(sync["logging.googleapis.com/trace"]), "projects/"+h.Project+"/traces/") {
		t.Errorf("trace is not a full resource name: %v", sync["logging.googleapis.com/trace"])
	}

	// Without a traceparent (as Google pushes), the webhook makes a trace of its own and
	// the sync still logs under it.
	if _, err := h.FG.CreateEvent(primary, &calendar.Event{Summary: "Dentist", Start: &calendar.EventDateTime{DateTime: "2026-11-03T10:00:00+01:00"}, End: &calendar.EventDateTime{DateTime: "2026-11-03T11:00:00+01:00"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "a pushed notification's sync under the webhook's own trace", func() bool {
		for _, l := range logLines(t, h) {
			if l["event"] != "webhook.notification" || l["outcome"] != "published" || strings.HasSuffix(str(l["logging.googleapis.com/trace"]), trace) {
				continue
			}
			own := str(l["logging.googleapis.com/trace"])
			own = own[strings.LastIndex(own, "/")+1:]
			if own != "" && findEvent(linesWithTrace(t, h, own), "sync.done", map[string]string{"calendar": calDoc, "outcome": "ok"}) != nil {
				return true
			}
		}
		return false
	})
	if strings.Contains(h.Logs.String(), "Dentist") {
		t.Fatal("an event title reached the logs")
	}
}
