#!/usr/bin/env bash
# make package: one zip per function for Cloud Functions' Go buildpack (see scripts/packager).
set -eEuo pipefail
cd "$(dirname "$0")/.."
exec go run ./scripts/packager -out "${1:-dist/functions}"
