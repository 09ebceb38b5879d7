/**
 * A platform team's own cdktf app that adds the facility pipeline to a stack it already runs,
 * bringing its own bucket, KMS key, permissions boundary and role path.
 *
 * In your app, import from the package: `from "healthcare-facility-accreditation-pipeline"`.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, S3Backend, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { FacilityPipeline } from "../../index";

export class DataPlatformStack extends TerraformStack {
  readonly facilityPipeline: FacilityPipeline;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    new S3Backend(this, {
      bucket: "acme-terraform-state",
      key: "data-platform/healthcare.tfstate",
      region: "us-east-1",
      encrypt: true,
    });
    this.addOverride("terraform.backend.s3.use_lockfile", true);
    new AwsProvider(this, "aws", { region: "us-east-1", defaultTags: [{ tags: { owner: "data-platform" } }] });

    this.facilityPipeline = new FacilityPipeline(this, "facility-pipeline", {
      namePrefix: "acme-hfap",
      existingBucketName: "acme-healthcare-landing",
      kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
      permissionsBoundary: "arn:aws:iam::123456789012:policy/data-platform-boundary",
      rolePath: "/data-platform/",
      alertEmails: ["data-platform-oncall@example.org"],
      tags: { "cost-center": "cc-1234" },
    });
  }
}

/** Builds the example app (the tests synthesize it). */
export function buildExampleApp(app = new App()): App {
  new DataPlatformStack(app, "data-platform-healthcare");
  return app;
}

if (require.main === module) buildExampleApp().synth();
