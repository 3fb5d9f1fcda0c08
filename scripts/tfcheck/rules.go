package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Violation is one broken promise, printed as "rule: address: message".
type Violation struct {
	Rule    string
	Address string
	Message string
}

func (v Violation) String() string {
	if v.Address == "" {
		return fmt.Sprintf("%s: %s", v.Rule, v.Message)
	}
	return fmt.Sprintf("%s: %s: %s", v.Rule, v.Address, v.Message)
}

// Env is what a rule checks.
type Env struct {
	Plan    *Plan
	Folders []string // function folders (functions/<name> with a non-test .go file)
}

// Rule is one named check.
type Rule struct {
	Name  string
	Check func(Env) []Violation
}

// Rules run on every plan. Tests look them up by name, so removing one fails a test.
var Rules = []Rule{
	{"eu-locations", checkEULocations},
	{"function-service-accounts", checkFunctionServiceAccounts},
	{"manage-not-public", checkManageNotPublic},
	{"secret-replication", checkSecretReplication},
	{"function-set", checkFunctionSet},
	{"alerts", checkAlerts},
	{"pubsub-dead-letter", checkPubSubDeadLetter},
	{"function-grants", checkFunctionGrants},
	{"function-exposure", checkFunctionExposure},
	{"builder", checkBuilder},
	{"logs-eu", checkLogsEU},
	{"function-sizing", checkFunctionSizing},
}

const functionType = "google_cloudfunctions2_function"

// euLocations are the Google Cloud regions inside the European Union, and its
// multi-regions. Not every europe-* region is: europe-west2 is London and europe-west6
// Zurich, outside the EU, so the list is explicit.
var euLocations = map[string]bool{
	"europe-central2": true, "europe-north1": true, "europe-north2": true, "europe-southwest1": true,
	"europe-west1": true, "europe-west3": true, "europe-west4": true, "europe-west8": true,
	"europe-west9": true, "europe-west10": true, "europe-west12": true,
	"eur3": true, "eur5": true, "eur7": true, "eur8": true, "eu": true,
}

// IsEU reports whether a Google Cloud location is in the EU: one of euLocations, or a zone
// of one of them.
func IsEU(loc string) bool {
	l := strings.ToLower(strings.TrimSpace(loc))
	if i := strings.LastIndex(l, "/"); i >= 0 { // projects/p/locations/europe-west3
		l = l[i+1:]
	}
	// Zones: europe-west3-a.
	if m := regexp.MustCompile(`^(europe-[a-z]+[0-9]+)-[a-z]$`).FindStringSubmatch(l); m != nil {
		l = m[1]
	}
	return euLocations[l]
}

var locationKeys = map[string]bool{
	"location": true, "region": true, "location_id": true, "trigger_region": true,
	"locations": true, "allowed_persistence_regions": true,
}

func checkEULocations(e Env) []Violation {
	var out []Violation
	for _, r := range e.Plan.Resources {
		walkLocations(r.After, "", func(path, loc string) {
			if !IsEU(loc) {
				out = append(out, Violation{"eu-locations", r.Address, fmt.Sprintf("%s = %q is outside the EU", path, loc)})
			}
		})
		// A topic without a storage policy may keep messages in any region.
		if r.Type == "google_pubsub_topic" {
			regions, _ := get(r.After, "message_storage_policy", 0, "allowed_persistence_regions").([]any)
			if len(regions) == 0 {
				out = append(out, Violation{"eu-locations", r.Address, "no message_storage_policy.allowed_persistence_regions: messages could be stored outside the EU"})
			}
		}
	}
	for _, name := range []string{"region", "firestore_location"} {
		if s, ok := e.Plan.Variables[name].(string); ok && !IsEU(s) {
			out = append(out, Violation{"eu-locations", "var." + name, fmt.Sprintf("%q is outside the EU", s)})
		}
	}
	return out
}

func walkLocations(v any, path string, f func(path, loc string)) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if locationKeys[k] {
				switch lv := t[k].(type) {
				case string:
					if lv != "" {
						f(p, lv)
					}
					continue
				case []any:
					all := true
					for _, x := range lv {
						if s, ok := x.(string); ok {
							f(p, s)
						} else {
							all = false
						}
					}
					if all {
						continue
					}
				}
			}
			walkLocations(t[k], p, f)
		}
	case []any:
		for i, x := range t {
			walkLocations(x, fmt.Sprintf("%s[%d]", path, i), f)
		}
	}
}

