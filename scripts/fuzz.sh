#!/usr/bin/env bash
# make fuzz: runs every fuzz target of the module for the given time each (default 20s).
# `go test` already runs each target's seed corpus as a normal test; this explores further.
set -eEuo pipefail
cd "$(dirname "$0")/.."
t=${1:-20s}
for dir in $(go list -f '{{.Dir}}' ./...); do
  pkg=$(go list "$dir")
  for fn in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "[fuzz] $pkg $fn ($t)"
    go test -run '^$' -fuzz "^$fn\$" -fuzztime "$t" "$pkg"
  done
done
