package localstack

import (
	"encoding/json"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/testenv"
)

// planEnvironments reads the environment variables Terraform deploys each function with,
// keyed by entry point, from a plan's JSON: the committed plan of scripts/tfcheck, or the
// one `make tf-check` has just made (CALSYNC_PLAN_JSON).
func planEnvironments(t *testing.T) (map[string]map[string]string, string) {
	t.Helper()
	path := os.Getenv("CALSYNC_PLAN_JSON")
	if path == "" {
		path = "../tfcheck/testdata/good.json"
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var plan struct {
		ResourceChanges []struct {
			Type   string `json:"type"`
			Change struct {
				After struct {
					BuildConfig []struct {
						EntryPoint string `json:"entry_point"`
					} `json:"build_config"`
					ServiceConfig []struct {
						Env map[string]string `json:"environment_variables"`
					} `json:"service_config"`
				} `json:"after"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal(raw, &plan); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]map[string]string{}
	for _, r := range plan.ResourceChanges {
		a := r.Change.After
		if r.Type == "google_cloudfunctions2_function" && len(a.BuildConfig) == 1 && len(a.ServiceConfig) == 1 {
			out[a.BuildConfig[0].EntryPoint] = a.ServiceConfig[0].Env
		}
	}
	return out, path
}

// commonEnv lists the variables terraform/functions.tf gives every function (local.common_env).
func commonEnv(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../terraform/functions.tf")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)\n  common_env = \{\n(.*?)\n  \}`).FindStringSubmatch(string(raw))
	if block == nil {
		t.Fatal("terraform/functions.tf has no local common_env block: update this test to how functions get their environment")
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s*([A-Z][A-Z0-9_]*)\s*=`).FindAllStringSubmatch(block[1], -1) {
		names = append(names, m[1])
	}
	slices.Sort(names)
	return names
}

// readmeFunctions reads the README's table of which function reads which groups and cannot
// start without which variables.
func readmeFunctions(t *testing.T) map[string][2][]string {
	t.Helper()
	out := map[string][2][]string{}
	for _, cells := range testenv.TableRows(t, "../../README.md", "| function | groups | cannot start without |") {
		if len(cells) != 3 {
			t.Fatalf("README row has %d columns, want function | groups | cannot start without: %q", len(cells), cells)
		}
		var vars []string
		for _, m := range regexp.MustCompile("`([A-Z][A-Z0-9_]+)`").FindAllStringSubmatch(cells[2], -1) {
			vars = append(vars, m[1])
		}
		slices.Sort(vars)
		out[cells[0]] = [2][]string{strings.Split(strings.ReplaceAll(cells[1], " ", ""), ","), vars}
	}
	return out
}

func loadConfig(c reflect.Type, env map[string]string) error {
	return config.Load(reflect.New(c).Interface(), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

// TestFunctionConfigs holds every function's Config to the environment Terraform deploys
// it with and to the README: each Config is made of groups only, loads from its function's
// planned environment, reads the groups the README's table names, and fails to load
// without exactly the variables the table says it cannot start without.
func TestFunctionConfigs(t *testing.T) {
	t.Parallel()
	planned, path := planEnvironments(t)
	readme := readmeFunctions(t)
	common := commonEnv(t)
	fns := map[string]reflect.Type{}
	for _, f := range HTTPFunctions {
		fns[f.Name] = f.Config
	}
	for _, f := range EventFunctions {
		fns[f.Name] = f.Config
	}
	if len(fns) != 8 || len(planned) != len(fns) || len(readme) != len(fns) {
		t.Fatalf("%d functions, %d planned in %s, %d in the README's table", len(fns), len(planned), path, len(readme))
	}
	for name, c := range fns {
		env, ok := planned[name]
		if !ok {
			t.Errorf("%s is not planned in %s", name, path)
			continue
		}
		if got := slices.Sorted(maps.Keys(env)); os.Getenv("CALSYNC_PLAN_JSON") == "" && !slices.Equal(got, common) {
			t.Errorf("%s: %s plans the variables %v, terraform/functions.tf now gives %v: regenerate the plan (docs/deploy.md)", name, path, got, common)
		}
		groups := config.Groups(c)
		var grouped []string
		for _, g := range groups {
			gt, _ := reflect.TypeFor[config.Env]().FieldByName(g)
			grouped = append(grouped, config.Variables(gt.Type)...)
		}
		if !slices.Equal(grouped, config.Variables(c)) {
			t.Errorf("%s: its Config reads %v, not only groups of shared/config (%v)", name, config.Variables(c), groups)
		}
		if !slices.Contains(groups, "Platform") {
			t.Errorf("%s: its Config does not embed config.Platform", name)
		}
		if err := loadConfig(c, env); err != nil {
			t.Errorf("%s does not start with the environment Terraform gives it: %v", name, err)
			continue
		}
		var needs []string
		for k := range env {
			without := maps.Clone(env)
			delete(without, k)
			if err := loadConfig(c, without); err != nil {
				if !strings.Contains(err.Error(), k) {
					t.Errorf("%s without %s: the error does not name it: %v", name, k, err)
				}
				needs = append(needs, k)
			}
		}
		slices.Sort(needs)
		want := readme[name]
		if !slices.Equal(groups, want[0]) {
			t.Errorf("%s reads the groups %v; the README's table says %v", name, groups, want[0])
		}
		if !slices.Equal(needs, want[1]) {
			t.Errorf("%s cannot start without %v; the README's table says %v", name, needs, want[1])
		}
	}
	// Locally (emulators), Manage also needs its bearer key.
	local := maps.Clone(planned["Manage"])
	local["FIRESTORE_EMULATOR_HOST"] = "127.0.0.1:8080"
	if err := loadConfig(fns["Manage"], local); err == nil || !strings.Contains(err.Error(), "MANAGE_API_KEY") {
		t.Errorf("Manage starts locally without MANAGE_API_KEY: %v", err)
	}
	local["MANAGE_API_KEY"] = "0123456789abcdef"
	if err := loadConfig(fns["Manage"], local); err != nil {
		t.Errorf("Manage with a local key: %v", err)
	}
}