func checkFunctionServiceAccounts(e Env) []Violation {
	var out []Violation
	own := map[string]bool{}
	for _, sa := range e.Plan.OfType("google_service_account") {
		if email := str(sa.After, "email"); email != "" {
			own[email] = true
		} else if id, p := str(sa.After, "account_id"), str(sa.After, "project"); id != "" && p != "" {
			own[id+"@"+p+".iam.gserviceaccount.com"] = true
		}
	}
	users := map[string][]string{}
	for _, f := range e.Plan.OfType(functionType) {
		email := str(f.After, "service_config", 0, "service_account_email")
		switch {
		case email == "" && f.present("service_config", 0, "service_account_email"):
			out = append(out, Violation{"function-service-accounts", f.Address, "service_config.service_account_email is only known after apply; give the account a fixed account_id so the plan can be checked"})
			continue
		case email == "":
			out = append(out, Violation{"function-service-accounts", f.Address, "no service_config.service_account_email: the function would run as the default compute service account"})
			continue
		case strings.Contains(email, "-compute@developer.gserviceaccount.com") || strings.HasSuffix(email, "@appspot.gserviceaccount.com"):
			out = append(out, Violation{"function-service-accounts", f.Address, "runs as a default service account " + email})
			continue
		case !own[email]:
			out = append(out, Violation{"function-service-accounts", f.Address, "service account " + email + " is not created by this module"})
		}
		users[email] = append(users[email], f.Address)
	}
	emails := make([]string, 0, len(users))
	for k := range users {
		emails = append(emails, k)
	}
	sort.Strings(emails)
	for _, email := range emails {
		if fs := users[email]; len(fs) > 1 {
			out = append(out, Violation{"function-service-accounts", "", fmt.Sprintf("functions %s share service account %s (one per function)", strings.Join(fs, ", "), email)})
		}
	}
	return out
}

var invokerTypes = map[string]string{ // IAM resource type → attribute naming the target
	"google_cloud_run_v2_service_iam_member":      "name",
	"google_cloud_run_v2_service_iam_binding":     "name",
	"google_cloud_run_v2_service_iam_policy":      "name",
	"google_cloud_run_service_iam_member":         "service",
	"google_cloud_run_service_iam_binding":        "service",
	"google_cloud_run_service_iam_policy":         "service",
	"google_cloudfunctions2_function_iam_member":  "cloud_function",
	"google_cloudfunctions2_function_iam_binding": "cloud_function",
	"google_cloudfunctions2_function_iam_policy":  "cloud_function",
}

var publicMembers = map[string]bool{"allUsers": true, "allAuthenticatedUsers": true}

// iamGrants returns (role, member) pairs of a member, binding or policy resource.
func iamGrants(r Resource) [][2]string {
	role := str(r.After, "role")
	var out [][2]string
	if m := str(r.After, "member"); m != "" {
		out = append(out, [2]string{role, m})
	}
	if ms, ok := get(r.After, "members").([]any); ok {
		for _, m := range ms {
			if s, ok := m.(string); ok {
				out = append(out, [2]string{role, s})
			}
		}
	}
	if pd := str(r.After, "policy_data"); pd != "" {
		var pol struct {
			Bindings []struct {
				Role    string   `json:"role"`
				Members []string `json:"members"`
			} `json:"bindings"`
		}
		if json.Unmarshal([]byte(pd), &pol) == nil {
			for _, b := range pol.Bindings {
				for _, m := range b.Members {
					out = append(out, [2]string{b.Role, m})
				}
			}
		}
	}
	return out
}

func lastSegment(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 {
		return s[i+1:]
	}
	return s
}

