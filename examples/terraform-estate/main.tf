# An existing HCL root module that adds the facility pipeline to its estate.
# Generate the module first:  npm run synth:module   (writes build/terraform-module/facility-pipeline)
# Copy that directory next to your code, or point `source` at it as here.

terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.25.0, < 7.0.0"
    }
  }
  # The estate's own remote state: S3 with S3-native locking, no DynamoDB table.
  backend "s3" {
    bucket       = "acme-terraform-state"
    key          = "healthcare/facility-pipeline.tfstate"
    region       = "us-east-1"
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { owner = "data-platform" }
  }
}

module "facility_pipeline" {
  source = "../../build/terraform-module/facility-pipeline"

  name_prefix          = "acme-hfap"
  alert_emails         = ["data-platform-oncall@example.org"]
  compliance_emails    = ["compliance@example.org"] # the weekly expiry digest
  digest_time_zone     = "America/New_York"
  # The estate's own alerting topic: the module creates no failure topic.
  existing_failure_topic_arn = "arn:aws:sns:us-east-1:123456789012:data-platform-alerts"
  expiry_window_months = 6
  log_retention_days   = 365
  permissions_boundary = "arn:aws:iam::123456789012:policy/data-platform-boundary"
  role_path            = "/data-platform/"
  tags                 = { cost-center = "cc-1234" }
}

output "facility_upload_bucket" {
  description = "Upload facility files under raw/ of this bucket"
  value       = module.facility_pipeline.bucket_name
}

output "facility_state_machine_arn" {
  value = module.facility_pipeline.state_machine_arn
}

output "facility_compliance_topic_arn" {
  description = "Subscribe compliance tools here: the weekly accreditation expiry digest"
  value       = module.facility_pipeline.compliance_topic_arn
}
