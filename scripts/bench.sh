#!/usr/bin/env bash
# make bench: every Go benchmark of the module (emulators are up: scripts/with-emulators.sh).
# The figures are recorded by hand in docs/benchmarks.md with the date and machine.
set -eEuo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-/tmp/calsync-bench.txt}
echo "[bench] writing raw output to $out"
go test -run '^$' -bench . -benchtime "${BENCHTIME:-1s}" -timeout 60m ./... | tee "$out"
