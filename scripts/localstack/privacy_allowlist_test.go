package localstack

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/iterator"

	"github.com/belbo/calsync/shared/booking"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/store"
)

// defaultLogs captures everything written through the standard library's default
// logger, which is also where slog.Default() writes while no logger is set up (a
// function's start-up failure, code that logs through a context without a logger).
var defaultLogs = &logBuffer{}

func init() { log.SetOutput(io.MultiWriter(os.Stderr, defaultLogs)) }

// firestoreDoc is one stored document: its path, its collection path and its data.
type firestoreDoc struct {
	Path, Collection string
	Data             map[string]any
}

// walkFirestore reads every document of every collection and subcollection of the
// project (also below documents that do not exist themselves).
func walkFirestore(t *testing.T, fs *firestore.Client) []firestoreDoc {
	t.Helper()
	ctx := context.Background()
	var out []firestoreDoc
	var walk func(it *firestore.CollectionIterator)
	walk = func(it *firestore.CollectionIterator) {
		for {
			col, err := it.Next()
			if err == iterator.Done {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			refs, err := col.DocumentRefs(ctx).GetAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, ref := range refs {
				snap, err := ref.Get(ctx)
				if err == nil && snap.Exists() {
					out = append(out, firestoreDoc{Path: ref.Path, Collection: collectionPath(ref), Data: snap.Data()})
				}
				walk(ref.Collections(ctx))
			}
		}
	}
	walk(fs.Collections(ctx))
	return out
}

// collectionPath is a document's collection path relative to the database root.
func collectionPath(ref *firestore.DocumentRef) string {
	var segs []string
	for c := ref.Parent; c != nil; {
		segs = append([]string{c.ID}, segs...)
		if c.Parent == nil {
			break
		}
		segs = append([]string{c.Parent.ID}, segs...)
		c = c.Parent.Parent
	}
	return strings.Join(segs, "/")
}

// checkAllowList fails on every document of a collection that is not allow-listed and
// on every field path not on its collection's list; it returns the allow-listed
// collection patterns it saw.
func checkAllowList(t *testing.T, stage string, docs []firestoreDoc) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	for _, d := range docs {
		spec := store.AllowedCollection(d.Collection)
		if spec == nil {
			t.Errorf("%s: %s is in collection %s, which is not on the allow-list (shared/store/allowlist.go)", stage, d.Path, d.Collection)
			continue
		}
		seen[spec.Path] = true
		for _, f := range store.LeafPaths(d.Data) {
			if !spec.Allows(f) {
				t.Errorf("%s: %s holds field %q, which is not on the allow-list of %s", stage, d.Path, f, spec.Path)
			}
		}
	}
	return seen
}

