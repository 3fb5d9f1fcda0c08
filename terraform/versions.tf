terraform {
  # 1.9: variable validations may refer to locals and other variables (variables.tf checks
  # regions against local.eu_regions), which older versions reject.
  required_version = ">= 1.9"

  # State in a GCS bucket in the EU; the bucket is created once by hand and named at init:
  #   terraform init -backend-config="bucket=<project>-tfstate" -backend-config="prefix=calsync"
  # (docs/deploy.md, step 5). scripts/tf-check.sh overrides it with a local backend in a temp dir.
  backend "gcs" {}

  required_providers {
    google = {
      source = "hashicorp/google"
      # One major version: minor releases only add. Offline checks (scripts/tf-check.sh) use
      # a provider built from source and published in a local mirror under a version that
      # satisfies this constraint (scripts/tf-provider.sh).
      version = "~> 8.0"
    }
    time = {
      source = "hashicorp/time"
      # time_sleep between the log-based metrics and the alert policies (monitoring.tf).
      version = "~> 0.14"
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
