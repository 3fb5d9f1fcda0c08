# Source bucket for the per-function deploy archives of `make package`, and the
# Artifact Registry repository the built images land in, both in var.region (EU).

resource "google_storage_bucket" "sources" {
  name                        = "${var.project_id}-calsync-sources"
  location                    = upper(var.region)
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  # No age-based deletion: the archive a function was last built from stays live for as
  # long as that function runs unchanged (a 90-day rule used to delete it, and the next
  # apply then had to re-upload it and rebuild). Old archives do not pile up either: each
  # is a Terraform-managed object, replaced (and so deleted) when its content hash changes.

  depends_on = [google_project_service.enabled]
}

# One object per function. The name carries the archive's MD5, so a changed archive is a
# new object, which changes build_config.source and redeploys exactly that function.
resource "google_storage_bucket_object" "source" {
  for_each = local.functions

  bucket = google_storage_bucket.sources.name
  name   = "${each.key}-${filemd5("${var.package_dir}/${each.key}.zip")}.zip"
  source = "${var.package_dir}/${each.key}.zip"

  # Upload the new archive and point the function at it before the old one is deleted.
  lifecycle {
    create_before_destroy = true
  }
}

# Pinning the image repository keeps built images in the EU region too (otherwise Cloud
# Functions creates gcf-artifacts on its own).
resource "google_artifact_registry_repository" "functions" {
  location      = var.region
  repository_id = "calsync-functions"
  format        = "DOCKER"
  description   = "Images built by Cloud Functions from the calsync sources."

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 5
    }
  }
  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "2592000s" # 30 days
    }
  }

  depends_on = [google_project_service.enabled]
}
