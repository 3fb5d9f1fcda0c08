# Logs in the EU. A project's _Default log bucket lives where the organisation's default
# storage location said when the project was created, often "global", and a bucket's
# location can never change. So the functions' logs go to a bucket of our own in the
# region, and the _Default sink (which Terraform takes over rather than creates, see
# docs/deploy.md) routes there instead of to the _Default bucket. The _Required bucket
# (admin-activity and system-event audit logs) cannot be re-routed; docs/deploy.md says what
# that means. scripts/tfcheck fails if this bucket or the sink's destination is outside the
# EU.
resource "google_logging_project_bucket_config" "eu" {
  project        = var.project_id
  location       = var.region
  bucket_id      = "calsync-eu"
  retention_days = var.log_retention_days
  description    = "calsync logs, kept in the EU (the _Default sink routes here)."

  depends_on = [google_project_service.enabled]
}

resource "google_logging_project_sink" "default" {
  project     = var.project_id
  name        = "_Default"
  destination = "logging.googleapis.com/projects/${var.project_id}/locations/${var.region}/buckets/${google_logging_project_bucket_config.eu.bucket_id}"
  # The _Default sink's own filter: everything except what the _Required sink keeps.
  filter = join(" AND ", [
    "NOT LOG_ID(\"cloudaudit.googleapis.com/activity\")",
    "NOT LOG_ID(\"externalaudit.googleapis.com/activity\")",
    "NOT LOG_ID(\"cloudaudit.googleapis.com/system_event\")",
    "NOT LOG_ID(\"externalaudit.googleapis.com/system_event\")",
    "NOT LOG_ID(\"cloudaudit.googleapis.com/access_transparency\")",
    "NOT LOG_ID(\"externalaudit.googleapis.com/access_transparency\")",
  ])
  unique_writer_identity = true
}