func checkManageNotPublic(e Env) []Violation {
	var out []Violation
	manage := map[string]bool{}
	for _, f := range e.Plan.OfType(functionType) {
		if str(f.After, "build_config", 0, "entry_point") == "Manage" || str(f.After, "name") == "manage" {
			manage[str(f.After, "name")] = true
		}
	}
	if len(manage) == 0 {
		return []Violation{{"manage-not-public", "", "no function with entry point Manage in the plan"}}
	}
	backend, _ := e.Plan.Variables["backend_service_account"].(string)
	for _, r := range e.Plan.Resources {
		attr, ok := invokerTypes[r.Type]
		if !ok {
			continue
		}
		target := lastSegment(str(r.After, attr))
		if !manage[target] {
			continue
		}
		for _, g := range iamGrants(r) {
			switch {
			case publicMembers[g[1]]:
				out = append(out, Violation{"manage-not-public", r.Address, fmt.Sprintf("%s may invoke Manage (%s)", g[1], g[0])})
			case backend != "" && g[1] != "serviceAccount:"+backend:
				out = append(out, Violation{"manage-not-public", r.Address, fmt.Sprintf("%s may invoke Manage; only serviceAccount:%s may", g[1], backend)})
			}
		}
	}
	// Project-wide invoker grants reach Manage as well.
	for _, r := range e.Plan.OfType("google_project_iam_member", "google_project_iam_binding", "google_project_iam_policy") {
		for _, g := range iamGrants(r) {
			if publicMembers[g[1]] && (g[0] == "roles/run.invoker" || g[0] == "roles/cloudfunctions.invoker" || g[0] == "roles/owner" || g[0] == "roles/editor") {
				out = append(out, Violation{"manage-not-public", r.Address, fmt.Sprintf("project-wide %s for %s makes Manage public", g[0], g[1])})
			}
		}
	}
	return out
}

func checkSecretReplication(e Env) []Violation {
	var out []Violation
	for _, s := range e.Plan.OfType("google_secret_manager_secret") {
		rep := get(s.After, "replication", 0)
		if auto, _ := get(rep, "auto").([]any); len(auto) > 0 {
			out = append(out, Violation{"secret-replication", s.Address, "automatic replication may place the secret outside the EU; use user_managed replicas in EU regions"})
			continue
		}
		if a, _ := get(rep, "automatic").(bool); a {
			out = append(out, Violation{"secret-replication", s.Address, "automatic replication may place the secret outside the EU"})
			continue
		}
		replicas, _ := get(rep, "user_managed", 0, "replicas").([]any)
		if len(replicas) == 0 {
			out = append(out, Violation{"secret-replication", s.Address, "no user_managed replicas: replication must be pinned to EU locations"})
			continue
		}
		for i, rp := range replicas {
			loc := str(rp, "location")
			if loc == "" || !IsEU(loc) {
				out = append(out, Violation{"secret-replication", s.Address, fmt.Sprintf("replica %d location %q is not an EU region", i, loc)})
			}
		}
	}
	return out
}

func checkFunctionSet(e Env) []Violation {
	var out []Violation
	deployed := map[string]string{}
	for _, f := range e.Plan.OfType(functionType) {
		deployed[str(f.After, "name")] = str(f.After, "build_config", 0, "entry_point")
	}
	want := map[string]bool{}
	for _, f := range e.Folders {
		want[f] = true
		if _, ok := deployed[f]; !ok {
			out = append(out, Violation{"function-set", "", fmt.Sprintf("functions/%s is not deployed by Terraform", f)})
		}
	}
	names := make([]string, 0, len(deployed))
	for n := range deployed {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !want[n] {
			out = append(out, Violation{"function-set", "", fmt.Sprintf("Terraform deploys %q but there is no functions/%s folder", n, n)})
		}
		if ep, ok := DefaultFunctions[n]; ok && deployed[n] != ep {
			out = append(out, Violation{"function-set", "", fmt.Sprintf("function %q has entry point %q, want %q", n, deployed[n], ep)})
		}
	}
	return out
}

// RequiredAlerts are the alert policies of docs/alerts.md, by user_labels.alert, with the
// text a log-based metric's filter must contain for the policy to watch the right logs
// ("" = the policy watches a built-in metric).
var RequiredAlerts = map[string]string{
	"dead-letter":       "",
	"sync-failure-rate": `jsonPayload.event="sync.done"`,
	"channels-expired":  `jsonPayload.event="renew.expired_unrenewed"`,
	"reauth-required":   `jsonPayload.event="connection.status_changed"`,
	"http-5xx-rate":     `run.googleapis.com%2Frequests`,
	"http-p95-latency":  `run.googleapis.com%2Frequests`,
}

