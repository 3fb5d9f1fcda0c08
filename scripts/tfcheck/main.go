// Command tfcheck checks the calsync Terraform deployment for the promises the system
// makes: every location in the EU, one service account per function, Manage never public,
// secrets replicated in the EU only, the deployed functions equal the functions/ folders,
// every alert of docs/alerts.md present, every Pub/Sub delivery dead-lettered, logs stored
// in the EU, the build service account narrow, and — against the declaration in
// shared/topology/access.go, which the code enforces locally — every function's IAM grants
// and public exposure exactly as declared (least privilege both ways).
//
// It reads the JSON of a saved plan (`terraform show -json plan.out`) and, as a fallback
// that needs no provider, scans the .tf files as text for non-EU locations and automatic
// secret replication. Besides the standard library it imports only shared/topology (the
// declaration).
//
//	go run ./scripts/tfcheck -plan plan.json -dir terraform -functions functions
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	planPath := flag.String("plan", "", "plan JSON from `terraform show -json` (optional: without it only the HCL text checks run)")
	tfDir := flag.String("dir", "terraform", "directory of the Terraform root module")
	fnDir := flag.String("functions", "functions", "directory holding one folder per deployed function")
	flag.Parse()

	var violations []Violation

	hcl, err := ScanHCL(*tfDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tfcheck:", err)
		os.Exit(2)
	}
	violations = append(violations, hcl...)

	if *planPath != "" {
		plan, err := LoadPlan(*planPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tfcheck:", err)
			os.Exit(2)
		}
		folders, fromDisk, err := FunctionFolders(*fnDir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tfcheck:", err)
			os.Exit(2)
		}
		if !fromDisk {
			fmt.Fprintf(os.Stderr, "tfcheck: %s has no function folders yet; comparing with the fixed list\n", *fnDir)
		}
		env := Env{Plan: plan, Folders: folders}
		for _, r := range Rules {
			violations = append(violations, r.Check(env)...)
		}
		fmt.Fprintf(os.Stderr, "tfcheck: %d resources in plan, %d rules\n", len(plan.Resources), len(Rules))
	}

	for _, v := range violations {
		fmt.Println(v)
	}
	if len(violations) > 0 {
		fmt.Fprintf(os.Stderr, "tfcheck: %d violation(s)\n", len(violations))
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "tfcheck: ok")
}
