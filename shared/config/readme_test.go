package config

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/belbo/calsync/shared/testenv"
)

// readmeRow is one row of the README's configuration table.
type readmeRow struct {
	vars         []string
	group, deflt string
}

func readmeTable(t *testing.T) []readmeRow {
	t.Helper()
	var rows []readmeRow
	for _, cells := range testenv.TableRows(t, "../../README.md", "| variable | group | meaning | default |") {
		if len(cells) != 4 {
			t.Fatalf("README row has %d columns, want variable | group | meaning | default: %q", len(cells), cells)
		}
		r := readmeRow{group: cells[1], deflt: cells[3]}
		for _, m := range regexp.MustCompile("`([A-Z][A-Z0-9_]+)`").FindAllStringSubmatch(cells[0], -1) {
			r.vars = append(r.vars, m[1])
		}
		rows = append(rows, r)
	}
	if len(rows) < 15 {
		t.Fatalf("found only %d rows in the README's configuration table", len(rows))
	}
	return rows
}

// reads lists the variables Load reads for a configuration of type c.
func reads(c reflect.Type) []string {
	var read []string
	_ = Load(reflect.New(c).Interface(), func(k string) (string, bool) {
		if !slices.Contains(read, k) {
			read = append(read, k)
		}
		return "", false
	})
	return read
}

// TestReadmeTableListsEveryVariable checks the README's configuration table against the
// groups: every variable of every group is in the table, in a row naming its group, and
// every variable in the table is read by the group the row names — so the one list of
// variables for operators cannot drift from what the functions read. Each variable is
// declared in exactly one group.
func TestReadmeTableListsEveryVariable(t *testing.T) {
	t.Parallel()
	rows := readmeTable(t)
	groupOf := map[string]string{} // variable → the group the README puts it in
	for _, r := range rows {
		for _, v := range r.vars {
			if g, dup := groupOf[v]; dup {
				t.Errorf("the README's configuration table lists %s twice (%s, %s)", v, g, r.group)
			}
			groupOf[v] = r.group
		}
	}
	env := reflect.TypeFor[Env]()
	declaredIn := map[string]string{}
	for i := range env.NumField() {
		g := env.Field(i).Type
		if !env.Field(i).Anonymous || g.Kind() != reflect.Struct {
			t.Fatalf("Env.%s is not an embedded group", env.Field(i).Name)
		}
		for _, v := range Variables(g) {
			if other, dup := declaredIn[v]; dup {
				t.Errorf("%s is declared in %s and in %s", v, other, g.Name())
			}
			declaredIn[v] = g.Name()
			if groupOf[v] != g.Name() {
				t.Errorf("%s is declared in config.%s; the README's configuration table puts it in %q", v, g.Name(), groupOf[v])
			}
		}
		// The group reads what it declares and what its rules across variables look at
		// (the SECRET_* switch); each of those is documented.
		for _, v := range reads(g) {
			if _, ok := groupOf[v]; !ok {
				t.Errorf("config.%s reads %s, which the README's configuration table does not list", g.Name(), v)
			}
		}
	}
	all := reads(env)
	for v, g := range groupOf {
		if !slices.Contains(all, v) {
			t.Errorf("the README's configuration table lists %s, which config never reads", v)
			continue
		}
		gt, ok := reflect.TypeFor[Env]().FieldByName(g)
		if !ok {
			t.Errorf("the README's configuration table puts %s in %q, which is not a group", v, g)
		} else if !slices.Contains(reads(gt.Type), v) {
			t.Errorf("the README's configuration table puts %s in %s, which does not read it", v, g)
		}
	}
	// Each declared default appears in its row's default column (Google's endpoints are
	// documented as "Google's real ones").
	for _, f := range reflect.VisibleFields(env) {
		name, def := f.Tag.Get("env"), f.Tag.Get("default")
		if def == "" || strings.HasPrefix(def, "https://") {
			continue
		}
		found := false
		for _, r := range rows {
			if slices.Contains(r.vars, name) {
				found = strings.Contains(r.deflt, def)
			}
		}
		if !found {
			t.Errorf("the README's row for %s does not show its default %q", name, def)
		}
	}
}

// The exported Default* constants are the declared defaults.
func TestDefaultConstants(t *testing.T) {
	t.Parallel()
	var e Env
	_ = Load(&e, func(string) (string, bool) { return "", false }) // the required ones are missing
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
