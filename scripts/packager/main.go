// Command packager builds one deploy archive per function for Cloud Functions' Go
// buildpack. The buildpack needs, at the root of the upload, go.mod (module path with a
// dot), go.sum and exactly one non-main package that imports functions-framework and
// registers the entry point. So each archive holds go.mod, go.sum, every non-test .go file
// under shared/, and at its root the function's non-test .go files. Archives are
// byte-for-byte reproducible (sorted entries, fixed times), so Terraform's content hash
// changes only when the code does.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("out", "dist/functions", "output directory")
	root := flag.String("root", ".", "repository root")
	flag.Parse()
	names, err := Functions(*root)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for _, n := range names {
		path := filepath.Join(*out, n+".zip")
		if err := Build(*root, n, path); err != nil {
			log.Fatalf("package %s: %v", n, err)
		}
		fmt.Println("[package]", path)
	}
}
