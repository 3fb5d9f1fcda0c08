# The renewal tick. A Cloud Scheduler Pub/Sub target always publishes as the Scheduler
# service agent; to give the job its own identity with publisher on renew-channels only, it
# calls the Pub/Sub publish REST method with an OAuth token of its own service account.
resource "google_cloud_scheduler_job" "renew_channels_tick" {
  name        = "renew-channels-tick"
  region      = var.region
  description = "Every 5 minutes: ask RenewChannels to replace watch channels close to expiry."
  schedule    = "*/5 * * * *"
  time_zone   = "Etc/UTC"

  # A missed tick is harmless: the next one comes 5 minutes later.
  attempt_deadline = "30s"
  retry_config {
    retry_count = 1
  }

  http_target {
    http_method = "POST"
    uri         = "https://pubsub.googleapis.com/v1/${google_pubsub_topic.work["renew-channels"].id}:publish"
    headers = {
      "Content-Type" = "application/json"
    }
    body = base64encode(jsonencode({
      messages = [{
        data       = base64encode(jsonencode({ reason = "tick" }))
        attributes = { source = "renew-channels-tick" }
      }]
    }))

    oauth_token {
      service_account_email = google_service_account.scheduler.email
      scope                 = "https://www.googleapis.com/auth/pubsub"
    }
  }

  depends_on = [google_pubsub_topic_iam_member.scheduler_publish]
}
