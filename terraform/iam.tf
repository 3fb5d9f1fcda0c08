# One service account per function, with only what that function needs; plus the build
# identity, the Pub/Sub push identity and the Scheduler identity.
#
# Firestore has no per-collection IAM: roles/datastore.user (read/write documents) is the
# narrowest practical role for every function that writes; Slots only reads and gets
# roles/datastore.viewer. Secrets and topics are granted per resource, never project-wide.

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
  role    = each.key == "slots" ? "roles/datastore.viewer" : "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.fn[each.key].email}"
}

locals {
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

  secret_id = google_secret_manager_secret.secret[each.value.secret].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.fn[each.value.function].email}"
}

resource "google_pubsub_topic_iam_member" "publish" {
  for_each = local.publish_grants

  topic  = google_pubsub_topic.work[each.value.topic].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.fn[each.value.function].email}"
}

# --- Who may invoke what -----------------------------------------------------------------

# Public HTTP functions: the browser (OAuth callback, Slots, Book) and Google's push
# notifications (webhook) call them without credentials.
resource "google_cloud_run_v2_service_iam_member" "public" {
  for_each = toset(["oauthcallback", "calendarwebhook", "slots", "book"])

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
# account, which new projects no longer grant broad roles).
resource "google_service_account" "builder" {
  account_id   = "fn-builder"
  display_name = "calsync function builder"
  description  = "Cloud Build identity for building the calsync functions."

  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_member" "builder" {
  for_each = toset([
    "roles/cloudbuild.builds.builder", # logs, Artifact Registry push, source read
  ])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.builder.email}"
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