// TestPrivacyAllowList runs a full scenario — tenant settings, availability, connect two
// staff members, select, push-driven sync of a private event, a pending connection flow,
// a widget booking exported to Google and synced back, a second booking cancelled, a
// customer erased, a staff member erased, a disconnect — and after each stage checks
// every document of every collection of the database against the allow-list. It also
// captures every log line of every function and of the default logger, and finds no
// name, e-mail, title, details, location or token in them.
func TestPrivacyAllowList(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{Push: true})
	h.freeFormTenant("tp") // books or asks for slots with durationMin, no catalogue
	const (
		staffEmail = "anna.allowlist@example.com"
		benEmail   = "ben.allowlist@example.com"
		title      = "Therapy session Mrs Quuxley"
		details    = "diagnosis: zorblaxitis"
		location   = "Geheimweg 7"
		guest      = "guest.quuxley@example.org"
		custName   = "Zacharias Geheimkunde"
		custEmail  = "zach.geheimkunde@example.org"
		cust2Name  = "Yvonne Verborgen"
		cust2Email = "yvonne.verborgen@example.org"
	)
	primary, _ := h.addAccount(staffEmail)
	h.addAccount(benEmail)
	start := h.FG.Now().Add(26 * time.Hour).Truncate(time.Hour)
	if _, err := h.FG.CreateEvent(primary, &calendar.Event{
		Summary: title, Description: details, Location: location,
		Attendees: []*calendar.EventAttendee{{Email: guest}},
		Start:     &calendar.EventDateTime{DateTime: start.Format(time.RFC3339)},
		End:       &calendar.EventDateTime{DateTime: start.Add(time.Hour).Format(time.RFC3339)},
	}); err != nil {
		t.Fatal(err)
	}
	if code, body := h.manage("PATCH", "/v1/tenants/tp/settings", map[string]any{"retention": map[string]int{"customerDataDays": 20}}); code != http.StatusOK {
		t.Fatalf("settings: %d %s", code, body)
	}
	h.setRules("tp", "anna", weekdayRules())
	h.setRules("tp", "ben", weekdayRules())
	conn := mustConnect(t, h, "tp", "anna", staffEmail)
	mustConnect(t, h, "tp", "ben", benEmail)
	h.startConnect("tp", "anna") // a flow left pending: an oauthStates document
	if code, body := h.manage("PUT", staffPath("tp", "anna")+"/connections/"+conn+"/calendars/"+url.PathEscape(primary), map[string]bool{"selected": true}); code != 200 {
		t.Fatalf("select: %d %s", code, body)
	}
	from, to := start.Add(-48*time.Hour).Format(time.RFC3339), start.Add(72*time.Hour).Format(time.RFC3339)
	eventually(t, 30*time.Second, "the private event to be synced", func() bool {
		code, body := h.manage("GET", staffPath("tp", "anna")+"/events?from="+url.QueryEscape(from)+"&to="+url.QueryEscape(to), nil)
		return code == http.StatusOK && strings.Contains(string(body), title)
	})

	// Book (exported to Google, synced back into the events) and book + cancel.
	book := func(slot, name, email string) (string, string) {
		b := bookBody("tp", "anna", slot, 30)
		b["customer"] = map[string]string{"name": name, "email": email}
		resp, body := h.public("POST", h.Stack.Function("Book")+"/", b)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("book %s: %d %s", slot, resp.StatusCode, body)
		}
		m := decodeMap(t, body)
		return m["id"].(string), m["cancelToken"].(string)
	}
	kept, _ := book("2026-11-04T10:00:00+01:00", custName, custEmail)
	cancelled, tok := book("2026-11-04T11:00:00+01:00", cust2Name, cust2Email)
	eventually(t, 30*time.Second, "the booking exported and synced back", func() bool {
		code, body := h.manage("GET", staffPath("tp", "anna")+"/events?from="+url.QueryEscape("2026-11-04T00:00:00Z")+"&to="+url.QueryEscape("2026-11-05T00:00:00Z"), nil)
		return h.FG.Event(primary, booking.EventID(kept)) != nil && code == 200 && strings.Contains(string(body), `"bookingId":"`+kept+`"`)
	})
	if resp, body := h.public("POST", h.Stack.Function("Book")+"/cancel", map[string]string{"id": cancelled, "cancelToken": tok}); resp.StatusCode/100 != 2 {
		t.Fatalf("cancel: %d %s", resp.StatusCode, body)
	}
	eventually(t, 30*time.Second, "the cancelled booking's event deleted", func() bool {
		ev := h.FG.Event(primary, booking.EventID(cancelled))
		return ev == nil || ev.Status == "cancelled"
	})

	seen := map[string]bool{}
	check := func(stage string) {
		for k := range checkAllowList(t, stage, walkFirestore(t, h.Stack.Platform.Store.FS)) {
			seen[k] = true
		}
	}
	check("after booking")

	// Erase the first customer, then ben, then disconnect anna.
	if code, body := h.manage("POST", "/v1/tenants/tp/erasure/customers", map[string]string{"email": " Zach.Geheimkunde@example.org "}); code != http.StatusOK || !strings.Contains(string(body), `"bookingsScrubbed":1`) {
		t.Fatalf("erase customer: %d %s", code, body)
	}
	check("after customer erasure")
	if code, body := h.manage("DELETE", staffPath("tp", "ben"), nil); code != http.StatusOK {
		t.Fatalf("erase staff: %d %s", code, body)
	}
	check("after staff erasure")
	if code, body := h.manage("DELETE", staffPath("tp", "anna")+"/connections/"+conn, nil); code != http.StatusNoContent {
		t.Fatalf("disconnect: %d %s", code, body)
	}
	h.FG.WaitIdle(t.Context())
	docs := walkFirestore(t, h.Stack.Platform.Store.FS)
	for k := range checkAllowList(t, "after disconnect", docs) {
		seen[k] = true
	}

	// The scan must have seen every kind of document, or it proved nothing.
	var missing []string
	for _, c := range store.AllowList {
		if !seen[c.Path] {
			missing = append(missing, c.Path)
		}
	}
	if len(missing) > 0 {
		t.Errorf("the scenario never stored a document in %v: the allow-list check did not cover them", missing)
	}
	// Nothing of the erased customer, the disconnected account or the private event is left.
	all, _ := json.Marshal(docs)
	for _, secret := range []string{custName, custEmail, store.EmailHash("tp", custEmail), title, details, location, guest, staffEmail, benEmail, "1//0g", "ya29."} {
		if strings.Contains(string(all), secret) {
			t.Errorf("Firestore still holds %q after erasure and disconnect", secret)
		}
	}

	// A start-up failure logs through the default logger before any logger exists.
	before := strings.Count(defaultLogs.String(), "function start-up failed")
	type unconfigured struct {
		config.Platform
		Missing string `env:"A_VARIABLE_NOBODY_SETS" check:"required"`
	}
	startup := platform.LazyHTTP("Slots", func(*platform.Platform, unconfigured) (http.Handler, error) { return nil, nil })
	rec := httptest.NewRecorder()
	startup(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusServiceUnavailable || strings.Count(defaultLogs.String(), "function start-up failed") <= before {
		t.Fatalf("the default-logger capture did not see the start-up failure (%d): it proves nothing", rec.Code)
	}

	logs := h.Logs.String() + defaultLogs.String()
	for _, id := range []string{conn, kept, cancelled} {
		if !strings.Contains(logs, id) {
			t.Fatalf("the logs do not mention %s: the capture proves nothing", id)
		}
	}
	picture := h.FG.Accounts()[0].Picture
	for _, secret := range []string{custName, custEmail, cust2Name, cust2Email, staffEmail, benEmail, "Staff " + staffEmail, guest, title, details, location, picture, tok, "1//0g", "ya29."} {
		if secret != "" && strings.Contains(strings.ToLower(logs), strings.ToLower(secret)) {
			t.Errorf("a log line contains %q", secret)
		}
	}
	if m := regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`).FindAllString(logs, -1); len(m) > 0 {
		slices.Sort(m)
		t.Errorf("the logs contain e-mail addresses: %v", slices.Compact(m))
	}
	var cols []string
	for k := range seen {
		cols = append(cols, k)
	}
	sort.Strings(cols)
	t.Logf("allow-list checked on %d collections: %v", len(cols), cols)
}
