package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/booking"
)

// putService writes one catalogue entry through Manage.
func (h *harness) putService(tenant, id, name string, durationMin, bufferAfterMin int, staff ...string) {
	h.t.Helper()
	code, body := h.manage("PUT", "/v1/tenants/"+tenant+"/services/"+id, map[string]any{
		"name": name, "durationMin": durationMin, "bufferBeforeMin": 0, "bufferAfterMin": bufferAfterMin, "staff": staff,
	})
	if code != http.StatusCreated && code != http.StatusOK {
		h.t.Fatalf("put service %s: %d %s", id, code, body)
	}
}

// raw sends a request to a public function with exactly the given content type and
// extra headers (the widget's helper always sends JSON).
func (h *harness) raw(method, u, contentType string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Origin", widgetOrigin)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

func errCode(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("not a JSON error body: %s", body)
	}
	return e.Error.Code
}

func serviceBody(tenant, staff, start, serviceID, name, email string) map[string]any {
	return map[string]any{
		"tenant": tenant, "staff": staff, "start": start, "serviceId": serviceID,
		"customer": map[string]string{"name": name, "email": email},
	}
}

// TestServiceCatalogue: the catalogue through Manage; Slots and Book take duration and
// title from it; free-form bodies and parameters are refused by default; reserved ids,
// unknown parameters and non-JSON bodies are 4xx with a JSON error, never 5xx.
func TestServiceCatalogue(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.setRules("t1", "anna", weekdayRules())
	h.setRules("t1", "ben", weekdayRules())
	svcPath := "/v1/tenants/t1/services"
	code, body := h.manage("PUT", svcPath+"/cut", map[string]any{"id": "cut", "name": " Hair\u200bcut ", "durationMin": 45, "bufferBeforeMin": 0, "bufferAfterMin": 15, "staff": []string{"anna"}})
	if code != http.StatusCreated || !strings.Contains(string(body), `"name":"Haircut"`) {
		t.Fatalf("create service: %d %s", code, body)
	}
	if code, body := h.manage("PUT", svcPath+"/cut", map[string]any{"name": "Haircut", "durationMin": 45, "bufferBeforeMin": 0, "bufferAfterMin": 15, "staff": []string{"anna"}}); code != http.StatusOK {
		t.Fatalf("replace service: %d %s", code, body)
	}
	for name, c := range map[string]struct {
		path string
		body map[string]any
		code string
	}{
		"short":          {svcPath + "/x", map[string]any{"name": "X", "durationMin": 3, "bufferBeforeMin": 0, "bufferAfterMin": 0, "staff": []string{"anna"}}, "invalid_service"},
		"no staff":       {svcPath + "/x", map[string]any{"name": "X", "durationMin": 30, "bufferBeforeMin": 0, "bufferAfterMin": 0, "staff": []string{}}, "invalid_service"},
		"reserved":       {svcPath + "/__x__", map[string]any{"name": "X", "durationMin": 30, "bufferBeforeMin": 0, "bufferAfterMin": 0, "staff": []string{"anna"}}, "invalid_id"},
		"reserved staff": {svcPath + "/x", map[string]any{"name": "X", "durationMin": 30, "bufferBeforeMin": 0, "bufferAfterMin": 0, "staff": []string{"__s__"}}, "invalid_service"},
		"unknown field":  {svcPath + "/x", map[string]any{"name": "X", "price": 5}, "invalid_service"},
		"tenant":         {"/v1/tenants/__t__/services/x", map[string]any{"name": "X", "durationMin": 30, "bufferBeforeMin": 0, "bufferAfterMin": 0, "staff": []string{"anna"}}, "invalid_id"},
	} {
		code, body := h.manage("PUT", c.path, c.body)
		if code != http.StatusBadRequest || errCode(t, body) != c.code {
			t.Errorf("%s: %d %s", name, code, body)
		}
	}
	code, body = h.manage("GET", svcPath, nil)
	if code != 200 || !strings.Contains(string(body), `"services":[{"id":"cut","name":"Haircut","durationMin":45,"bufferBeforeMin":0,"bufferAfterMin":15,"staff":["anna"]}]`) {
		t.Fatalf("list: %d %s", code, body)
	}

	slotsURL := h.Stack.Function("Slots") + "/?"
	q := url.Values{"tenant": {"t1"}, "staff": {"anna"}, "serviceId": {"cut"}, "from": {"2026-11-03T00:00:00+01:00"}, "to": {"2026-11-04T00:00:00+01:00"}}
	with := func(k, v string) string {
		c := url.Values{}
		for kk, vv := range q {
			c[kk] = vv
		}
		if v == "" {
			c.Del(k)
		} else {
			c.Set(k, v)
		}
		return c.Encode()
	}
	resp, body := h.public("GET", slotsURL+q.Encode(), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("slots: %d %s", resp.StatusCode, body)
	}
	slots := decodeMap(t, body)["slots"].([]any)
	first := slots[0].(map[string]any)
	if first["start"] != "2026-11-03T09:00:00+01:00" || first["end"] != "2026-11-03T09:45:00+01:00" {
		t.Fatalf("first slot %v: the duration must be the service's 45 minutes", first)
	}
	for what, c := range map[string]struct {
		query  string
		status int
		code   string
	}{
		"free-form duration": {with("serviceId", "") + "&durationMin=30", 400, "service_required"},
		"neither":            {with("serviceId", ""), 400, "service_required"},
		"both":               {q.Encode() + "&durationMin=30", 400, "invalid_serviceId"},
		"not offered":        {with("staff", "ben"), 400, "service_not_offered"},
		"unknown service":    {with("serviceId", "nope"), 404, "service_not_found"},
		"reserved service":   {with("serviceId", "__nope__"), 400, "invalid_serviceId"},
		"reserved tenant":    {with("tenant", "__x__"), 400, "invalid_tenant"},
		"reserved staff":     {with("staff", "__x__"), 400, "invalid_staff"},
		"cache buster":       {q.Encode() + "&x=" + strconv.Itoa(int(time.Now().UnixNano())), 400, "unknown_parameter"},
		"unknown staff":      {with("staff", "nobody"), 400, "service_not_offered"},
	} {
		resp, body := h.public("GET", slotsURL+c.query, nil)
		if resp.StatusCode != c.status || errCode(t, body) != c.code {
			t.Errorf("slots %s: %d %s", what, resp.StatusCode, body)
		}
	}
	// staff=any with a service: only the staff who offer it.
	resp, body = h.public("GET", slotsURL+with("staff", "any"), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("any: %d %s", resp.StatusCode, body)
	}
	for _, s := range decodeMap(t, body)["slots"].([]any) {
		if s.(map[string]any)["staff"] != "anna" {
			t.Fatalf("any offered %v, who does not offer the service", s)
		}
	}

	bookURL := h.Stack.Function("Book") + "/"
	const slot = "2026-11-03T10:00:00+01:00"
	// The free-form body is refused while freeFormBooking is off (the default).
	if resp, body := h.public("POST", bookURL, bookBody("t1", "anna", slot, 480)); resp.StatusCode != 400 || errCode(t, body) != "service_required" {
		t.Fatalf("free-form book: %d %s", resp.StatusCode, body)
	}
	good, _ := json.Marshal(serviceBody("t1", "anna", slot, "cut", "Erika Mustermann", "erika@example.org"))
	for what, c := range map[string]struct {
		ctype, query string
		body         []byte
		status       int
		code         string
	}{
		"text/plain":      {"text/plain", "", good, 415, "unsupported_media_type"},
		"form":            {"application/x-www-form-urlencoded", "", good, 415, "unsupported_media_type"},
		"no type":         {"", "", good, 415, "unsupported_media_type"},
		"json latin1":     {"application/json; charset=latin1", "", good, 415, "unsupported_media_type"},
		"query":           {"application/json", "?x=1", good, 400, "unknown_parameter"},
		"reserved tenant": {"application/json", "", bytes.Replace(good, []byte(`"t1"`), []byte(`"__x__"`), 1), 400, "invalid_request"},
		"reserved staff":  {"application/json", "", bytes.Replace(good, []byte(`"anna"`), []byte(`"__x__"`), 1), 400, "invalid_request"},
		"not offered":     {"application/json", "", bytes.Replace(good, []byte(`"anna"`), []byte(`"ben"`), 1), 400, "service_not_offered"},
		"unknown service": {"application/json", "", bytes.Replace(good, []byte(`"cut"`), []byte(`"nope"`), 1), 404, "service_not_found"},
		"unknown tenant":  {"application/json", "", bytes.Replace(good, []byte(`"t1"`), []byte(`"t9"`), 1), 404, "service_not_found"},
		"oversized":       {"application/json", "", append(good[:len(good)-1], []byte(`,"x":"`+strings.Repeat("x", 9000)+`"}`)...), 413, "body_too_large"},
	} {
		resp, body := h.raw("POST", bookURL+c.query, c.ctype, c.body, nil)
		if resp.StatusCode != c.status || errCode(t, body) != c.code {
			t.Errorf("book %s: %d %s", what, resp.StatusCode, body)
		}
	}
	resp, body = h.public("POST", bookURL, serviceBody("t1", "anna", slot, "cut", "Erika Mustermann", "erika@example.org"))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("book: %d %s", resp.StatusCode, body)
	}
	created := decodeMap(t, body)
	if created["end"] != "2026-11-03T10:45:00+01:00" {
		t.Fatalf("created %v: the end must come from the service's 45 minutes", created)
	}
	b, err := booking.Get(context.Background(), h.Stack.Platform.Store, "t1", "anna", created["id"].(string))
	if err != nil || b.Service != "Haircut" || b.ServiceID != "cut" {
		t.Fatalf("stored booking %+v %v", b, err)
	}
	// The service's 15-minute buffer after keeps 11:00 closed too (10:45 + 15 min).
	resp, body = h.public("GET", slotsURL+q.Encode(), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("slots after booking: %d %s", resp.StatusCode, body)
	}
	for _, s := range decodeMap(t, body)["slots"].([]any) {
		switch s.(map[string]any)["start"] {
		case "2026-11-03T09:30:00+01:00", slot, "2026-11-03T10:30:00+01:00":
			t.Errorf("slot %v offered over the booking and its buffer", s)
		}
	}

	// Manage (the business's backend) may still book free-form.
	if code, body := h.manage("POST", staffPath("t1", "ben")+"/bookings", map[string]any{"start": "2026-11-03T12:00:00+01:00", "durationMin": 30, "service": "Walk-in", "customer": map[string]string{"name": "Max", "email": "max@example.org"}}); code != http.StatusCreated {
		t.Fatalf("staff free-form booking: %d %s", code, body)
	}
	// With freeFormBooking on, the widget may too.
	if code, body := h.manage("PATCH", "/v1/tenants/t1/settings", map[string]any{"freeFormBooking": true}); code != 200 {
		t.Fatalf("settings: %d %s", code, body)
	}
	if resp, body := h.public("POST", bookURL, bookBody("t1", "ben", "2026-11-03T14:00:00+01:00", 30)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("free-form with freeFormBooking: %d %s", resp.StatusCode, body)
	}
	if code, body := h.manage("DELETE", svcPath+"/cut", nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", code, body)
	}
	if code, body := h.manage("DELETE", svcPath+"/cut", nil); code != http.StatusNotFound || errCode(t, body) != "service_not_found" {
		t.Fatalf("delete again: %d %s", code, body)
	}
	if resp, body := h.public("POST", bookURL, serviceBody("t1", "anna", "2026-11-03T15:00:00+01:00", "cut", "Erika", "erika@example.org")); resp.StatusCode != 404 {
		t.Fatalf("book a deleted service: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(h.Logs.String(), `"severity":"ERROR"`) || containsAny(h.Logs.String(), "Erika", "erika@example.org") != "" {
		t.Fatalf("an error or a customer detail logged:\n%s", h.Logs.String())
	}
}
