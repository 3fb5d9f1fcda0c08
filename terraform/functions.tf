# The eight Cloud Functions (2nd gen). Keys are the folders under functions/ (and the
# archive names of `make package`); values are the entry point, the sizing and what the
# function may touch. The last part (firestore, public, secrets, publishes) mirrors the
# declaration in shared/topology/access.go, which the code enforces locally;
# scripts/tfcheck fails when the planned IAM grants differ from that declaration in either
# direction, so the two cannot drift apart.
#
# Sizing, in short (docs/deploy.md has the long form):
# - concurrency > 1 needs at least 1 vCPU on gen2, so the HTTP functions get cpu "1".
# - Pub/Sub consumers run one message per instance (concurrency 1): a sync holds one
#   user's Google quota and Firestore transactions; scaling is by instances, and
#   max_instances caps the load we put on Google's per-project quota. They wait on
#   Google and Firestore most of the time, so they get half a vCPU (allowed only with
#   concurrency 1 and at most 1 GiB; scripts/tfcheck's function-sizing rule holds every
#   function to Cloud Run's limits), which halves what their compute is billed.
# - min_instances 1 only where a human or Google waits on the answer and a cold start
#   hurts: the webhook (Google expects a fast 200), Slots and Book (the booking widget).
locals {
  functions = {
    manage = {
      entry_point = "Manage"
      kind        = "http"
      topic       = null
      # Called by the booking backend for staff screens; a cold start there is acceptable.
      memory        = "512Mi"
      cpu           = "1"
      timeout       = 60 # lists events/calendars live from Google: a few round trips
      min_instances = 0
      max_instances = 10
      concurrency   = 40
      firestore     = "read-write"
      public        = false
      secrets       = ["oauth-client-secret", "state-key", "token-key"]
      publishes     = ["calendar-sync", "calendar-export"] # selection changes, staff bookings
    }
    oauthcallback = {
      entry_point = "OAuthCallback"
      kind        = "http"
      topic       = null
      # One request per "connect calendar" click: rare, small.
      memory        = "256Mi"
      cpu           = "1"
      timeout       = 60 # token exchange + calendar list + first watch channels
      min_instances = 0
      max_instances = 5
      concurrency   = 40
      firestore     = "read-write"
      public        = true
      secrets       = ["oauth-client-secret", "state-key", "token-key"]
      publishes     = ["calendar-sync", "calendar-export"] # first syncs; exports that waited for a connection
    }
    calendarwebhook = {
      entry_point = "CalendarWebhook"
      kind        = "http"
      topic       = null
      # Google pushes and expects a quick 2xx; the handler only looks up the channel and
      # publishes, so one warm instance serves many concurrent pushes.
      memory        = "256Mi"
      cpu           = "1"
      timeout       = 10
      min_instances = 1
      max_instances = 20
      concurrency   = 80
      firestore     = "read"
      public        = true
      secrets       = []
      publishes     = ["calendar-sync"]
    }
    synccalendar = {
      entry_point = "SyncCalendar"
      kind        = "pubsub"
      topic       = "calendar-sync"
      # A full sync pages through up to 13 months of events: long timeout, one at a time.
      memory        = "512Mi"
      cpu           = "0.5"
      timeout       = 540
      min_instances = 0
      max_instances = 20
      concurrency   = 1
      firestore     = "read-write"
      public        = false
      secrets       = ["oauth-client-secret", "token-key"]
      publishes     = ["calendar-sync", "calendar-sync-dead-letter"] # hand-over after MaxLoops; poison messages
    }
    renewchannels = {
      entry_point = "RenewChannels"
      kind        = "pubsub"
      topic       = "renew-channels"
      # The tick fans out one message per connection; each replaces a few channels.
      memory        = "256Mi"
      cpu           = "0.5"
      timeout       = 300
      min_instances = 0
      max_instances = 10
      concurrency   = 1
      firestore     = "read-write"
      public        = false
      secrets       = ["oauth-client-secret", "token-key"]
      publishes     = ["renew-channels", "calendar-sync", "calendar-export", "renew-channels-dead-letter"] # fan-out, safety-net syncs, stalled exports
    }
    slots = {
      entry_point = "Slots"
      kind        = "http"
      topic       = null
      # Read-only availability for the widget: warm instance, many concurrent reads.
      memory        = "512Mi"
      cpu           = "1"
      timeout       = 30
      min_instances = 1
      max_instances = 50
      concurrency   = 80
      firestore     = "read"
      public        = true
      secrets       = []
      publishes     = []
    }
    book = {
      entry_point = "Book"
      kind        = "http"
      topic       = null
      # The moment a customer books: keep one warm instance so it never waits on a cold start.
      memory        = "256Mi"
      cpu           = "1"
      timeout       = 30
      min_instances = 1
      max_instances = 20
      concurrency   = 40 # each request runs a Firestore transaction; contention stays per slot
      firestore     = "read-write"
      public        = true
      secrets       = []
      publishes     = ["calendar-export"]
    }
    exportbooking = {
      entry_point = "ExportBooking"
      kind        = "pubsub"
      topic       = "calendar-export"
      # One Google events.insert/patch/delete per message.
      memory        = "256Mi"
      cpu           = "0.5"
      timeout       = 120
      min_instances = 0
      max_instances = 10
      concurrency   = 1
      firestore     = "read-write"
      public        = false
      secrets       = ["oauth-client-secret", "token-key"]
      publishes     = ["calendar-export-dead-letter"] # poison messages
    }
  }

  # Public URLs are deterministic for gen2 functions, which lets OAuthCallback and the
  # webhook receive their own URLs without a dependency cycle.
  function_base_url  = "https://${var.region}-${var.project_id}.cloudfunctions.net"
  oauth_redirect_url = "${local.function_base_url}/oauthcallback"
  webhook_url        = var.webhook_url != "" ? var.webhook_url : "${local.function_base_url}/calendarwebhook"

  common_env = {
    GOOGLE_CLOUD_PROJECT = var.project_id
    SECRETS_PROJECT      = var.project_id
    OAUTH_CLIENT_ID      = var.oauth_client_id
    OAUTH_REDIRECT_URL   = local.oauth_redirect_url
    WEBHOOK_URL          = local.webhook_url
    ALLOWED_RETURN_URLS  = join(",", var.allowed_return_urls)
    WIDGET_ORIGINS       = join(",", var.widget_origins)
  }

  # Sizing after var.function_tuning overrides.
  sizing = {
    for k, f in local.functions : k => {
      memory        = coalesce(try(var.function_tuning[k].memory, null), f.memory)
      cpu           = coalesce(try(var.function_tuning[k].cpu, null), f.cpu)
      timeout       = coalesce(try(var.function_tuning[k].timeout_seconds, null), f.timeout)
      min_instances = coalesce(try(var.function_tuning[k].min_instances, null), f.min_instances)
      max_instances = coalesce(try(var.function_tuning[k].max_instances, null), f.max_instances)
      concurrency   = coalesce(try(var.function_tuning[k].concurrency, null), f.concurrency)
    }
  }
}

