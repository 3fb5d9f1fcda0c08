#!/usr/bin/env bash
# make run: the whole system locally on the real emulators.
#  1. starts the Firestore and Pub/Sub emulators on free loopback ports (own process groups);
#  2. builds and starts scripts/devserver: every function in one functions-framework process,
#     the fake Google, the web pages; it creates every topic, push subscription (pointing at
#     the local functions) and dead-letter topic, and seeds a demo tenant and Google account;
#  3. on Ctrl-C stops everything, leaving no process behind.
set -eEuo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
# shellcheck source=emulators.sh
. "$here/emulators.sh"

DEV_PID=
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$DEV_PID" ]; then
    kill -TERM "$DEV_PID" 2>/dev/null || true
    wait "$DEV_PID" 2>/dev/null || true
  fi
  emu_stop
  echo "[dev] stopped"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export GOOGLE_CLOUD_PROJECT=${GOOGLE_CLOUD_PROJECT:-calsync-local}
emu_start

port=${PORT:-8080}
gport=${GOOGLE_PORT:-9099}
(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && port=$(emu_free_port)
(exec 3<>"/dev/tcp/127.0.0.1/$gport") 2>/dev/null && gport=$(emu_free_port)

rand32() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }
export OAUTH_CLIENT_ID=${OAUTH_CLIENT_ID:-calsync-local.apps.googleusercontent.com}
export SECRET_OAUTH_CLIENT_SECRET=${SECRET_OAUTH_CLIENT_SECRET:-local-client-secret-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')}
export SECRET_STATE_KEY=${SECRET_STATE_KEY:-$(rand32)}
export SECRET_TOKEN_KEY=${SECRET_TOKEN_KEY:-$(rand32)}
export MANAGE_API_KEY=${MANAGE_API_KEY:-local-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}
export ALLOWED_RETURN_URLS=${ALLOWED_RETURN_URLS:-http://127.0.0.1:$port/}
export WIDGET_ORIGINS=${WIDGET_ORIGINS:-http://127.0.0.1:$port}
export SAFETY_SYNC_INTERVAL=${SAFETY_SYNC_INTERVAL:-2m}

bin="$EMU_DIR/devserver"
echo "[dev] building scripts/devserver"
go build -o "$bin" ./scripts/devserver
echo "[dev] MANAGE_API_KEY=$MANAGE_API_KEY"
"$bin" -addr "127.0.0.1:$port" -google-addr "127.0.0.1:$gport" -web "$root/web" "$@" &
DEV_PID=$!
wait "$DEV_PID"
