# Log-based metrics over the functions' structured logs (jsonPayload.event, see
# shared/logging) and the Cloud Run request logs of Slots and Book, and the alert policies
# documented in docs/alerts.md. Each policy carries user_labels.alert = <id>; scripts/tfcheck
# requires every id: dead-letter, sync-failure-rate, channels-expired, reauth-required,
# http-5xx-rate, http-p95-latency.

locals {
  # Logs of gen2 functions are Cloud Run revision logs.
  fn_logs = "resource.type=\"cloud_run_revision\""

  event_metrics = {
    sync_done = {
      event       = "sync.done"
      description = "SyncCalendar finished a sync (outcome ok|retry|failed_permanent|error|reauth_required|skipped)."
      labels      = { outcome = "outcome", error_class = "errorClass" }
    }
    renew_channel = {
      event       = "renew.channel"
      description = "RenewChannels replaced a watch channel (outcome ok|error)."
      labels      = { outcome = "outcome" }
    }
    renew_expired_unrenewed = {
      event       = "renew.expired_unrenewed"
      description = "RenewChannels found a watch channel already past its expiry (pushes were lost)."
      labels      = {}
    }
    export_done = {
      event       = "export.done"
      description = "ExportBooking handled a booking (outcome ok|retry|error)."
      labels      = { outcome = "outcome" }
    }
    webhook_notification = {
      event       = "webhook.notification"
      description = "CalendarWebhook decided on a push (outcome published|sync|ignored|rejected|failed)."
      labels      = { outcome = "outcome" }
    }
    connection_status_changed = {
      event       = "connection.status_changed"
      description = "A connection changed status (status reauth_required|revoked)."
      labels      = { status = "status" }
    }
  }

  # Cloud Run request logs of the public booking endpoints.
  request_log_filter = join(" AND ", [
    local.fn_logs,
    "log_name=\"projects/${var.project_id}/logs/run.googleapis.com%2Frequests\"",
    "resource.labels.service_name=(\"slots\" OR \"book\")",
  ])

  alerts_doc = "See docs/alerts.md in the calsync repository"
}

resource "google_logging_metric" "event" {
  for_each = local.event_metrics

  name        = "calsync/${each.key}"
  description = each.value.description
  filter      = "${local.fn_logs} AND jsonPayload.event=\"${each.value.event}\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"

    dynamic "labels" {
      for_each = each.value.labels
      content {
        key        = labels.key
        value_type = "STRING"
      }
    }
  }

  label_extractors = { for k, field in each.value.labels : k => "EXTRACT(jsonPayload.${field})" }

  depends_on = [google_project_service.enabled]
}

resource "google_logging_metric" "http_requests" {
  name        = "calsync/http_requests"
  description = "Requests to Slots and Book (Cloud Run request logs), by service and status class."
  filter      = local.request_log_filter

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key        = "service"
      value_type = "STRING"
    }
    labels {
      key        = "status_class"
      value_type = "STRING"
    }
  }

  label_extractors = {
    service      = "EXTRACT(resource.labels.service_name)"
    status_class = "REGEXP_EXTRACT(httpRequest.status, \"^([1-5])[0-9][0-9]$\")"
  }

  depends_on = [google_project_service.enabled]
}

resource "google_logging_metric" "http_latency" {
  name            = "calsync/http_latency"
  description     = "Latency of Slots and Book requests in seconds (Cloud Run request logs)."
  filter          = local.request_log_filter
  value_extractor = "REGEXP_EXTRACT(httpRequest.latency, \"^([0-9.]+)s$\")"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "DISTRIBUTION"
    unit        = "s"
    labels {
      key        = "service"
      value_type = "STRING"
    }
  }

  label_extractors = {
    service = "EXTRACT(resource.labels.service_name)"
  }

  # 10 ms .. ~30 min in 30 exponential buckets.
  bucket_options {
    exponential_buckets {
      num_finite_buckets = 30
      growth_factor      = 1.5
      scale              = 0.01
    }
  }

  depends_on = [google_project_service.enabled]
}

