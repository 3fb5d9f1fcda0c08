package localstack

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSlotsHTTP: validation answers 400 JSON, CORS only for allowed origins, the short
// shared cache header, exactly start/end/staff per slot, and "any" as the union with
// staff ids.
func TestSlotsHTTP(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.setRules("t1", "a", weekdayRules())
	h.freeFormTenant("t1")
	mornings := weekdayRules()
	mornings["weekly"] = map[string]any{"tue": []map[string]string{{"start": "08:00", "end": "10:00"}}}
	h.setRules("t1", "b", mornings)
	base := h.Stack.Function("Slots") + "/?"
	good := url.Values{"tenant": {"t1"}, "staff": {"a"}, "durationMin": {"30"}, "from": {"2026-11-03T00:00:00+01:00"}, "to": {"2026-11-04T00:00:00+01:00"}}
	with := func(k, v string) string {
		c := url.Values{}
		for kk, vv := range good {
			c[kk] = vv
		}
		c.Set(k, v)
		return c.Encode()
	}
	for _, q := range []string{with("tenant", "a/b"), with("staff", ""), with("durationMin", "4"), with("durationMin", "481"),
		with("from", "yesterday"), with("to", "2026-11-02T00:00:00Z"), with("to", "2027-02-01T00:00:00Z"), with("tz", "Nowhere/City"),
		with("staff", strings.Repeat("x,", 20)+"y")} {
		resp, body := h.public("GET", base+q, nil)
		if resp.StatusCode != 400 || !strings.Contains(string(body), `"error":{"code":"invalid_`) {
			t.Errorf("%s → %d %s", q, resp.StatusCode, body)
		}
	}
	resp, body := h.public("GET", base+good.Encode(), nil)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=30" ||
		resp.Header.Get("Access-Control-Allow-Origin") != widgetOrigin || !strings.Contains(resp.Header.Get("Vary"), "Origin") {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
	m := decodeMap(t, body)
	if len(m) != 1 {
		t.Fatalf("top-level keys %v", m)
	}
	slots := m["slots"].([]any)
	if len(slots) != 16 { // 09:00..16:30
		t.Fatalf("%d slots: %s", len(slots), body)
	}
	for _, s := range slots {
		sm := s.(map[string]any)
		if len(sm) != 3 || sm["staff"] != "a" || sm["start"] == nil || sm["end"] == nil {
			t.Fatalf("slot %v", sm)
		}
	}
	if slots[0].(map[string]any)["start"] != "2026-11-03T09:00:00+01:00" {
		t.Fatalf("first slot %v", slots[0])
	}
	// tz changes only the rendering.
	resp, body = h.public("GET", base+with("tz", "UTC"), nil)
	if resp.StatusCode != 200 || decodeMap(t, body)["slots"].([]any)[0].(map[string]any)["start"] != "2026-11-03T08:00:00Z" {
		t.Fatalf("tz: %s", body)
	}
	// any = union of a and b with staff ids.
	resp, body = h.public("GET", base+with("staff", "any"), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("any: %d %s", resp.StatusCode, body)
	}
	byStaff := map[string]int{}
	for _, s := range decodeMap(t, body)["slots"].([]any) {
		byStaff[s.(map[string]any)["staff"].(string)]++
	}
	if byStaff["a"] != 16 || byStaff["b"] != 4 || len(byStaff) != 2 {
		t.Fatalf("any: %v", byStaff)
	}
	// Unknown staff named explicitly.
	if resp, body := h.public("GET", base+with("staff", "nobody"), nil); resp.StatusCode != 404 {
		t.Fatalf("unknown staff: %d %s", resp.StatusCode, body)
	}
	// CORS: other origins get no allow header; preflight 204 for allowed, 403 otherwise.
	req, _ := http.NewRequest("GET", base+good.Encode(), nil)
	req.Header.Set("Origin", "http://evil.example")
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("evil origin allowed")
	}
	for origin, want := range map[string]int{widgetOrigin: 204, "http://evil.example": 403} {
		req, _ := http.NewRequest("OPTIONS", base, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != want {
			t.Errorf("preflight from %s: %d", origin, r.StatusCode)
		}
	}
}

// TestSlotsAvailabilityAPI: PUT/GET availability round trip; invalid rules → 400 with field.
func TestSlotsAvailabilityAPI(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	p := staffPath("t1", "a") + "/availability"
	if code, body := h.manage("GET", p, nil); code != 404 {
		t.Fatalf("GET unset: %d %s", code, body)
	}
	h.setRules("t1", "a", weekdayRules())
	h.freeFormTenant("t1")
	code, body := h.manage("GET", p, nil)
	if code != 200 || decodeMap(t, body)["timeZone"] != "Europe/Berlin" {
		t.Fatalf("GET: %d %s", code, body)
	}
	bad := weekdayRules()
	bad["weekly"] = map[string]any{"mon": []map[string]string{{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}}}
	code, body = h.manage("PUT", p, bad)
	e, _ := decodeMap(t, body)["error"].(map[string]any)
	if code != 400 || e["code"] != "invalid_availability" || e["field"] == "" || e["field"] == nil {
		t.Fatalf("overlap: %d %s", code, body)
	}
	bad = weekdayRules()
	bad["timeZone"] = "Mars/Olympus"
	if code, body := h.manage("PUT", p, bad); code != 400 || !strings.Contains(string(body), `"field":"timeZone"`) {
		t.Fatalf("zone: %d %s", code, body)
	}
}