func checkAlerts(e Env) []Violation {
	var out []Violation
	policies := map[string]Resource{}
	for _, p := range e.Plan.OfType("google_monitoring_alert_policy") {
		if id := str(p.After, "user_labels", "alert"); id != "" {
			policies[id] = p
		}
	}
	metrics := e.Plan.OfType("google_logging_metric")
	ids := make([]string, 0, len(RequiredAlerts))
	for id := range RequiredAlerts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p, ok := policies[id]
		if !ok {
			out = append(out, Violation{"alerts", "", fmt.Sprintf("no google_monitoring_alert_policy with user_labels.alert = %q", id)})
			continue
		}
		if !p.present("notification_channels") {
			out = append(out, Violation{"alerts", p.Address, "no notification_channels: nobody would be told"})
		}
		conds, _ := get(p.After, "conditions").([]any)
		if len(conds) == 0 {
			out = append(out, Violation{"alerts", p.Address, "no conditions"})
			continue
		}
		cj, _ := json.Marshal(conds)
		text := string(cj)
		if id == "dead-letter" {
			if !strings.Contains(text, "dead-letter") {
				out = append(out, Violation{"alerts", p.Address, "conditions do not watch a dead-letter topic or subscription"})
			}
			continue
		}
		need := RequiredAlerts[id]
		found := false
		for _, m := range metrics {
			name := str(m.After, "name")
			if name != "" && strings.Contains(str(m.After, "filter"), need) && strings.Contains(text, `logging.googleapis.com/user/`+name+`\"`) {
				found = true
			}
		}
		if !found {
			out = append(out, Violation{"alerts", p.Address, fmt.Sprintf("conditions use no log-based metric whose filter contains %s", need)})
		}
	}
	return out
}

// WorkTopics are the Pub/Sub topics a function consumes.
var WorkTopics = []string{"calendar-sync", "calendar-export", "renew-channels"}

func checkPubSubDeadLetter(e Env) []Violation {
	var out []Violation
	for _, f := range e.Plan.OfType(functionType) {
		et := get(f.After, "event_trigger", 0)
		if et == nil {
			continue
		}
		if str(et, "pubsub_topic") != "" || strings.Contains(str(et, "event_type"), "pubsub") || f.present("event_trigger", 0, "pubsub_topic") {
			out = append(out, Violation{"pubsub-dead-letter", f.Address, "Pub/Sub event_trigger: the subscription Eventarc creates has no dead-letter policy (deliver with a push subscription that has one)"})
		}
	}
	topics := map[string]bool{}
	for _, t := range e.Plan.OfType("google_pubsub_topic") {
		topics[str(t.After, "name")] = true
	}
	subs := map[string]Resource{}
	delivered := map[string]bool{}
	for _, s := range e.Plan.OfType("google_pubsub_subscription") {
		name := str(s.After, "name")
		subs[name] = s
		if !s.present("push_config") {
			continue
		}
		ok := true
		if !s.present("dead_letter_policy", 0, "dead_letter_topic") {
			out = append(out, Violation{"pubsub-dead-letter", s.Address, "push subscription without dead_letter_policy.dead_letter_topic"})
			ok = false
		}
		n, _ := get(s.After, "dead_letter_policy", 0, "max_delivery_attempts").(float64)
		if n < 5 || n > 100 {
			out = append(out, Violation{"pubsub-dead-letter", s.Address, fmt.Sprintf("dead_letter_policy.max_delivery_attempts = %v, want 5..100", n)})
			ok = false
		}
		if get(s.After, "retry_policy", 0) == nil {
			out = append(out, Violation{"pubsub-dead-letter", s.Address, "no retry_policy (exponential backoff)"})
			ok = false
		}
		if ok {
			topic := lastSegment(str(s.After, "topic"))
			if topic == "" {
				topic = strings.TrimSuffix(name, "-push") // topic id is known only after apply
			}
			delivered[topic] = true
		}
	}
	for _, t := range WorkTopics {
		if !topics[t] {
			out = append(out, Violation{"pubsub-dead-letter", "", fmt.Sprintf("topic %s missing", t)})
			continue
		}
		if !delivered[t] {
			out = append(out, Violation{"pubsub-dead-letter", "", fmt.Sprintf("topic %s has no push subscription with a dead-letter policy (expected %s-push)", t, t)})
		}
		if !topics[t+"-dead-letter"] {
			out = append(out, Violation{"pubsub-dead-letter", "", fmt.Sprintf("dead-letter topic %s-dead-letter missing", t)})
		}
		if _, ok := subs[t+"-dead-letter-inspect"]; !ok {
			out = append(out, Violation{"pubsub-dead-letter", "", fmt.Sprintf("inspection subscription %s-dead-letter-inspect missing", t)})
		}
	}
	return out
}
