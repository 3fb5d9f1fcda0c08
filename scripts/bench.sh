#!/usr/bin/env bash
# make bench: runs every benchmark at full size (CALSYNC_BENCH_FULL=1) with the emulators up
# (scripts/with-emulators.sh) and rewrites the generated section of docs/benchmarks.md from
# their own output (scripts/benchreport): machine, date, commit and the command of every
# table. Raw `go test -json` output stays in $BENCH_OUT (default /tmp/calsync-bench).
# Exit status: non-zero when any run failed (the report is written anyway and says so).
set -eEuo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-/tmp/calsync-bench}
rm -rf "$out" && mkdir -p "$out"
export CALSYNC_BENCH_FULL=${CALSYNC_BENCH_FULL:-1} # 0: the bench-smoke sizes
n=0
failed=0
# run ENV... -- go test ARGS: records the command (as one would type it) and its -json output.
run() {
  local envs=() 
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  n=$((n + 1))
  local f
  f=$(printf '%s/%02d' "$out" "$n")
  echo "${envs[*]:+${envs[*]} }CALSYNC_BENCH_FULL=$CALSYNC_BENCH_FULL scripts/with-emulators.sh $*" >"$f.cmd"
  echo "[bench] $(cat "$f.cmd")"
  if ! env "${envs[@]}" "$@" -json >"$f.json"; then
    echo "[bench] FAILED: $(cat "$f.cmd") (output: $f.json)"
    failed=1
  fi
}
run -- go test -count=1 -run '^$' -bench . -benchtime "${BENCHTIME:-1s}" -timeout 30m ./shared/availability/ ./shared/tokencrypt/ ./shared/slotsvc/ ./functions/calendarwebhook/
run -- go test -count=1 -run '^$' -bench . -benchtime 1x -timeout 30m ./shared/syncer/ ./shared/slotquery/ ./shared/renewal/
run -- go test -count=1 -run '^$' -bench . -benchtime 1x -timeout 40m ./scripts/localstack/
run RENEW_SIM_CHANNELS=${RENEW_SIM_CHANNELS:-10000} -- go test -count=1 -timeout 30m -run TestRenewSimulation -v ./scripts/localstack/
# The latest `make fuzz` reports, when there are any, go into the same document
# (FUZZ_REPORTS: their directories, in order; default $FUZZ_OUT or /tmp/calsync-fuzz).
k=90
for fz in ${FUZZ_REPORTS:-${FUZZ_OUT:-/tmp/calsync-fuzz}}; do
  if [ -f "$fz/01.json" ] && [ -f "$fz/01.cmd" ]; then
    cp "$fz/01.json" "$out/$k.json" && cp "$fz/01.cmd" "$out/$k.cmd"
    k=$((k + 1))
  fi
done
go run ./scripts/benchreport -runs "$out" -doc docs/benchmarks.md
exit $failed
