#!/usr/bin/env bash
# terraform init -backend=false && terraform validate on the synthesized stack, the plain
# Terraform module and the HCL example that calls it. Needs terraform and a download of the
# hashicorp/aws provider (or a provider mirror), so it is not part of `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v terraform >/dev/null 2>&1; then
  echo "validate:tf: terraform is not installed, so nothing was validated." >&2
  echo "  Install Terraform >= 1.10 (https://developer.hashicorp.com/terraform/install) and run this again." >&2
  echo "  npm test covers the synthesized JSON without it." >&2
  exit 2
fi

npm run --silent synth
npm run --silent synth:module

status=0
for dir in cdktf.out/stacks/facility-pipeline-dev build/terraform-module/facility-pipeline examples/terraform-estate; do
  echo "== $dir"
  if ! (cd "$dir" && terraform init -backend=false -input=false -no-color >/tmp/validate-tf-init.log 2>&1); then
    echo "validate:tf: terraform init failed in $dir: it downloads the hashicorp/aws provider from" >&2
    echo "  registry.terraform.io. Offline, configure a provider mirror (TF_CLI_CONFIG_FILE with a" >&2
    echo "  provider_installation block) and run this again. terraform said:" >&2
    tail -5 /tmp/validate-tf-init.log >&2
    exit 3
  fi
  (cd "$dir" && terraform validate -no-color) || status=1
done
exit $status
