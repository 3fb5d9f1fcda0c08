#!/usr/bin/env bash
# Offline checks of terraform/: fmt, tflint (bundled Terraform rules), init from a local
# provider mirror, validate, plan against a dummy project with a dummy token, scripts/tfcheck
# on the plan JSON, and every function's Config loaded from the environment the plan gives
# it (scripts/localstack TestFunctionConfigs). Nothing is written into the repository:
# Terraform's data dir, the lock file, the plan and any placeholder archives live in a temp
# dir.
#
# Needs: terraform >= 1.9 on PATH, go. The Google and time providers are built once per
# machine by scripts/tf-provider.sh (3-6 minutes the first time) and cached outside the repo.
set -eEuo pipefail
trap 'echo "tf-check: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TF_DIR="$ROOT/terraform"
CACHE_ROOT="${CALSYNC_TF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/calsync/terraform}"
TFLINT_VERSION="${TFLINT_VERSION:-v0.64.0}"
TOOLS_DIR="$CACHE_ROOT/tools/$TFLINT_VERSION"

log() { echo "tf-check: $*" >&2; }
step_start=0
step() { step_start=$(date +%s); log "== $*"; }
step_done() { log "   done in $(($(date +%s) - step_start)) s"; }

command -v terraform >/dev/null || { log "terraform not on PATH"; exit 1; }
all_start=$(date +%s)

WORK="$(mktemp -d "${TMPDIR:-/tmp}/calsync-tf-check.XXXXXX")"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
# Until the provider mirror is set up, use an empty CLI config of our own (the machine's
# default may point at a file that does not exist).
: >"$WORK/empty.tfrc"
export TF_CLI_CONFIG_FILE="$WORK/empty.tfrc"

# --- 1. fmt -------------------------------------------------------------------------------
step "terraform fmt -check -recursive"
terraform -chdir="$TF_DIR" fmt -check -recursive -diff
step_done

# --- 2. tflint ----------------------------------------------------------------------------
step "tflint $TFLINT_VERSION (bundled terraform ruleset)"
if [[ ! -x "$TOOLS_DIR/tflint" ]]; then
  log "installing tflint $TFLINT_VERSION into $TOOLS_DIR"
  mkdir -p "$TOOLS_DIR"
  (cd "$WORK" && GOBIN="$TOOLS_DIR" GOFLAGS=-buildvcs=false go install "github.com/terraform-linters/tflint@$TFLINT_VERSION")
fi
# TFLINT_PLUGIN_DIR points at an empty dir so only the bundled ruleset can load.
mkdir -p "$WORK/tflint-plugins"
TFLINT_PLUGIN_DIR="$WORK/tflint-plugins" "$TOOLS_DIR/tflint" --chdir="$TF_DIR" --config="$TF_DIR/.tflint.hcl" --format=compact
step_done

# --- 3. provider + CLI config -------------------------------------------------------------
step "provider mirror (scripts/tf-provider.sh)"
# A failed provider build must stop here (eval of a failed substitution would not).
provider_env=$("$ROOT/scripts/tf-provider.sh" --env) || { echo "tf-check: building the Google provider failed" >&2; exit 1; }
eval "$provider_env"
[ -f "${TF_CLI_CONFIG_FILE:-}" ] || { echo "tf-check: no Terraform CLI config after the provider step" >&2; exit 1; }
export TF_CLI_CONFIG_FILE
step_done

export TF_DATA_DIR="$WORK/.terraform"
export TF_IN_AUTOMATION=1
export CHECKPOINT_DISABLE=1
export TF_PLUGIN_CACHE_DIR=""

