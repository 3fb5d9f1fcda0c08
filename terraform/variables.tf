# Google Cloud regions inside the European Union. Not every europe-* region is: London
# (europe-west2) and Zurich (europe-west6) are outside the EU.
locals {
  eu_regions = [
    "europe-central2", "europe-north1", "europe-north2", "europe-southwest1", "europe-west1",
    "europe-west3", "europe-west4", "europe-west8", "europe-west9", "europe-west10", "europe-west12",
  ]
}

variable "project_id" {
  type        = string
  description = "Google Cloud project id everything is deployed into (also GOOGLE_CLOUD_PROJECT and SECRETS_PROJECT of the functions)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id (6-30 characters: lower-case letters, digits, hyphens)."
  }
}

variable "region" {
  type        = string
  description = "Region of the functions, Pub/Sub push endpoints, Cloud Scheduler, the source bucket and the Artifact Registry repository. EU regions only (data residency promise)."
  default     = "europe-west3"

  validation {
    condition     = contains(local.eu_regions, var.region)
    error_message = "region must be a Google Cloud region inside the EU (e.g. europe-west3, Frankfurt); europe-west2 (London) and europe-west6 (Zurich) are not in the EU."
  }
}

variable "firestore_location" {
  type        = string
  description = "Location of the Firestore (default) database: the EU multi-region eur3 (default) or a single EU region."
  default     = "eur3"

  validation {
    condition     = var.firestore_location == "eur3" || contains(local.eu_regions, var.firestore_location)
    error_message = "firestore_location must be eur3 or a Google Cloud region inside the EU."
  }
}

variable "secret_replica_locations" {
  type        = list(string)
  description = "Secret Manager user-managed replica locations. EU regions only; never automatic replication."
  default     = ["europe-west3", "europe-west1"]

  validation {
    condition     = length(var.secret_replica_locations) > 0 && alltrue([for l in var.secret_replica_locations : contains(local.eu_regions, l)])
    error_message = "secret_replica_locations must be a non-empty list of Google Cloud regions inside the EU."
  }
}

variable "oauth_client_id" {
  type        = string
  description = "OAuth 2.0 client id (web application) created in the Google Cloud console, see docs/deploy.md. Its secret goes into the oauth-client-secret secret, never into Terraform."

  validation {
    condition     = endswith(var.oauth_client_id, ".apps.googleusercontent.com")
    error_message = "oauth_client_id must end in .apps.googleusercontent.com."
  }
}

variable "widget_origins" {
  type        = list(string)
  description = "Origins (scheme://host[:port]) of the booking widget allowed by CORS on Slots and Book (WIDGET_ORIGINS). Required: with none, browsers cannot call Slots and Book."

  validation {
    condition     = length(var.widget_origins) > 0
    error_message = "widget_origins must name at least one origin of the booking widget, e.g. [\"https://booking.example.com\"]."
  }

  validation {
    condition     = alltrue([for o in var.widget_origins : can(regex("^https://[^/]+$", o))])
    error_message = "widget_origins must be https origins without a path, e.g. https://booking.example.com."
  }
}

variable "allowed_return_urls" {
  type        = list(string)
  description = "URL prefixes the OAuth flow may redirect back to after connecting a calendar (ALLOWED_RETURN_URLS). Required: with none, Manage and OAuthCallback refuse every connect flow."

  validation {
    condition     = length(var.allowed_return_urls) > 0
    error_message = "allowed_return_urls must name at least one https URL prefix of the settings page, e.g. [\"https://app.example.com/settings/calendar\"]."
  }

  validation {
    condition     = alltrue([for u in var.allowed_return_urls : startswith(u, "https://")])
    error_message = "allowed_return_urls must be https URLs."
  }
}

variable "backend_service_account" {
  type        = string
  description = "E-mail of the booking backend's service account: the only principal allowed to invoke Manage."

  validation {
    condition     = can(regex("^[a-z0-9-]+@[a-z0-9.-]+\\.iam\\.gserviceaccount\\.com$", var.backend_service_account))
    error_message = "backend_service_account must be a service account e-mail (…@….iam.gserviceaccount.com)."
  }
}

variable "alert_email" {
  type        = string
  description = "E-mail address that receives the alert notifications (Cloud Monitoring notification channel)."

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be an e-mail address."
  }
}

variable "package_dir" {
  type        = string
  description = "Directory holding the per-function deploy archives <folder>.zip written by `make package` (relative to this module)."
  default     = "../dist/functions"
}

variable "webhook_url" {
  type        = string
  description = "Public URL Google push notifications are sent to (WEBHOOK_URL). Empty: the CalendarWebhook function's own https://REGION-PROJECT.cloudfunctions.net URL. Set it when the webhook is served from a custom domain (docs/deploy.md)."
  default     = ""

  validation {
    condition     = var.webhook_url == "" || startswith(var.webhook_url, "https://")
    error_message = "webhook_url must be empty or an https URL."
  }
}

variable "sync_failure_rate_threshold" {
  type        = number
  description = "Alert when the share of sync.done events with outcome=error over 15 minutes exceeds this ratio (0..1)."
  default     = 0.2

  validation {
    condition     = var.sync_failure_rate_threshold > 0 && var.sync_failure_rate_threshold < 1
    error_message = "sync_failure_rate_threshold must be between 0 and 1."
  }
}

variable "http_5xx_rate_threshold" {
  type        = number
  description = "Alert when the share of 5xx responses of Slots or Book over 5 minutes exceeds this ratio (0..1)."
  default     = 0.02

  validation {
    condition     = var.http_5xx_rate_threshold > 0 && var.http_5xx_rate_threshold < 1
    error_message = "http_5xx_rate_threshold must be between 0 and 1."
  }
}

variable "http_p95_latency_ms" {
  type        = number
  description = "Alert when the p95 latency of Slots or Book over 5 minutes exceeds this many milliseconds."
  default     = 1500
}

variable "function_tuning" {
  type = map(object({
    memory          = optional(string)
    cpu             = optional(string)
    timeout_seconds = optional(number)
    min_instances   = optional(number)
    max_instances   = optional(number)
    concurrency     = optional(number)
  }))
  description = "Per-function overrides of the sizing chosen in functions.tf, keyed by folder name (e.g. { slots = { min_instances = 2 } })."
  default     = {}

  validation {
    condition = alltrue([for k in keys(var.function_tuning) : contains(
      ["manage", "oauthcallback", "calendarwebhook", "synccalendar", "renewchannels", "slots", "book", "exportbooking"], k
    )])
    error_message = "function_tuning keys must be function folder names (manage, oauthcallback, calendarwebhook, synccalendar, renewchannels, slots, book, exportbooking)."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days the calsync-eu log bucket keeps log entries (1..3650)."
  default     = 30

  validation {
    condition     = var.log_retention_days >= 1 && var.log_retention_days <= 3650
    error_message = "log_retention_days must be between 1 and 3650."
  }
}

variable "metric_propagation_wait" {
  type        = string
  description = "How long the first apply waits between creating the log-based metrics and the alert policies that use them (Cloud Monitoring answers 404 for a freshly created metric for up to about 10 minutes)."
  default     = "5m"

  validation {
    condition     = can(regex("^[0-9]+[sm]$", var.metric_propagation_wait))
    error_message = "metric_propagation_wait must be a duration like 300s or 5m."
  }
}
