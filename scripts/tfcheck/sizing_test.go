package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFunctionSizing: what Cloud Run refuses at deploy time is refused here, on the real
// plan with one function's sizing changed at a time.
func TestFunctionSizing(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "good.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The lines of good.json that hold Book (concurrency 40) and SyncCalendar (1).
	edit := func(fn, old, new string) *Plan {
		t.Helper()
		lines := strings.Split(string(raw), "\n")
		done := false
		for i, l := range lines {
			if strings.HasPrefix(l, `{"address":"google_cloudfunctions2_function.fn[\"`+fn+`\"]"`) && strings.Contains(l, old) {
				lines[i], done = strings.Replace(l, old, new, 1), true
			}
		}
		if !done {
			t.Fatalf("%s: %q not found in good.json", fn, old)
		}
		p, err := ParsePlan([]byte(strings.Join(lines, "\n")))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	r := rule(t, "function-sizing")
	for _, tc := range []struct {
		fn, old, new, want string
	}{
		{"book", `"available_cpu":"1"`, `"available_cpu":"0.5"`, "below 1 vCPU concurrency must be 1"},
		{"synccalendar", `"available_memory":"512Mi"`, `"available_memory":"2Gi"`, "needs at least 1 vCPU"},
		{"synccalendar", `"available_cpu":"0.5"`, `"available_cpu":"0.25"`, ""}, // 512 MiB is allowed at 0.25
		{"manage", `"available_cpu":"1"`, `"available_cpu":"0.05"`, "below Cloud Run's minimum"},
		{"manage", `"available_cpu":"1"`, `"available_cpu":"1.5"`, "only whole numbers"},
		{"renewchannels", `"available_memory":"256Mi"`, `"available_memory":"768Mi"`, "needs at least 0.5 vCPU"},
	} {
		p := edit(tc.fn, tc.old, tc.new)
		if tc.fn == "renewchannels" {
			p = editPlan(t, p, tc.fn, "0.25")
		}
		v := r.Check(Env{Plan: p, Folders: defaultFolders()})
		if tc.want == "" {
			if len(v) != 0 {
				t.Errorf("%s %s: %v", tc.fn, tc.new, v)
			}
			continue
		}
		found := false
		for _, x := range v {
			found = found || strings.Contains(x.Message, tc.want)
		}
		if !found {
			t.Errorf("%s %s: violations %v, want one saying %q", tc.fn, tc.new, v, tc.want)
		}
	}
}

// editPlan sets fn's available_cpu in an already parsed plan.
func editPlan(t *testing.T, p *Plan, fn, cpu string) *Plan {
	t.Helper()
	for _, r := range p.OfType(functionType) {
		if str(r.After, "name") == fn {
			get(r.After, "service_config", 0).(map[string]any)["available_cpu"] = cpu
			return p
		}
	}
	t.Fatalf("no function %s", fn)
	return nil
}
