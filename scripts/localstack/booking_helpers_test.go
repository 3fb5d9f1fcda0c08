package localstack

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

const widgetOrigin = "http://widget.example.test"

// weekdayRules is Europe/Berlin, Monday–Friday 09:00–17:00, 30-minute step, 60 minutes
// notice, 60 days horizon, no buffers.
func weekdayRules() map[string]any {
	day := []map[string]string{{"start": "09:00", "end": "17:00"}}
	return map[string]any{
		"timeZone":  "Europe/Berlin",
		"weekly":    map[string]any{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day},
		"overrides": []any{}, "bufferBeforeMin": 0, "bufferAfterMin": 0,
		"minNoticeMin": 60, "horizonDays": 60, "stepMin": 30,
	}
}

func (h *harness) setRules(tenant, staff string, rules map[string]any) {
	h.t.Helper()
	code, body := h.manage("PUT", staffPath(tenant, staff)+"/availability", rules)
	if code != http.StatusOK {
		h.t.Fatalf("put availability: %d %s", code, body)
	}
}

// public calls a public function (Slots, Book) like the widget does.
func (h *harness) public(method, url string, body any) (*http.Response, []byte) {
	h.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Origin", widgetOrigin)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// Errorf, not Fatalf: concurrency tests call this from their own goroutines.
		h.t.Errorf("%s %s: %v", method, url, err)
		return &http.Response{Header: http.Header{}}, nil
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

func bookBody(tenant, staff, start string, dur int) map[string]any {
	return map[string]any{
		"tenant": tenant, "staff": staff, "start": start, "durationMin": dur, "service": "Haircut",
		"customer": map[string]string{"name": "Erika Mustermann", "email": "erika@example.org"},
	}
}

func decodeMap(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

// freeFormTenant lets tenant book free-form (durationMin and service in the body, no
// catalogue) with booking limits high enough never to trigger: for the tests of slot
// computation and booking races, which are not about the catalogue or the limits.
func (h *harness) freeFormTenant(tenant string) {
	h.t.Helper()
	high := map[string]int{"hour": 100000, "day": 100000}
	code, body := h.manage("PATCH", "/v1/tenants/"+tenant+"/settings", map[string]any{
		"freeFormBooking": true,
		"limits":          map[string]any{"perIp": high, "perEmail": high, "perStaff": high, "perTenant": high},
	})
	if code != http.StatusOK {
		h.t.Fatalf("patch settings: %d %s", code, body)
	}
}
