# This file is maintained automatically by "terraform init".
# Manual edits may be lost in future updates.

provider "registry.terraform.io/hashicorp/google" {
  version     = "8.999.0"
  constraints = "~> 8.0"
  hashes = [
    "h1:Rc1A8XgqCFIRZNr296z7xQaGw37h4/kqYS+H4EKZcT0=",
  ]
}

provider "registry.terraform.io/hashicorp/time" {
  version     = "0.14.2"
  constraints = "~> 0.14"
  hashes = [
    "h1:08eov2Ls9iQ/g6nDlwjVk+fGB6Wo7X4CvmgitYg3LP4=",
  ]
}
