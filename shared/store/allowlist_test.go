package store

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestAllowListCoversStoredStructs: every field of every stored struct is on the
// allow-list of its collection. A field added to a struct without an allow-list entry
// (and with it a docs/privacy.md entry) fails here.
func TestAllowListCoversStoredStructs(t *testing.T) {
	structs := 0
	for _, c := range AllowList {
		for _, s := range c.Structs {
			structs++
			paths := StructPaths(reflect.TypeOf(s))
			if len(paths) == 0 {
				t.Errorf("%s: %T yields no field paths: the check proves nothing", c.Path, s)
			}
			for _, p := range paths {
				if !slices.Contains(c.Fields, p) && !c.Allows(p) {
					t.Errorf("%s: %T stores field %q, which is not on the allow-list (shared/store/allowlist.go) nor in docs/privacy.md", c.Path, s, p)
				}
			}
		}
	}
	if structs < 10 {
		t.Fatalf("only %d stored structs registered", structs)
	}
}

func TestAllowsMatchesPatterns(t *testing.T) {
	c := AllowedCollection("tenants/t1/staff/anna/busy")
	if c == nil || c.Path != "tenants/*/staff/*/busy" {
		t.Fatalf("collection match: %+v", c)
	}
	for p, want := range map[string]bool{
		"items.evt123.s": true, "items": true, "month": true, "items.evt123.title": false, "title": false,
	} {
		if got := c.Allows(p); got != want {
			t.Errorf("Allows(%q) = %v, want %v", p, got, want)
		}
	}
	cal := AllowedCollection("tenants/t/staff/s/connections/c/calendars")
	if !cal.Allows("renewal.retired[].id") || cal.Allows("renewal.retired[].secret") {
		t.Error("array-of-maps paths are not matched element-wise")
	}
	if AllowedCollection("tenants/t/secrets") != nil || AllowedCollection("tenants/t/staff/s/bookings/b/notes") != nil {
		t.Error("an unlisted collection matched")
	}
	got := LeafPaths(map[string]any{"a": map[string]any{"b": 1, "c": []any{map[string]any{"d": 1}}}, "e": []any{"x"}, "f": map[string]any{}})
	sort.Strings(got)
	if want := []string{"a.b", "a.c[].d", "e", "f"}; !slices.Equal(got, want) {
		t.Errorf("LeafPaths = %v, want %v", got, want)
	}
}

// TestPrivacyDocMatchesAllowList: docs/privacy.md lists, per collection (a heading
// "### `path`"), exactly the allow-listed fields (first table column, in backticks).
func TestPrivacyDocMatchesAllowList(t *testing.T) {
	raw, err := os.ReadFile("../../docs/privacy.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string][]string{}
	heading := regexp.MustCompile("^### `([^`]+)`")
	row := regexp.MustCompile("^\\| `([^`]+)` \\|")
	current := ""
	for _, line := range strings.Split(string(raw), "\n") {
		if m := heading.FindStringSubmatch(line); m != nil {
			current = m[1]
			if _, dup := documented[current]; dup {
				t.Errorf("docs/privacy.md documents %s twice", current)
			}
			documented[current] = []string{}
			continue
		}
		if strings.HasPrefix(line, "## ") {
			current = ""
		}
		if m := row.FindStringSubmatch(line); m != nil && current != "" {
			documented[current] = append(documented[current], m[1])
		}
	}
	for _, c := range AllowList {
		doc, ok := documented[c.Path]
		if !ok {
			t.Errorf("docs/privacy.md has no section ### `%s`", c.Path)
			continue
		}
		want, got := slices.Clone(c.Fields), slices.Clone(doc)
		sort.Strings(want)
		sort.Strings(got)
		for _, f := range want {
			if !slices.Contains(got, f) {
				t.Errorf("%s: field %q is allow-listed but not documented in docs/privacy.md", c.Path, f)
			}
		}
		for _, f := range got {
			if !slices.Contains(want, f) {
				t.Errorf("%s: docs/privacy.md documents %q, which is not on the allow-list", c.Path, f)
			}
		}
		delete(documented, c.Path)
	}
	for p := range documented {
		t.Errorf("docs/privacy.md documents collection %s, which is not on the allow-list", p)
	}
}
