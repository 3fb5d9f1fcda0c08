#!/usr/bin/env bash
# Sourced by with-emulators.sh and dev.sh: starts the official Firestore and Pub/Sub
# emulators from the machine's gcloud on free loopback ports, each in its own process
# group (gcloud runs the emulator as a child Java process, so the whole group is stopped),
# waits until both answer, and exports FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST.

emu_log() { printf '[emulators] %s\n' "$*" >&2; }

emu_fail() {
  emu_log "ERROR: $*"
  exit 1
}

# emu_check verifies that gcloud, Java and both emulator components are installed. They
# cannot be installed by this project (gcloud components are the machine's), so a missing
# piece is a clear failure, never a silent skip.
emu_check() {
  command -v gcloud >/dev/null 2>&1 || emu_fail "gcloud is not on PATH. Install the Google Cloud CLI with the 'cloud-firestore-emulator' and 'pubsub-emulator' components."
  command -v java >/dev/null 2>&1 || emu_fail "java is not on PATH; the emulators need a Java 11+ runtime (apt-get install openjdk-17-jre-headless)."
  local root
  root=$(gcloud info --format='value(installation.sdk_root)' 2>/dev/null) || emu_fail "'gcloud info' failed"
  [ -d "$root/platform/cloud-firestore-emulator" ] || emu_fail "the gcloud component 'cloud-firestore-emulator' is missing (gcloud components install cloud-firestore-emulator)."
  [ -d "$root/platform/pubsub-emulator" ] || emu_fail "the gcloud component 'pubsub-emulator' is missing (gcloud components install pubsub-emulator beta)."
}

# emu_free_port prints a loopback TCP port nobody listens on.
emu_free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  emu_fail "no free port found"
}

emu_wait() { # name url pid seconds
  local name=$1 url=$2 pid=$3 secs=$4 i
  for i in $(seq 1 $((secs * 10))); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then
      emu_log "$name is up at $url"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || emu_fail "$name exited during start-up; see $EMU_DIR/$name.log"
    sleep 0.1
  done
  emu_fail "$name did not answer within ${secs}s; see $EMU_DIR/$name.log"
}

emu_start() {
  emu_check
  EMU_DIR=${EMU_DIR:-$(mktemp -d -t calsync-emulators.XXXXXX)}
  export EMU_DIR
  local fs_port ps_port
  fs_port=$(emu_free_port)
  ps_port=$(emu_free_port)
  while [ "$ps_port" = "$fs_port" ]; do ps_port=$(emu_free_port); done
  emu_log "starting Firestore emulator on 127.0.0.1:$fs_port and Pub/Sub emulator on 127.0.0.1:$ps_port (logs in $EMU_DIR)"
  setsid gcloud emulators firestore start --host-port="127.0.0.1:$fs_port" >"$EMU_DIR/firestore.log" 2>&1 </dev/null &
  EMU_FS_PGID=$!
  setsid gcloud beta emulators pubsub start --host-port="127.0.0.1:$ps_port" --project="${GOOGLE_CLOUD_PROJECT:-calsync-local}" >"$EMU_DIR/pubsub.log" 2>&1 </dev/null &
  EMU_PS_PGID=$!
  export EMU_FS_PGID EMU_PS_PGID
  emu_wait firestore "http://127.0.0.1:$fs_port/" "$EMU_FS_PGID" 60
  emu_wait pubsub "http://127.0.0.1:$ps_port/" "$EMU_PS_PGID" 60
  # Watchdog: if this shell dies without running its traps (SIGKILL), the emulators follow.
  local parent=$$
  (
    trap '' INT TERM
    while kill -0 "$parent" 2>/dev/null; do sleep 2; done
    kill -KILL -- "-$EMU_FS_PGID" "-$EMU_PS_PGID" 2>/dev/null
  ) >/dev/null 2>&1 </dev/null &
  EMU_WATCHDOG=$!
  disown "$EMU_WATCHDOG" 2>/dev/null || true
  export FIRESTORE_EMULATOR_HOST="127.0.0.1:$fs_port"
  export PUBSUB_EMULATOR_HOST="127.0.0.1:$ps_port"
}

# emu_stop ends both process groups (gcloud and its Java child) and waits for them.
emu_stop() {
  local g
  for g in ${EMU_FS_PGID:-} ${EMU_PS_PGID:-}; do
    kill -TERM -- "-$g" 2>/dev/null || true
  done
  for g in ${EMU_FS_PGID:-} ${EMU_PS_PGID:-}; do
    for _ in $(seq 1 50); do
      kill -0 -- "-$g" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$g" 2>/dev/null || true
  done
  EMU_FS_PGID= EMU_PS_PGID=
  [ -n "${EMU_WATCHDOG:-}" ] && kill "$EMU_WATCHDOG" 2>/dev/null || true
}