resource "google_cloudfunctions2_function" "fn" {
  for_each = local.functions

  name        = each.key
  location    = var.region
  description = "calsync ${each.value.entry_point} (${each.value.kind})"

  build_config {
    runtime           = "go126"
    entry_point       = each.value.entry_point
    docker_repository = google_artifact_registry_repository.functions.id
    # Spelled out (not .id) so the plan knows it and tfcheck can check the account.
    service_account = "projects/${var.project_id}/serviceAccounts/${google_service_account.builder.email}"

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.source[each.key].name
      }
    }
  }

  service_config {
    available_memory                 = local.sizing[each.key].memory
    available_cpu                    = local.sizing[each.key].cpu
    timeout_seconds                  = local.sizing[each.key].timeout
    min_instance_count               = local.sizing[each.key].min_instances
    max_instance_count               = local.sizing[each.key].max_instances
    max_instance_request_concurrency = local.sizing[each.key].concurrency
    service_account_email            = google_service_account.fn[each.key].email
    # Public HTTP functions must be reachable by browsers and Google, Manage by the booking
    # backend (IAM-protected). The Pub/Sub consumers accept internal traffic only: Pub/Sub
    # push from the same project counts as internal for Cloud Run ingress (docs/deploy.md),
    # and IAM (run.invoker for pubsub-push@ only) still applies on top.
    ingress_settings               = each.value.kind == "pubsub" ? "ALLOW_INTERNAL_ONLY" : "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    environment_variables          = local.common_env
  }

  # Pub/Sub consumers are delivered to by the push subscriptions in pubsub.tf (not by an
  # event_trigger): the subscription Eventarc creates for an event_trigger cannot be given a
  # dead-letter policy from Terraform (hashicorp/terraform-provider-google#25069), and
  # dead-lettering is a requirement here.

  depends_on = [
    google_project_service.enabled,
    google_project_iam_member.builder,
    google_artifact_registry_repository_iam_member.builder,
    google_secret_manager_secret_iam_member.access,
  ]
}
