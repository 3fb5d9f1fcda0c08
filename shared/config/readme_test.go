package config

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestReadmeTableListsEveryVariable checks the README's configuration table against the
// code: every variable Load reads is in the table, and every variable in the table is
// read by Load — so the one list of variables cannot drift from what the functions read.
func TestReadmeTableListsEveryVariable(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(raw)
	start := strings.Index(section, "## Configuration")
	if start < 0 {
		t.Fatal("README has no Configuration section")
	}
	section = section[start:]
	if end := strings.Index(section, "\nTest-only variables"); end > 0 {
		section = section[:end]
	}
	var documented []string
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.SplitN(line, "|", 3)[1]
		for _, m := range regexp.MustCompile("`([A-Z][A-Z0-9_]+)`").FindAllStringSubmatch(first, -1) {
			documented = append(documented, m[1])
		}
	}
	var read []string
	if _, err := Load(func(k string) (string, bool) {
		if !slices.Contains(read, k) {
			read = append(read, k)
		}
		return "", false
	}); err != nil {
		t.Fatal(err)
	}
	for _, k := range read {
		if !slices.Contains(documented, k) {
			t.Errorf("config reads %s, which the README's configuration table does not list", k)
		}
	}
	for _, k := range documented {
		if !slices.Contains(read, k) {
			t.Errorf("the README's configuration table lists %s, which config never reads", k)
		}
	}
	if len(documented) < 20 {
		t.Errorf("found only %d variables in the README table: %v", len(documented), documented)
	}
}
