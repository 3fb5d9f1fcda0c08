#!/usr/bin/env bash
# Builds the Terraform providers the module needs (hashicorp/google, hashicorp/time) from the
# Go module proxy (Terraform's public registry is not reachable here), lays them out as a
# filesystem_mirror and writes a Terraform CLI config of our own that points at it.
# Everything lives in a per-machine cache outside the repo, so the ~3-6 minute build of the
# Google provider (the time provider: well under a minute) happens once per machine.
#
# Usage: scripts/tf-provider.sh            # build if needed, print the CLI config path last
#        eval "$(scripts/tf-provider.sh --env)"   # export TF_CLI_CONFIG_FILE
set -eEuo pipefail
trap 'echo "tf-provider: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

# The provider commit (2026-08-28, go 1.26). The module proxy's @latest is a 2018 release and
# branch names are refused, hence the pseudo-version.
PROVIDER_MODULE="github.com/hashicorp/terraform-provider-google"
PROVIDER_PSEUDO="v1.20.1-0.20260828184646-f3721fb45fa3"
# The version string the mirror advertises. Terraform only needs it to satisfy the
# constraint in terraform/versions.tf ("~> 8.0"; the commit is 8.0.0 plus two days); the binary is the commit above.
MIRROR_VERSION="${CALSYNC_TF_PROVIDER_VERSION:-8.999.0}"
# hashicorp/time: a tagged release, advertised under its own version ("~> 0.14").
TIME_MODULE="github.com/hashicorp/terraform-provider-time"
TIME_VERSION="0.14.2"

CACHE_ROOT="${CALSYNC_TF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/calsync/terraform}"
GOBIN_DIR="$CACHE_ROOT/bin/$PROVIDER_PSEUDO"
TIME_GOBIN_DIR="$CACHE_ROOT/bin/time-v$TIME_VERSION"
MIRROR_DIR="$CACHE_ROOT/mirror"
CLI_CONFIG="$CACHE_ROOT/terraformrc"
OS_ARCH="$(go env GOOS)_$(go env GOARCH)"
PLUGIN_DIR="$MIRROR_DIR/registry.terraform.io/hashicorp/google/$MIRROR_VERSION/$OS_ARCH"
TIME_PLUGIN_DIR="$MIRROR_DIR/registry.terraform.io/hashicorp/time/$TIME_VERSION/$OS_ARCH"

log() { echo "tf-provider: $*" >&2; }

if [[ "${1:-}" == "--env" ]]; then
  QUIET=1
else
  QUIET=0
fi

mkdir -p "$GOBIN_DIR" "$PLUGIN_DIR" "$TIME_GOBIN_DIR" "$TIME_PLUGIN_DIR"

if [[ -x "$GOBIN_DIR/terraform-provider-google" ]]; then
  log "cached: $GOBIN_DIR/terraform-provider-google"
else
  log "building $PROVIDER_MODULE@$PROVIDER_PSEUDO into $GOBIN_DIR (takes 3-6 minutes)"
  start=$(date +%s)
  # Run outside the repo so our go.mod is neither consulted nor touched.
  (cd "$CACHE_ROOT" && GOBIN="$GOBIN_DIR" GOFLAGS=-buildvcs=false go install "$PROVIDER_MODULE@$PROVIDER_PSEUDO")
  log "built in $(($(date +%s) - start)) s"
fi

target="$PLUGIN_DIR/terraform-provider-google_v$MIRROR_VERSION"
if [[ ! -e "$target" ]] || ! cmp -s "$GOBIN_DIR/terraform-provider-google" "$target"; then
  log "installing into filesystem mirror $PLUGIN_DIR"
  # A hard link keeps the 180 MB binary once; fall back to a copy across filesystems.
  ln -f "$GOBIN_DIR/terraform-provider-google" "$target" 2>/dev/null \
    || cp -f "$GOBIN_DIR/terraform-provider-google" "$target"
fi

if [[ -x "$TIME_GOBIN_DIR/terraform-provider-time" ]]; then
  log "cached: $TIME_GOBIN_DIR/terraform-provider-time"
else
  log "building $TIME_MODULE@v$TIME_VERSION into $TIME_GOBIN_DIR"
  start=$(date +%s)
  (cd "$CACHE_ROOT" && GOBIN="$TIME_GOBIN_DIR" GOFLAGS=-buildvcs=false go install "$TIME_MODULE@v$TIME_VERSION")
  log "built in $(($(date +%s) - start)) s"
fi
time_target="$TIME_PLUGIN_DIR/terraform-provider-time_v$TIME_VERSION"
if [[ ! -e "$time_target" ]] || ! cmp -s "$TIME_GOBIN_DIR/terraform-provider-time" "$time_target"; then
  ln -f "$TIME_GOBIN_DIR/terraform-provider-time" "$time_target" 2>/dev/null \
    || cp -f "$TIME_GOBIN_DIR/terraform-provider-time" "$time_target"
fi

log "writing CLI config $CLI_CONFIG"
cat >"$CLI_CONFIG" <<CFG
# Written by scripts/tf-provider.sh. Offline provider installation from a local mirror;
# Terraform never contacts a registry with this config.
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR_DIR"
    include = ["registry.terraform.io/hashicorp/google", "registry.terraform.io/hashicorp/time"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/google", "registry.terraform.io/hashicorp/time"]
  }
}
CFG

if [[ $QUIET == 1 ]]; then
  echo "export TF_CLI_CONFIG_FILE='$CLI_CONFIG'"
else
  log "ready: export TF_CLI_CONFIG_FILE=$CLI_CONFIG"
  echo "$CLI_CONFIG"
fi
