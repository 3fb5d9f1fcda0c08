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

# emu_free_port prints a loopback TCP port nobody listens on, chosen below the kernel's
# ephemeral range: ports in that range are handed to outgoing connections (the tests make
# many), so one could be taken between this check and the emulator's bind.
emu_free_port() {
  local p lo=32768
  if [ -r /proc/sys/net/ipv4/ip_local_port_range ]; then
    read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
  fi
  local top=$((lo - 1)) base=10000
  [ "$top" -gt "$base" ] || { base=1024; top=$((lo - 1)); }
  for _ in $(seq 1 50); do
    p=$((base + RANDOM % (top - base)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  emu_fail "no free port found"
}

# emu_wait waits until url answers. Returns 2 when the emulator lost the race for its
# port (the caller retries on another port), fails on anything else.
emu_wait() { # name url pid seconds
  local name=$1 url=$2 pid=$3 secs=$4 i
  for i in $(seq 1 $((secs * 10))); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then
      emu_log "$name is up at $url"
      return 0
    fi
    if grep -q "Address already in use" "$EMU_DIR/$name.log" 2>/dev/null; then
      return 2
    fi
    kill -0 "$pid" 2>/dev/null || emu_fail "$name exited during start-up; see $EMU_DIR/$name.log"
    sleep 0.1
  done
  emu_fail "$name did not answer within ${secs}s; see $EMU_DIR/$name.log"
}

# emu_launch starts one emulator in its own process group on a free port, retrying on
# another port when the bind loses a race. It sets EMU_PORT and EMU_PGID.
emu_launch() { # name command...
  local name=$1 attempt rc
  shift
  for attempt in 1 2 3 4 5; do
    EMU_PORT=$(emu_free_port)
    : >"$EMU_DIR/$name.log"
    setsid "$@" --host-port="127.0.0.1:$EMU_PORT" >"$EMU_DIR/$name.log" 2>&1 </dev/null &
    EMU_PGID=$!
    rc=0
    emu_wait "$name" "http://127.0.0.1:$EMU_PORT/" "$EMU_PGID" 60 || rc=$?
    [ "$rc" -eq 0 ] && return 0
    emu_log "$name lost port $EMU_PORT to another process (attempt $attempt); trying another port"
    kill -KILL -- "-$EMU_PGID" 2>/dev/null || true
    wait "$EMU_PGID" 2>/dev/null || true
  done
  emu_fail "$name could not bind a port after 5 attempts; see $EMU_DIR/$name.log"
}

emu_start() {
  emu_check
  EMU_DIR=${EMU_DIR:-$(mktemp -d -t calsync-emulators.XXXXXX)}
  export EMU_DIR
  emu_log "starting the Firestore and Pub/Sub emulators (logs in $EMU_DIR)"
  emu_launch firestore gcloud emulators firestore start
  EMU_FS_PGID=$EMU_PGID
  local fs_port=$EMU_PORT
  emu_launch pubsub gcloud beta emulators pubsub start --project="${GOOGLE_CLOUD_PROJECT:-calsync-local}"
  EMU_PS_PGID=$EMU_PGID
  local ps_port=$EMU_PORT
  export EMU_FS_PGID EMU_PS_PGID
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
  # EMU_PGID: an emulator still starting when start-up failed.
  for g in ${EMU_FS_PGID:-} ${EMU_PS_PGID:-} ${EMU_PGID:-}; do
    kill -TERM -- "-$g" 2>/dev/null || true
  done
  for g in ${EMU_FS_PGID:-} ${EMU_PS_PGID:-} ${EMU_PGID:-}; do
    for _ in $(seq 1 50); do
      kill -0 -- "-$g" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$g" 2>/dev/null || true
  done
  EMU_FS_PGID= EMU_PS_PGID= EMU_PGID=
  [ -n "${EMU_WATCHDOG:-}" ] && kill "$EMU_WATCHDOG" 2>/dev/null || true
}
