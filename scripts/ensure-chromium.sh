#!/usr/bin/env bash
# Makes sure Debian's chromium package is installed for the browser test
# (scripts/localstack/browser_test.go). Never downloads a browser from elsewhere.
# Without root and without chromium: says so; the test then skips locally and fails in CI.
set -euo pipefail
bin=${CHROMIUM_BIN:-/usr/bin/chromium}
if [ -x "$bin" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "[chromium] $bin missing and apt-get not available; install the 'chromium' package yourself" >&2
  [ "${CI:-}" = "true" ] && exit 1 || exit 0
fi
sudo=
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  else
    echo "[chromium] $bin missing; run: sudo apt-get update && sudo apt-get install -y chromium" >&2
    [ "${CI:-}" = "true" ] && exit 1 || exit 0
  fi
fi
echo "[chromium] installing Debian's chromium package (apt-get)"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
"$bin" --version
