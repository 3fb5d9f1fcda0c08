package config

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
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
	// Each declared default appears in its row's default column (Google's endpoints are
	// documented as "Google's real ones").
	rows := strings.Split(section, "\n")
	for _, f := range reflect.VisibleFields(reflect.TypeOf(Env{})) {
		name, def := f.Tag.Get("env"), f.Tag.Get("default")
		if def == "" || strings.HasPrefix(def, "https://") {
			continue
		}
		found := false
		for _, row := range rows {
			if cols := strings.Split(row, "|"); len(cols) > 3 && strings.Contains(cols[1], "`"+name+"`") {
				found = strings.Contains(cols[len(cols)-2], def)
			}
		}
		if !found {
			t.Errorf("the README's row for %s does not show its default %q", name, def)
		}
	}
	if len(documented) < 20 {
		t.Errorf("found only %d variables in the README table: %v", len(documented), documented)
	}
}

// The exported Default* constants are the declared defaults.
func TestDefaultConstants(t *testing.T) {
	t.Parallel()
	e, err := Load(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if e.AuthURL != DefaultAuthURL || e.TokenURL != DefaultTokenURL || e.RevokeURL != DefaultRevokeURL ||
		e.UserinfoURL != DefaultUserinfoURL || e.CalendarEndpoint != DefaultCalendarEndpoint {
		t.Errorf("declared defaults differ from the Default* constants: %+v", e)
	}
	if e.SyncHorizon != 400*24*time.Hour || e.SyncPast != 31*24*time.Hour || e.SafetySyncInterval != 6*time.Hour ||
		e.FullResyncInterval != 24*time.Hour || e.ChannelTTL != 7*24*time.Hour || e.ChannelRenewMargin != 24*time.Hour ||
		strings.Join(e.ExportFields, ",") != "service,customerName" {
		t.Errorf("defaults changed: %+v", e)
	}
}
