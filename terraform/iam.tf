# One service account per function, with only what that function needs; plus the build
# identity, the Pub/Sub push identity and the Scheduler identity.
#
# Every grant below is derived from local.functions (firestore, public, secrets, publishes),
# which mirrors shared/topology/access.go; scripts/tfcheck checks the plan against that
# declaration both ways. Firestore has no per-collection IAM: roles/datastore.user
# (read/write documents) for the functions that write, roles/datastore.viewer for those
# that only read (CalendarWebhook, Slots). Secrets and topics are granted per resource,
# never project-wide.

resource "google_service_account" "fn" {
  for_each = local.functions

  account_id   = "fn-${each.key}"
  display_name = "calsync ${each.value.entry_point}"
  description  = "Runtime identity of the ${each.value.entry_point} function (one per function)."

  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_member" "firestore" {
  for_each = local.functions

  project = var.project_id
  role    = local.firestore_roles[each.value.firestore]
  member  = "serviceAccount:${google_service_account.fn[each.key].email}"
}

locals {
  firestore_roles = {
    "read"       = "roles/datastore.viewer"
    "read-write" = "roles/datastore.user"
  }
  secret_grants = merge([
    for fn, f in local.functions : {
      for s in f.secrets : "${fn}/${s}" => { function = fn, secret = s }
    }
  ]...)
  publish_grants = merge([
    for fn, f in local.functions : {
      for t in f.publishes : "${fn}/${t}" => { function = fn, topic = t }
    }
  ]...)
}

# Functions read secret versions by number (key rotation), so accessor on the secret is all
# they need; no list permission.
resource "google_secret_manager_secret_iam_member" "access" {
  for_each = local.secret_grants

  # The secret id (known at plan time, unlike the resource's full id), so that tfcheck can
  # match the grant to the declaration.
  project   = var.project_id
  secret_id = google_secret_manager_secret.secret[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.fn[each.value.function].email}"
}

# Work topics and, for the consumers, their own dead-letter topic: the platform copies a
# poison message there itself, with the calsync* attributes the runbook relies on.
resource "google_pubsub_topic_iam_member" "publish" {
  for_each = local.publish_grants

  project = var.project_id
  topic   = local.all_topics[each.value.topic]
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.fn[each.value.function].email}"
}

# --- Who may invoke what -----------------------------------------------------------------

# Public HTTP functions: the browser (OAuth callback, Slots, Book) and Google's push
# notifications (webhook) call them without credentials.
resource "google_cloud_run_v2_service_iam_member" "public" {
  for_each = toset([for k, f in local.functions : k if f.public])

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# Manage: only the booking backend's service account. Never allUsers.
resource "google_cloud_run_v2_service_iam_member" "manage_backend" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn["manage"].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${var.backend_service_account}"
}

# Pub/Sub push identity: may invoke exactly the three Pub/Sub consumers.
resource "google_service_account" "pubsub_push" {
  account_id   = "pubsub-push"
  display_name = "calsync Pub/Sub push"
  description  = "Identity in the OIDC token of the push subscriptions; invokes the Pub/Sub consumers only."

  depends_on = [google_project_service.enabled]
}

resource "google_cloud_run_v2_service_iam_member" "push_invoker" {
  for_each = local.topics

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.value].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.pubsub_push.email}"
}

# Pub/Sub mints the push OIDC tokens as the push identity (needed on projects created before
# April 2021, harmless after).
resource "google_service_account_iam_member" "pubsub_token_creator" {
  service_account_id = google_service_account.pubsub_push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

# --- Build identity ----------------------------------------------------------------------

# Cloud Build runs the Go buildpack as this account (instead of the default compute
# account, which new projects no longer grant broad roles). It gets what Google lists for a
# user-specified Cloud Functions build service account, and no more: write build logs,
# read the function source (Cloud Functions copies it into its own gcf-v2-sources-* bucket
# first, which only exists after the first deploy, hence project-level object read), and
# push images to our repository only. Narrower than roles/cloudbuild.builds.builder, which
# adds creating buckets, writing any object and any Artifact Registry repository of the
# project, Pub/Sub publishing and more (docs/deploy.md, "Roles").
resource "google_service_account" "builder" {
  account_id   = "fn-builder"
  display_name = "calsync function builder"
  description  = "Cloud Build identity for building the calsync functions."

  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_member" "builder" {
  for_each = toset([
    "roles/logging.logWriter",    # build logs
    "roles/storage.objectViewer", # the function source
  ])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.builder.email}"
}

resource "google_artifact_registry_repository_iam_member" "builder" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${google_service_account.builder.email}"
}

# --- Scheduler identity ------------------------------------------------------------------

resource "google_service_account" "scheduler" {
  account_id   = "renew-channels-tick"
  display_name = "calsync renew-channels scheduler"
  description  = "Cloud Scheduler identity that publishes the renew-channels tick (publisher on that topic only)."

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic_iam_member" "scheduler_publish" {
  topic  = google_pubsub_topic.work["renew-channels"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.scheduler.email}"
}
