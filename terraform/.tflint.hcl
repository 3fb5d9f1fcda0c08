# tflint with its bundled Terraform language ruleset only. The Google ruleset
# (tflint-ruleset-google) is downloaded from GitHub releases by `tflint --init`, which this
# project's machines cannot reach; scripts/tfcheck covers the Google-specific rules we care
# about (EU locations, IAM, dead-lettering, alerts) against the plan instead.
config {
  call_module_type = "none"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}

# The module is flat with one file per concern (functions.tf, pubsub.tf, …) by design; there
# is deliberately no main.tf.
rule "terraform_standard_module_structure" {
  enabled = false
}
