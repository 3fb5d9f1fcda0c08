output "oauth_redirect_uri" {
  description = "Authorised redirect URI to enter in the OAuth client (Google Cloud console > Credentials)."
  value       = local.oauth_redirect_url
}

output "webhook_url" {
  description = "Address Google push notifications are sent to (events.watch); WEBHOOK_URL of the functions."
  value       = local.webhook_url
}

output "slots_url" {
  description = "Slots endpoint for the booking widget."
  value       = google_cloudfunctions2_function.fn["slots"].url
}

output "book_url" {
  description = "Book endpoint for the booking widget."
  value       = google_cloudfunctions2_function.fn["book"].url
}

output "manage_url" {
  description = "Manage endpoint for the booking backend (call with an ID token of backend_service_account, audience = this URL)."
  value       = google_cloudfunctions2_function.fn["manage"].url
}

output "function_urls" {
  description = "Every function's URL, by folder name."
  value       = { for k, f in google_cloudfunctions2_function.fn : k => f.url }
}

output "service_accounts" {
  description = "Runtime service account of each function, by folder name."
  value       = { for k, sa in google_service_account.fn : k => sa.email }
}

output "dead_letter_inspect_subscriptions" {
  description = "Pull subscriptions holding dead-lettered messages, by source topic (docs/runbook.md: replay)."
  value       = { for t, s in google_pubsub_subscription.dead_letter_inspect : t => s.id }
}

output "source_bucket" {
  description = "Bucket holding the deploy archives."
  value       = google_storage_bucket.sources.name
}
