# Firestore (default) database in the EU, plus the indexes the code queries with and the TTL
# policy for OAuth states.
resource "google_firestore_database" "default" {
  name                              = "(default)"
  location_id                       = var.firestore_location
  type                              = "FIRESTORE_NATIVE"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  # Keep the data if this module is destroyed; deleting the store is a manual decision.
  deletion_policy = "ABANDON"

  depends_on = [google_project_service.enabled]
}

# Pending OAuth states expire on their own (Firestore TTL deletes within ~24 h of expireAt;
# the code also rejects expired states). TTL fields are exempted from indexing.
resource "google_firestore_field" "oauth_states_ttl" {
  database   = google_firestore_database.default.name
  collection = "oauthStates"
  field      = "expireAt"

  ttl_config {}
  index_config {}
}

# Booking lock days are needed only while their day can be booked (shared/booking sets
# expireAt two days after the day); TTL removes them.
resource "google_firestore_field" "booking_locks_ttl" {
  database   = google_firestore_database.default.name
  collection = "bookingLocks"
  field      = "expireAt"

  ttl_config {}
  index_config {}
}

# Booking quota counters (tenants/{t}/bookingQuota/…) are deleted a day after their window
# ends; nothing ever queries them, so they are exempted from indexing.
resource "google_firestore_field" "booking_quota_ttl" {
  database   = google_firestore_database.default.name
  collection = "bookingQuota"
  field      = "expireAt"

  ttl_config {}
  index_config {}
}

# Collection-group queries across all tenants: channels close to expiry (RenewChannels),
# calendars due a safety sync, connections by status. Each field keeps an ascending
# collection-scope index as well, for per-parent queries.
locals {
  collection_group_fields = {
    "calendars-channelExpiry" = { collection = "calendars", field = "channelExpiry" }
    "calendars-lastSyncAt"    = { collection = "calendars", field = "lastSyncAt" }
    "connections-status"      = { collection = "connections", field = "status" }
    # Data lifecycle (shared/retention, shared/erasure, shared/connect's revoke rule).
    "bookings-scrubAt"           = { collection = "bookings", field = "scrubAt" }
    "bookings-customerEmailHash" = { collection = "bookings", field = "customerEmailHash" }
    "connections-subject"        = { collection = "connections", field = "subject" }
  }
}

resource "google_firestore_field" "collection_group" {
  for_each = local.collection_group_fields

  database   = google_firestore_database.default.name
  collection = each.value.collection
  field      = each.value.field

  index_config {
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION_GROUP"
    }
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION"
    }
  }
}

# Bookings of a staff member by status in time order (Slots' busy times, Manage's list).
resource "google_firestore_index" "bookings_status_start" {
  database    = google_firestore_database.default.name
  collection  = "bookings"
  query_scope = "COLLECTION"

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
  fields {
    field_path = "start"
    order      = "ASCENDING"
  }
}

# RenewChannels' tick (shared/renewal): selected calendars whose channel expires soon, that
# have not synced or fully resynced for a while, active connections due a calendar-list
# pass, and bookings whose export is still pending. Equality plus range across all tenants needs composite collection-group indexes.
locals {
  renewal_indexes = {
    "calendars-selected-channelExpiry"  = { collection = "calendars", eq = "selected", range = "channelExpiry" }
    "calendars-selected-lastSyncAt"     = { collection = "calendars", eq = "selected", range = "lastSyncAt" }
    "calendars-selected-lastFullSyncAt" = { collection = "calendars", eq = "selected", range = "lastFullSyncAt" }
    "connections-status-lastListSyncAt" = { collection = "connections", eq = "status", range = "lastListSyncAt" }
    "bookings-exportState-updatedAt"    = { collection = "bookings", eq = "exportState", range = "updatedAt" }
  }
}

resource "google_firestore_index" "renewal" {
  for_each = local.renewal_indexes

  database    = google_firestore_database.default.name
  collection  = each.value.collection
  query_scope = "COLLECTION_GROUP"

  fields {
    field_path = each.value.eq
    order      = "ASCENDING"
  }
  fields {
    field_path = each.value.range
    order      = "ASCENDING"
  }
}

# RenewChannels' tick: selected calendars in polling mode (Google cannot watch them:
# holidays, birthdays, week numbers) whose last sync is older than POLL_INTERVAL
# (store.PollDueCalendars). Two equalities and a range: a three-field composite index.
resource "google_firestore_index" "poll_due" {
  database    = google_firestore_database.default.name
  collection  = "calendars"
  query_scope = "COLLECTION_GROUP"

  fields {
    field_path = "selected"
    order      = "ASCENDING"
  }
  fields {
    field_path = "syncMode"
    order      = "ASCENDING"
  }
  fields {
    field_path = "lastSyncAt"
    order      = "ASCENDING"
  }
}
