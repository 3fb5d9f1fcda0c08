# Secret containers only: values are added with gcloud (docs/deploy.md) so they never reach
# Terraform state. Replication is user-managed and pinned to EU regions.
locals {
  secrets = {
    "oauth-client-secret" = "OAuth 2.0 client secret of the web client (token exchange and refresh)."
    "state-key"           = "32 random bytes, base64: signs and encrypts the OAuth state parameter."
    "token-key"           = "32 random bytes, base64: encrypts refresh/access tokens at rest (versioned for rotation)."
  }
}

resource "google_secret_manager_secret" "secret" {
  for_each = local.secrets

  secret_id = each.key
  annotations = {
    purpose = each.value
  }

  replication {
    user_managed {
      dynamic "replicas" {
        for_each = var.secret_replica_locations
        content {
          location = replicas.value
        }
      }
    }
  }

  depends_on = [google_project_service.enabled]
}
