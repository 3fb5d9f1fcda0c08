terraform {
  # 1.5: optional() object attributes with defaults, check blocks, import blocks.
  required_version = ">= 1.5"

  required_providers {
    google = {
      source = "hashicorp/google"
      # ">= 6.0": google_cloudfunctions2_function with build_config.service_account,
      # google_firestore_field ttl_config and Pub/Sub dead-letter policies are all there.
      # Offline checks (scripts/tf-check.sh) use a provider built from source and
      # published in a local mirror under a version that satisfies this constraint.
      version = ">= 6.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
  # Every resource carries this label so cost and audit views can find the system.
  default_labels = {
    system = "calsync"
  }
}
