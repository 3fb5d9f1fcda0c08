# Work queues. Each topic T is consumed by exactly one function through a push subscription
# T-push (authenticated with an OIDC token of the pubsub-push service account), with an
# exponential retry policy and a dead-letter policy to T-dead-letter after 10 attempts; a
# pull subscription T-dead-letter-inspect keeps dead messages 7 days for inspection and
# replay (docs/alerts.md, docs/runbook.md). Mirrors shared/topology (the local stack).
locals {
  topics = {
    "calendar-sync"   = "synccalendar"
    "calendar-export" = "exportbooking"
    "renew-channels"  = "renewchannels"
  }
  max_delivery_attempts = 10
}

# Read after the APIs are enabled; on a new project (and in the offline plan check) this
# defers the read to apply time.
data "google_project" "this" {
  project_id = var.project_id

  depends_on = [google_project_service.enabled]
}

locals {
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

# Every topic by name, for the per-function publish grants (iam.tf).
locals {
  all_topics = merge(
    { for k, t in google_pubsub_topic.work : k => t.name },
    { for k, t in google_pubsub_topic.dead_letter : "${k}-dead-letter" => t.name },
  )
}

resource "google_pubsub_topic" "work" {
  for_each = local.topics

  name                       = each.key
  message_retention_duration = "86400s"

  # Messages are stored only in the EU.
  message_storage_policy {
    allowed_persistence_regions = [var.region]
  }

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = local.topics

  name                       = "${each.key}-dead-letter"
  message_retention_duration = "604800s"

  message_storage_policy {
    allowed_persistence_regions = [var.region]
  }

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_subscription" "push" {
  for_each = local.topics

  name  = "${each.key}-push"
  topic = google_pubsub_topic.work[each.key].id

  # At least the function's timeout, so a message is not redelivered while still running.
  ack_deadline_seconds       = min(600, max(60, local.sizing[each.value].timeout + 30))
  message_retention_duration = "86400s"

  push_config {
    # functions-framework turns a raw Pub/Sub push into the CloudEvent the function expects
    # when the path names the topic.
    push_endpoint = "${google_cloudfunctions2_function.fn[each.value].service_config[0].uri}/projects/${var.project_id}/topics/${each.key}"

    oidc_token {
      service_account_email = google_service_account.pubsub_push.email
      audience              = google_cloudfunctions2_function.fn[each.value].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.key].id
    max_delivery_attempts = local.max_delivery_attempts
  }

  expiration_policy {
    ttl = "" # never expire
  }

  depends_on = [
    google_pubsub_topic_iam_member.dead_letter_publisher,
    google_cloud_run_v2_service_iam_member.push_invoker,
  ]
}

resource "google_pubsub_subscription" "dead_letter_inspect" {
  for_each = local.topics

  name                       = "${each.key}-dead-letter-inspect"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s" # 7 days
  retain_acked_messages      = true      # replayable by seek after a mistaken ack

  expiration_policy {
    ttl = ""
  }
}

# Dead-lettering after max_delivery_attempts is done by the Pub/Sub service agent: it must
# publish to the dead-letter topic and be able to ack (subscribe to) the source subscription.
# A consumer that recognises a poison message copies it there itself (iam.tf grants it
# publisher on its own dead-letter topic only) and acknowledges it.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.topics

  topic  = google_pubsub_topic.dead_letter[each.key].name
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each = local.topics

  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}