# Terraform writes .terraform.lock.hcl next to the configuration. init runs on a copy of the
# module in the temp dir without the committed lock, then the lock it wrote is compared with
# the committed one (providers and versions; the checksums of our source builds are not
# the registry's, docs/deploy.md section 8).
MODULE="$WORK/terraform"
mkdir -p "$MODULE"
cp "$TF_DIR"/*.tf "$MODULE/"
# versions.tf declares a partial `backend "gcs" {}`; the check plans against a local state
# in the temp dir instead (an override file replaces the backend block).
cat >"$MODULE/tfcheck_override.tf" <<OVR
terraform {
  backend "local" {
    path = "$WORK/terraform.tfstate"
  }
}
OVR

# --- 4. init / validate -------------------------------------------------------------------
step "terraform init (offline, filesystem mirror)"
terraform -chdir="$MODULE" init -input=false -no-color >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log" >&2; exit 1; }
grep -E "Installed|Installing|Terraform has been" "$WORK/init.log" >&2 || true
# provider "<source>" { version = "<v>" … } → "<source> <v>" lines.
lock_versions() { awk '/^provider "/ {gsub(/"/, "", $2); p=$2} /^ *version *=/ {gsub(/"/, "", $3); print p, $3}' "$1" | sort; }
# TF_CHECK_WRITE_LOCK=1: (re)write the committed lock from this run (after a deliberate
# provider or versions.tf change); the only time tf-check writes into the repository.
if [[ "${TF_CHECK_WRITE_LOCK:-}" == 1 ]]; then
  cp "$MODULE/.terraform.lock.hcl" "$TF_DIR/.terraform.lock.hcl"
  log "wrote terraform/.terraform.lock.hcl"
fi
if [[ ! -f "$TF_DIR/.terraform.lock.hcl" ]]; then
  log "terraform/.terraform.lock.hcl is missing (copy $MODULE/.terraform.lock.hcl after a successful run)"
  exit 1
fi
if ! diff <(lock_versions "$TF_DIR/.terraform.lock.hcl") <(lock_versions "$MODULE/.terraform.lock.hcl") >&2; then
  log "terraform/.terraform.lock.hcl does not pin the providers init selected (< committed, > selected); update it"
  exit 1
fi
log "lock file: $(lock_versions "$TF_DIR/.terraform.lock.hcl" | tr '\n' ' ')"
step_done

step "terraform validate"
terraform -chdir="$MODULE" validate -no-color
step_done

# --- 5. plan against a dummy project ------------------------------------------------------
PKG_DIR="$ROOT/dist/functions"
FUNCTIONS=(manage oauthcallback calendarwebhook synccalendar renewchannels slots book exportbooking)
missing=0
for f in "${FUNCTIONS[@]}"; do [[ -f "$PKG_DIR/$f.zip" ]] || missing=1; done
if [[ $missing == 1 ]]; then
  log "dist/functions/*.zip incomplete: planning with placeholder archives (run 'make package' for real ones)"
  PKG_DIR="$WORK/package"
  mkdir -p "$PKG_DIR"
  for f in "${FUNCTIONS[@]}"; do
    if [[ -f "$ROOT/dist/functions/$f.zip" ]]; then
      cp "$ROOT/dist/functions/$f.zip" "$PKG_DIR/"
    else
      # An empty but valid zip archive (end-of-central-directory record only): enough for
      # filemd5() and the plan; never deployable.
      printf 'PK\005\006\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000' >"$PKG_DIR/$f.zip"
    fi
  done
fi

step "terraform plan (dummy project, GOOGLE_OAUTH_ACCESS_TOKEN=dummy)"
cat >"$WORK/check.tfvars" <<VARS
project_id              = "calsync-plan-check"
oauth_client_id         = "1234567890-check.apps.googleusercontent.com"
widget_origins          = ["https://booking.example.com"]
allowed_return_urls     = ["https://app.example.com/settings"]
backend_service_account = "backend@calsync-plan-check.iam.gserviceaccount.com"
alert_email             = "ops@example.com"
package_dir             = "$PKG_DIR"
VARS
# Nothing exists in the dummy project, so there is nothing to refresh; the one data source
# (google_project) is deferred to apply by its depends_on.
GOOGLE_OAUTH_ACCESS_TOKEN=dummy GOOGLE_PROJECT=calsync-plan-check \
  terraform -chdir="$MODULE" plan -input=false -no-color -refresh=false -lock=false \
  -var-file="$WORK/check.tfvars" -out="$WORK/plan.out" >"$WORK/plan.log" 2>&1 || { cat "$WORK/plan.log" >&2; exit 1; }
tail -n 3 "$WORK/plan.log" >&2
terraform -chdir="$MODULE" show -json "$WORK/plan.out" >"$WORK/plan.json"
# TF_CHECK_PLAN_OUT=file keeps a copy of the plan JSON (to refresh scripts/tfcheck fixtures).
if [[ -n "${TF_CHECK_PLAN_OUT:-}" ]]; then cp "$WORK/plan.json" "$TF_CHECK_PLAN_OUT"; fi
step_done

# --- 6. policy checks on the plan ---------------------------------------------------------
step "scripts/tfcheck"
(cd "$ROOT" && go run ./scripts/tfcheck -plan "$WORK/plan.json" -dir terraform -functions functions)
step_done

# --- 7. every function starts with the environment the plan gives it ----------------------
step "function configurations against the plan (scripts/localstack TestFunctionConfigs)"
(cd "$ROOT" && CALSYNC_PLAN_JSON="$WORK/plan.json" go test -count=1 -run '^TestFunctionConfigs$' ./scripts/localstack)
step_done

log "all checks passed in $(($(date +%s) - all_start)) s"
