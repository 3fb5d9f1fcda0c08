package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func load(t *testing.T, name string) *Plan {
	t.Helper()
	p, err := LoadPlan(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func rule(t *testing.T, name string) Rule {
	t.Helper()
	for _, r := range Rules {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("rule %q is not registered in Rules", name)
	return Rule{}
}

func defaultFolders() []string {
	f, _, _ := FunctionFolders(filepath.Join("testdata", "no-such-dir"))
	return f
}

// good.json is the real plan of terraform/ (trimmed): every rule must pass on it.
func TestGoodPlanPassesEveryRule(t *testing.T) {
	p := load(t, "good.json")
	env := Env{Plan: p, Folders: defaultFolders()}
	for _, r := range Rules {
		if v := r.Check(env); len(v) > 0 {
			t.Errorf("rule %s on good.json: %v", r.Name, v)
		}
	}
}

func TestRulesCatchViolations(t *testing.T) {
	cases := []struct {
		rule, fixture string
		want          []string // each must appear in some violation
	}{
		{"eu-locations", "bad_location.json", []string{
			`location = "US"`, `location = "us-central1"`, `location_id = "nam5"`, `region = "asia-east1"`,
			"no message_storage_policy", `var.region: "us-central1"`,
		}},
		{"function-service-accounts", "bad_service_accounts.json", []string{
			"share service account fn-shared@p.iam.gserviceaccount.com",
			`fn["book"]: no service_config.service_account_email`,
			"default service account 123-compute@developer.gserviceaccount.com",
			"fn-elsewhere@other.iam.gserviceaccount.com is not created by this module",
		}},
		{"manage-not-public", "bad_manage_public.json", []string{
			"allUsers may invoke Manage", "allAuthenticatedUsers may invoke Manage", "user:someone@example.com may invoke Manage",
		}},
		{"secret-replication", "bad_secrets.json", []string{
			`secret["state-key"]: automatic replication`, `"us-east1" is not an EU region`, `secret["oauth-client-secret"]: no user_managed replicas`,
		}},
		{"function-set", "bad_function_set.json", []string{
			"functions/book is not deployed", `deploys "reports" but there is no functions/reports`, `"exportbooking" has entry point "Export"`,
		}},
		{"alerts", "bad_alerts.json", []string{
			`dead_letter: no notification_channels`, `"http-5xx-rate"`, `"http-p95-latency"`, `"channels-expired"`,
			`sync: conditions use no log-based metric`, `reauth: no conditions`,
		}},
		{"pubsub-dead-letter", "bad_dead_letter.json", []string{
			"Pub/Sub event_trigger", `push["calendar-export"]: push subscription without dead_letter_policy`, "no retry_policy",
			"max_delivery_attempts = 200", "topic renew-channels missing", "topic calendar-sync has no push subscription",
			"calendar-sync-dead-letter missing", "calendar-export-dead-letter-inspect missing",
		}},
		// Both directions against shared/topology/access.go: a declared grant missing, and
		// grants held that are not declared (a wider Firestore role, a secret, a
		// project-wide role through a binding), and a function with no declaration at all.
		{"function-grants", "bad_grants.json", []string{
			"SyncCalendar (fn-synccalendar@p.iam.gserviceaccount.com) lacks declared roles/pubsub.publisher on topic calendar-sync",
			"CalendarWebhook (fn-calendarwebhook@p.iam.gserviceaccount.com) lacks declared project role roles/datastore.viewer",
			"CalendarWebhook (fn-calendarwebhook@p.iam.gserviceaccount.com) holds undeclared project role roles/datastore.user",
			"Slots (fn-slots@p.iam.gserviceaccount.com) holds undeclared roles/secretmanager.secretAccessor on secret token-key",
			"Slots (fn-slots@p.iam.gserviceaccount.com) holds undeclared project role roles/pubsub.publisher",
			`function "reports" has no declaration`,
		}},
		{"function-exposure", "bad_exposure.json", []string{
			"Slots is declared public but allUsers may not invoke it",
			"ExportBooking is not declared public but allUsers/allAuthenticatedUsers may invoke it",
			`ExportBooking consumes calendar-export by Pub/Sub push only, but ingress_settings = "ALLOW_ALL"`,
		}},
		{"builder", "bad_builder.json", []string{
			"fn-builder@p.iam.gserviceaccount.com holds project role roles/cloudbuild.builds.builder",
			`fn["book"]: no build_config.service_account`,
		}},
		{"logs-eu", "bad_logs.json", []string{
			`google_logging_project_bucket_config.logs: log bucket location "global" is outside the EU`,
			"no google_logging_project_bucket_config in an EU location",
			`sink routes to log bucket location "us-central1"`,
			"_Default sink is not routed to an EU log bucket",
		}},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			env := Env{Plan: load(t, c.fixture), Folders: defaultFolders()}
			got := rule(t, c.rule).Check(env)
			var all []string
			for _, v := range got {
				all = append(all, v.String())
			}
			joined := strings.Join(all, "\n")
			for _, w := range c.want {
				if !strings.Contains(joined, w) {
					t.Errorf("no violation mentioning %q; got:\n%s", w, joined)
				}
			}
		})
	}
}

func TestIsEU(t *testing.T) {
	for loc, want := range map[string]bool{
		"europe-west3": true, "EUROPE-WEST3": true, "eur3": true, "EU": true, "europe-west1-b": true,
		"projects/p/locations/europe-north1": true,
		"europe-west2":                       false, "europe-west6": false, "europe-west2-a": false,
		"us-central1": false, "US": false, "nam5": false, "global": false, "asia": false, "europe": false,
	} {
		if got := IsEU(loc); got != want {
			t.Errorf("IsEU(%q) = %v, want %v", loc, got, want)
		}
	}
}

func TestHCLScan(t *testing.T) {
	v, err := ScanHCL(filepath.Join("testdata", "hcl_bad"))
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, x := range v {
		all = append(all, x.String())
	}
	joined := strings.Join(all, "\n")
	for _, w := range []string{`main.tf:3: non-EU location "US"`, "main.tf:7: non-EU location us-central1", "main.tf:13: automatic secret replication"} {
		if !strings.Contains(joined, w) {
			t.Errorf("HCL scan missed %q; got:\n%s", w, joined)
		}
	}
	if strings.Contains(joined, "asia-east1") {
		t.Errorf("comment was scanned: %s", joined)
	}
}

// The module in the repository passes the text scan.
func TestRepositoryTerraformHCL(t *testing.T) {
	dir := filepath.Join("..", "..", "terraform")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the repository's terraform/ directory is missing: %v", err)
	}
	v, err := ScanHCL(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) > 0 {
		t.Errorf("terraform/: %v", v)
	}
}

func TestFunctionFolders(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string) {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte("package x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Empty functions/: the fixed list.
	got, fromDisk, err := FunctionFolders(dir)
	if err != nil || fromDisk || len(got) != len(DefaultFunctions) {
		t.Fatalf("empty dir: %v %v %v", got, fromDisk, err)
	}
	mk("slots/slots.go")
	mk("book/book.go")
	mk("onlytests/x_test.go")
	mk("README.md")
	got, fromDisk, err = FunctionFolders(dir)
	if err != nil || !fromDisk || !reflect.DeepEqual(got, []string{"book", "slots"}) {
		t.Fatalf("got %v %v %v", got, fromDisk, err)
	}
}

// The fixture rule names must stay in sync with what main runs.
func TestRulesRegistered(t *testing.T) {
	for _, n := range []string{"eu-locations", "function-service-accounts", "manage-not-public", "secret-replication", "function-set", "alerts", "pubsub-dead-letter", "function-grants", "function-exposure", "builder", "logs-eu"} {
		rule(t, n)
	}
}
