#!/usr/bin/env bash
# Runs a command with the Firestore and Pub/Sub emulators up, then stops them.
# Usage: scripts/with-emulators.sh go test ./...
set -eEuo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=emulators.sh
. "$here/emulators.sh"
trap emu_stop EXIT
trap 'exit 130' INT TERM
emu_start
"$@"
