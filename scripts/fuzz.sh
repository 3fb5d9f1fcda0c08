#!/usr/bin/env bash
# make fuzz: runs every fuzz target of the module for the given time each (default 20s) and
# reports the executions each reached. `go test` already runs each target's seed corpus as a
# normal test; this explores further.
#   FUZZ_MIN_EXECS=N  fail when a target ends below N executions (default 0: report only)
#   FUZZ_ONLY=REGEX   run only the targets whose name matches (e.g. after fixing what one found)
#   FUZZ_OUT=DIR      where the report goes (default /tmp/calsync-fuzz): 01.json in `go test
#                     -json` form with one BENCHTABLE line, and 01.cmd; `make bench` adds the
#                     latest one to docs/benchmarks.md.
set -eEuo pipefail
cd "$(dirname "$0")/.."
t=${1:-20s}
min=${FUZZ_MIN_EXECS:-0}
only=${FUZZ_ONLY:-.}
out=${FUZZ_OUT:-/tmp/calsync-fuzz}
rm -rf "$out" && mkdir -p "$out"
rows=()
failed=0
for dir in $(go list -f '{{.Dir}}' ./...); do
  pkg=$(go list "$dir")
  for fn in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u | grep -E "$only"); do
    echo "[fuzz] $pkg $fn ($t)"
    log="$out/${pkg//\//_}.$fn.log"
    status=ok
    if ! go test -run '^$' -fuzz "^$fn\$" -fuzztime "$t" "$pkg" 2>&1 | tee "$log"; then
      status=FAILED
      failed=1
    fi
    # The fuzzer prints "fuzz: elapsed: 20s, execs: 1234567 (61728/sec), …" lines; the last is the total.
    execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
    if [ "$status" = ok ] && [ "${execs:-0}" -lt "$min" ]; then
      status="below $min"
      failed=1
    fi
    echo "[fuzz] $pkg $fn: $execs executions, $status"
    rows+=("[\"${pkg#github.com/belbo/calsync/}\",\"$fn\",\"$execs\",\"$status\"]")
  done
done
table=$(printf '%s,' "${rows[@]}")
json="{\"title\":\"Fuzzing: executions per target in one run (FUZZTIME=$t each)\",\"columns\":[\"package\",\"target\",\"executions\",\"result\"],\"rows\":[${table%,}]}"
python3 -c 'import json,sys; print(json.dumps({"Action":"output","Package":"fuzz","Output":"BENCHTABLE "+sys.argv[1]+"\n"}))' "$json" >"$out/01.json"
echo "${FUZZ_ONLY:+FUZZ_ONLY=$FUZZ_ONLY }FUZZ_MIN_EXECS=$min make fuzz FUZZTIME=$t" >"$out/01.cmd"
echo "[fuzz] report in $out/01.json"
exit $failed
