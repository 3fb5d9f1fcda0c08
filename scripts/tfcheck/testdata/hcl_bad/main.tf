resource "google_storage_bucket" "b" {
  name     = "b"
  location = "US" # not the EU
}

resource "google_cloudfunctions2_function" "f" {
  location = "us-central1"
}

resource "google_secret_manager_secret" "s" {
  secret_id = "s"
  replication {
    auto {}
  }
}

# location = "asia-east1" in a comment is fine