# Cloud Monitoring answers 404 ("Cannot find metric(s) ... could take up to 10 minutes to
# become available") when an alert policy refers to a log-based metric created moments
# before (hashicorp/terraform-provider-google#11102). The policies wait for this sleep,
# which starts once every metric exists; it runs on create only, so later applies do not
# wait. If Google is slower than var.metric_propagation_wait, the apply fails on the
# policies with that 404 and a second `terraform apply` completes (docs/deploy.md).
resource "time_sleep" "log_metrics" {
  create_duration = var.metric_propagation_wait

  triggers = {
    metrics = join(",", concat([for m in google_logging_metric.event : m.id], [google_logging_metric.http_requests.id, google_logging_metric.http_latency.id]))
  }
}

resource "google_monitoring_notification_channel" "email" {
  display_name = "calsync alerts (${var.alert_email})"
  type         = "email"
  labels = {
    email_address = var.alert_email
  }

  depends_on = [google_project_service.enabled]
}

# --- Alert policies --------------------------------------------------------------------

resource "google_monitoring_alert_policy" "dead_letter" {
  display_name = "calsync: messages in a dead-letter topic"
  combiner     = "OR"
  severity     = "ERROR"
  user_labels  = { system = "calsync", alert = "dead-letter" }

  conditions {
    display_name = "undelivered messages in a *-dead-letter-inspect subscription"
    condition_threshold {
      filter          = "resource.type=\"pubsub_subscription\" AND metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.labels.subscription_id=one_of(${join(", ", [for t in keys(local.topics) : "\"${t}-dead-letter-inspect\""])})"
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "60s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
      trigger {
        count = 1
      }
    }
  }

  notification_channels = [google_monitoring_notification_channel.email.id]
  alert_strategy {
    auto_close = "86400s"
  }
  documentation {
    mime_type = "text/markdown"
    subject   = "calsync: dead-lettered messages in $${resource.label.subscription_id}"
    content   = "Messages failed 10 deliveries and were dead-lettered. ${local.alerts_doc}, section \"dead-letter\": inspect with `gcloud pubsub subscriptions pull <subscription> --limit=10` (without --auto-ack), fix the cause, then replay (docs/runbook.md)."
  }

  depends_on = [google_pubsub_subscription.dead_letter_inspect]
}

resource "google_monitoring_alert_policy" "sync_failure_rate" {
  display_name = "calsync: sync failure rate above ${var.sync_failure_rate_threshold * 100}%"
  combiner     = "OR"
  severity     = "ERROR"
  user_labels  = { system = "calsync", alert = "sync-failure-rate" }

  conditions {
    display_name = "share of sync.done that failed (error, retry, failed_permanent) over 15 min"
    condition_threshold {
      filter             = "resource.type=\"cloud_run_revision\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.event["sync_done"].name}\" AND metric.labels.outcome=one_of(\"error\", \"retry\", \"failed_permanent\")"
      denominator_filter = "resource.type=\"cloud_run_revision\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.event["sync_done"].name}\" AND metric.labels.outcome=one_of(\"ok\", \"error\", \"retry\", \"failed_permanent\", \"reauth_required\")"
      comparison         = "COMPARISON_GT"
      threshold_value    = var.sync_failure_rate_threshold
      duration           = "0s"
      aggregations {
        alignment_period     = "900s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }
      denominator_aggregations {
        alignment_period     = "900s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }
      trigger {
        count = 1
      }
    }
  }

  notification_channels = [google_monitoring_notification_channel.email.id]
  alert_strategy {
    auto_close = "3600s"
  }
  documentation {
    mime_type = "text/markdown"
    content   = "More than ${var.sync_failure_rate_threshold * 100}% of calendar syncs failed in 15 minutes. ${local.alerts_doc}, section \"sync-failure-rate\": group the sync.done errors by errorClass in Logs Explorer."
  }

  depends_on = [time_sleep.log_metrics]
}

# Alerts that fire when a log event occurs at all: one policy each, same shape.
locals {
  event_alerts = {
    "channels-expired" = {
      display_name = "calsync: watch channels past expiry not renewed"
      condition    = "renew.expired_unrenewed events"
      filter       = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.event["renew_expired_unrenewed"].name}\""
      period       = "600s"
      content      = "RenewChannels found watch channels that had expired before they were replaced: pushes were lost for those calendars until the safety-net sync. ${local.alerts_doc}, section \"channels-expired\"."
    }
    "reauth-required" = {
      display_name = "calsync: connections need re-authorisation"
      condition    = "connection.status_changed to reauth_required"
      filter       = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.event["connection_status_changed"].name}\" AND metric.labels.status=\"reauth_required\""
      period       = "300s"
      content      = "At least one Google connection lost its grant (revoked, password change, 7-day testing-mode token). Sync for it is paused until the staff member reconnects. ${local.alerts_doc}, section \"reauth-required\"."
    }
  }
}

