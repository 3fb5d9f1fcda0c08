# APIs the deployment needs. disable_on_destroy = false: destroying this module must not
# switch off APIs other things in the project may use.
locals {
  services = toset([
    "artifactregistry.googleapis.com",    # images built from the function sources
    "cloudbuild.googleapis.com",          # builds the Go functions (buildpacks)
    "cloudfunctions.googleapis.com",      # Cloud Functions (2nd gen)
    "run.googleapis.com",                 # gen2 functions run as Cloud Run services
    "pubsub.googleapis.com",              # work queues and dead-letter topics
    "cloudscheduler.googleapis.com",      # renew-channels tick
    "firestore.googleapis.com",           # the store
    "secretmanager.googleapis.com",       # OAuth client secret, state key, token key
    "iam.googleapis.com",                 # service accounts
    "iamcredentials.googleapis.com",      # OIDC tokens for Pub/Sub push and Scheduler
    "logging.googleapis.com",             # log-based metrics
    "monitoring.googleapis.com",          # alert policies
    "storage.googleapis.com",             # source bucket
    "calendar-json.googleapis.com",       # Google Calendar API called with users' tokens
    "cloudresourcemanager.googleapis.com" # project IAM bindings
  ])
}

resource "google_project_service" "enabled" {
  for_each = local.services

  service            = each.value
  disable_on_destroy = false
}
