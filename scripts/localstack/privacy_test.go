package localstack

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"
)

// TestPrivacyPromises drives connect → select → push-driven sync → disconnect and then
// scans every Firestore document and every log line the system wrote:
//   - no refresh or access token in plaintext, no profile picture URL anywhere;
//   - no attendees, locations or other event fields the privacy promise does not list (docs/design.md);
//   - no e-mail address, event title or details in any log line;
//   - after disconnect nothing of the connection is left.
func TestPrivacyPromises(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	primary, _ := h.addAccount("anna.secret@example.com")
	const (
		title    = "Root canal for Mr Quux"
		details  = "patient history: allergic to zorblax"
		location = "Geheimstrasse 42"
		guest    = "guest.quux@example.org"
	)
	start := h.FG.Now().Add(26 * time.Hour).Truncate(time.Hour)
	if _, err := h.FG.CreateEvent(primary, &calendar.Event{
		Summary: title, Description: details, Location: location,
		Attendees: []*calendar.EventAttendee{{Email: guest}, {Email: "anna.secret@example.com", Self: true, ResponseStatus: "accepted"}},
		Start:     &calendar.EventDateTime{DateTime: start.Format(time.RFC3339)},
		End:       &calendar.EventDateTime{DateTime: start.Add(time.Hour).Format(time.RFC3339)},
	}); err != nil {
		t.Fatal(err)
	}
	conn := mustConnect(t, h, "t1", "anna", "anna.secret@example.com")
	picture := h.FG.Accounts()[0].Picture
	if got := h.connections("t1", "anna").Connections[0].PictureURL; got != picture {
		t.Fatalf("picture URL not shown live: %q", got)
	}
	if code, body := h.manage("PUT", staffPath("t1", "anna")+"/connections/"+conn+"/calendars/"+url.PathEscape(primary), map[string]bool{"selected": true}); code != 200 {
		t.Fatalf("select: %d %s", code, body)
	}
	from, to := start.Add(-24*time.Hour).Format(time.RFC3339), start.Add(24*time.Hour).Format(time.RFC3339)
	eventually(t, 30*time.Second, "the event to be synced", func() bool {
		code, body := h.manage("GET", staffPath("t1", "anna")+"/events?from="+url.QueryEscape(from)+"&to="+url.QueryEscape(to), nil)
		return code == http.StatusOK && strings.Contains(string(body), title)
	})

	docs := dumpFirestore(t, h.Stack.Platform.Store.FS)
	forbiddenInStore := []string{"1//0g", "ya29.", picture, location, guest, "attendees", "location", "pictureUrl", "picture"}
	for path, doc := range docs {
		if hit := containsAny(doc, forbiddenInStore...); hit != "" {
			t.Errorf("Firestore %s holds %q: %s", path, hit, doc)
		}
	}
	// Event documents hold exactly the listed fields plus bookkeeping.
	allowed := map[string]bool{"title": true, "details": true, "start": true, "end": true, "allDay": true, "startDate": true, "endDate": true, "busy": true, "status": true, "updated": true, "recurringId": true, "bookingId": true, "months": true, "runId": true, "calendar": true}
	sawEvent := false
	for path, doc := range docs {
		if !strings.Contains(path, "/events/") {
			continue
		}
		sawEvent = true
		var m map[string]any
		_ = json.Unmarshal([]byte(doc), &m)
		for k := range m {
			if !allowed[k] {
				t.Errorf("event document %s has field %q, which the privacy promise does not list", path, k)
			}
		}
	}
	if !sawEvent {
		t.Fatal("no event document was stored: the scan proved nothing")
	}

	if code, body := h.manage("DELETE", staffPath("t1", "anna")+"/connections/"+conn, nil); code != http.StatusNoContent {
		t.Fatalf("disconnect: %d %s", code, body)
	}
	h.FG.WaitIdle(t.Context())
	var left []string
	for path := range dumpFirestore(t, h.Stack.Platform.Store.FS) {
		if strings.Contains(path, conn) || strings.Contains(path, "/events/") || strings.Contains(path, "/busy/") || strings.HasPrefix(path, "channels/") || strings.Contains(path, "/calendars/") {
			left = append(left, path)
		}
	}
	sort.Strings(left)
	if len(left) > 0 {
		t.Errorf("left after disconnect: %v", left)
	}

	logs := h.Logs.String()
	if !strings.Contains(logs, conn) {
		t.Fatal("the logs do not even mention the connection id: the capture proves nothing")
	}
	for _, secret := range []string{"anna.secret@example.com", guest, title, details, location, picture, "1//0g", "ya29."} {
		if strings.Contains(logs, secret) {
			t.Errorf("a log line contains %q", secret)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line is not JSON: %s", line)
			continue
		}
		if m["severity"] == nil || m["message"] == nil {
			t.Errorf("log line lacks Cloud Logging fields: %s", line)
		}
	}
}