resource "google_monitoring_alert_policy" "event" {
  for_each = local.event_alerts

  display_name = each.value.display_name
  combiner     = "OR"
  severity     = "WARNING"
  user_labels  = { system = "calsync", alert = each.key }

  conditions {
    display_name = each.value.condition
    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND ${each.value.filter}"
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = each.value.period
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }
      trigger {
        count = 1
      }
    }
  }

  notification_channels = [google_monitoring_notification_channel.email.id]
  alert_strategy {
    auto_close = "3600s"
  }
  documentation {
    mime_type = "text/markdown"
    content   = each.value.content
  }

  depends_on = [time_sleep.log_metrics]
}

resource "google_monitoring_alert_policy" "http_5xx_rate" {
  display_name = "calsync: Slots/Book 5xx rate above ${var.http_5xx_rate_threshold * 100}%"
  combiner     = "OR"
  severity     = "CRITICAL"
  user_labels  = { system = "calsync", alert = "http-5xx-rate" }

  conditions {
    display_name = "share of 5xx responses per service over 5 min"
    condition_threshold {
      filter             = "resource.type=\"cloud_run_revision\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.http_requests.name}\" AND metric.labels.status_class=\"5\""
      denominator_filter = "resource.type=\"cloud_run_revision\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.http_requests.name}\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.http_5xx_rate_threshold
      duration           = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.service"]
      }
      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.service"]
      }
      trigger {
        count = 1
      }
    }
  }

  notification_channels = [google_monitoring_notification_channel.email.id]
  alert_strategy {
    auto_close = "1800s"
  }
  documentation {
    mime_type = "text/markdown"
    content   = "The booking widget's endpoints are failing: customers cannot see times or book. ${local.alerts_doc}, section \"http-5xx-rate\"."
  }

  depends_on = [time_sleep.log_metrics]
}

resource "google_monitoring_alert_policy" "http_p95_latency" {
  display_name = "calsync: Slots/Book p95 latency above ${var.http_p95_latency_ms} ms"
  combiner     = "OR"
  severity     = "WARNING"
  user_labels  = { system = "calsync", alert = "http-p95-latency" }

  conditions {
    display_name = "p95 request latency per service over 5 min"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.http_latency.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.http_p95_latency_ms / 1000
      duration        = "300s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_95"
        group_by_fields      = ["metric.label.service"]
      }
      trigger {
        count = 1
      }
    }
  }

  notification_channels = [google_monitoring_notification_channel.email.id]
  alert_strategy {
    auto_close = "1800s"
  }
  documentation {
    mime_type = "text/markdown"
    content   = "Slots or Book answer slowly (p95 above ${var.http_p95_latency_ms} ms for 10 minutes). ${local.alerts_doc}, section \"http-p95-latency\"."
  }

  depends_on = [time_sleep.log_metrics]
}
