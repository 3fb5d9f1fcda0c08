package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/belbo/calsync/shared/topology"
)

// The rules in this file compare the plan with the declaration of what each function may
// touch (shared/topology/access.go), which the code enforces locally. Together they keep
// the permissions a function has in the cloud equal to the ones it has in tests.

// grantTargets names, per IAM resource family, the attribute that names the resource the
// role is granted on ("" = the project).
var grantTargets = map[string]string{
	"google_project_iam":                      "",
	"google_pubsub_topic_iam":                 "topic",
	"google_pubsub_subscription_iam":          "subscription",
	"google_secret_manager_secret_iam":        "secret_id",
	"google_storage_bucket_iam":               "bucket",
	"google_service_account_iam":              "service_account_id",
	"google_cloud_run_v2_service_iam":         "name",
	"google_cloud_run_service_iam":            "service",
	"google_cloudfunctions2_function_iam":     "cloud_function",
	"google_artifact_registry_repository_iam": "repository",
}

// grantKind is the short kind used in messages ("topic", "secret", …).
var grantKind = map[string]string{
	"google_project_iam":                      "project",
	"google_pubsub_topic_iam":                 "topic",
	"google_pubsub_subscription_iam":          "subscription",
	"google_secret_manager_secret_iam":        "secret",
	"google_storage_bucket_iam":               "bucket",
	"google_service_account_iam":              "service-account",
	"google_cloud_run_v2_service_iam":         "service",
	"google_cloud_run_service_iam":            "service",
	"google_cloudfunctions2_function_iam":     "function",
	"google_artifact_registry_repository_iam": "repository",
}

// iamFamily returns "google_pubsub_topic_iam" for google_pubsub_topic_iam_member etc.
func iamFamily(typ string) (string, bool) {
	for _, suffix := range []string{"_iam_member", "_iam_binding", "_iam_policy"} {
		if strings.HasSuffix(typ, suffix) {
			return strings.TrimSuffix(typ, suffix[len("_iam"):]), true
		}
	}
	return "", false
}

// grant is one role held by one member on one resource, e.g. "topic calendar-sync
// roles/pubsub.publisher".
type grant struct{ kind, target, role string }

func (g grant) String() string {
	if g.kind == "project" {
		return "project role " + g.role
	}
	return fmt.Sprintf("%s on %s %s", g.role, g.kind, g.target)
}

// grantsByMember collects every IAM grant in the plan by member.
func grantsByMember(p *Plan) map[string][]grant {
	out := map[string][]grant{}
	for _, r := range p.Resources {
		fam, ok := iamFamily(r.Type)
		if !ok {
			continue
		}
		kind, known := grantKind[fam]
		target := ""
		if attr := grantTargets[fam]; attr != "" {
			target = lastSegment(str(r.After, attr))
		}
		if !known {
			kind, target = fam, r.Address
		}
		for _, rm := range iamGrants(r) {
			out[rm[1]] = append(out[rm[1]], grant{kind, target, rm[0]})
		}
	}
	return out
}

// declaredGrants is what a declaration requires in IAM.
func declaredGrants(a topology.Access) []grant {
	var out []grant
	if role := a.Firestore.Role(); role != "" {
		out = append(out, grant{"project", "", role})
	}
	for _, t := range a.Publishes {
		out = append(out, grant{"topic", t, "roles/pubsub.publisher"})
	}
	for _, s := range a.Secrets {
		out = append(out, grant{"secret", s, "roles/secretmanager.secretAccessor"})
	}
	return out
}

// deployedFunctions maps each planned function's folder name to its resource.
func deployedFunctions(p *Plan) map[string]Resource {
	out := map[string]Resource{}
	for _, f := range p.OfType(functionType) {
		out[str(f.After, "name")] = f
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkFunctionGrants: every function's service account holds exactly the grants its
// declaration implies — no fewer (the function would fail in the cloud where it passed
// locally), no more (least privilege).
func checkFunctionGrants(e Env) []Violation {
	var out []Violation
	byMember := grantsByMember(e.Plan)
	fns := deployedFunctions(e.Plan)
	for _, name := range sortedKeys(fns) {
		f := fns[name]
		a, ok := topology.ByFolder(name)
		if !ok {
			out = append(out, Violation{"function-grants", f.Address, fmt.Sprintf("function %q has no declaration in shared/topology/access.go", name)})
			continue
		}
		email := str(f.After, "service_config", 0, "service_account_email")
		if email == "" {
			continue // function-service-accounts reports it
		}
		have := map[grant]bool{}
		for _, g := range byMember["serviceAccount:"+email] {
			have[g] = true
		}
		want := map[grant]bool{}
		for _, g := range declaredGrants(a) {
			want[g] = true
			if !have[g] {
				out = append(out, Violation{"function-grants", f.Address, fmt.Sprintf("%s (%s) lacks declared %s", a.Function, email, g)})
			}
		}
		var extra []string
		for g := range have {
			if !want[g] {
				extra = append(extra, g.String())
			}
		}
		sort.Strings(extra)
		for _, g := range extra {
			out = append(out, Violation{"function-grants", f.Address, fmt.Sprintf("%s (%s) holds undeclared %s", a.Function, email, g)})
		}
	}
	return out
}

// checkFunctionExposure: allUsers may invoke exactly the functions declared public, and
// the Pub/Sub consumers accept internal traffic only.
func checkFunctionExposure(e Env) []Violation {
	var out []Violation
	public := map[string]bool{}
	for _, r := range e.Plan.Resources {
		attr, ok := invokerTypes[r.Type]
		if !ok {
			continue
		}
		target := lastSegment(str(r.After, attr))
		for _, g := range iamGrants(r) {
			if publicMembers[g[1]] && (g[0] == "roles/run.invoker" || g[0] == "roles/cloudfunctions.invoker") {
				public[target] = true
			}
		}
	}
	fns := deployedFunctions(e.Plan)
	for _, name := range sortedKeys(fns) {
		f := fns[name]
		a, ok := topology.ByFolder(name)
		if !ok {
			continue // function-grants reports it
		}
		switch {
		case a.Public && !public[name]:
			out = append(out, Violation{"function-exposure", f.Address, fmt.Sprintf("%s is declared public but allUsers may not invoke it", a.Function)})
		case !a.Public && public[name]:
			out = append(out, Violation{"function-exposure", f.Address, fmt.Sprintf("%s is not declared public but allUsers/allAuthenticatedUsers may invoke it", a.Function)})
		}
		if ing := str(f.After, "service_config", 0, "ingress_settings"); a.Consumes != "" && ing != "ALLOW_INTERNAL_ONLY" {
			out = append(out, Violation{"function-exposure", f.Address, fmt.Sprintf("%s consumes %s by Pub/Sub push only, but ingress_settings = %q (want ALLOW_INTERNAL_ONLY)", a.Function, a.Consumes, ing)})
		}
	}
	return out
}

// builderProjectRoles are the project-level roles the build service account may hold.
var builderProjectRoles = map[string]bool{"roles/logging.logWriter": true, "roles/storage.objectViewer": true}

// checkBuilder: the build service account of the functions holds no project-wide role
// beyond writing logs and reading objects (no cloudbuild.builds.builder, editor, …).
func checkBuilder(e Env) []Violation {
	var out []Violation
	builders := map[string]bool{}
	for _, f := range e.Plan.OfType(functionType) {
		sa := str(f.After, "build_config", 0, "service_account")
		if sa == "" {
			if f.present("build_config", 0, "service_account") {
				out = append(out, Violation{"builder", f.Address, "build_config.service_account is only known after apply; spell it out from the account's e-mail so the plan can be checked"})
				continue
			}
			out = append(out, Violation{"builder", f.Address, "no build_config.service_account: the build would run as a default service account"})
			continue
		}
		builders[lastSegment(sa)] = true
	}
	byMember := grantsByMember(e.Plan)
	for _, email := range sortedKeys(builders) {
		for _, g := range byMember["serviceAccount:"+email] {
			if g.kind == "project" && !builderProjectRoles[g.role] {
				out = append(out, Violation{"builder", "", fmt.Sprintf("build service account %s holds project role %s (allowed: roles/logging.logWriter, roles/storage.objectViewer; grant Artifact Registry per repository)", email, g.role)})
			}
		}
	}
	return out
}

// checkLogsEU: the project's logs are stored in the EU — a log bucket in an EU location
// exists and the _Default sink routes to a bucket in an EU location; no sink routes to a
// log bucket outside the EU.
func checkLogsEU(e Env) []Violation {
	var out []Violation
	euBucket := false
	for _, b := range e.Plan.OfType("google_logging_project_bucket_config") {
		loc := str(b.After, "location")
		if IsEU(loc) {
			euBucket = true
		} else {
			out = append(out, Violation{"logs-eu", b.Address, fmt.Sprintf("log bucket location %q is outside the EU", loc)})
		}
	}
	if !euBucket {
		out = append(out, Violation{"logs-eu", "", "no google_logging_project_bucket_config in an EU location: logs would stay in the project's _Default bucket (often global)"})
	}
	defaultRouted := false
	for _, s := range e.Plan.OfType("google_logging_project_sink") {
		dest := str(s.After, "destination")
		loc := ""
		if i := strings.Index(dest, "/locations/"); i >= 0 {
			loc = strings.SplitN(dest[i+len("/locations/"):], "/", 2)[0]
		}
		if strings.HasPrefix(dest, "logging.googleapis.com/") && !IsEU(loc) {
			out = append(out, Violation{"logs-eu", s.Address, fmt.Sprintf("sink routes to log bucket location %q outside the EU (%s)", loc, dest)})
			continue
		}
		if disabled, _ := s.After["disabled"].(bool); str(s.After, "name") == "_Default" && !disabled && IsEU(loc) {
			defaultRouted = true
		}
	}
	if !defaultRouted {
		out = append(out, Violation{"logs-eu", "", "the _Default sink is not routed to an EU log bucket (google_logging_project_sink named _Default)"})
	}
	return out
}
