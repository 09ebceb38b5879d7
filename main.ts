/**
 * The cdktf app: reads the environment's config, validates it and composes one stack.
 *
 *   FACILITY_PIPELINE_ENV=prod npm run synth   ->  cdktf.out/stacks/facility-pipeline-prod/
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, LocalBackend, S3Backend, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { DEFAULT_ENVIRONMENT, loadConfig } from "./config/load";
import type { FacilityPipelineConfig } from "./config/schema";
import { FacilityPipeline } from "./modules/pipeline";

/** One deployable environment: the AWS provider and the pipeline. */
export class FacilityPipelineStack extends TerraformStack {
  readonly pipeline: FacilityPipeline;

  constructor(scope: Construct, id: string, config: FacilityPipelineConfig) {
    super(scope, id);
    if (config.backend.type === "s3") {
      new S3Backend(this, {
        bucket: config.backend.bucket,
        key: config.backend.key,
        region: config.backend.region,
        encrypt: true,
        kmsKeyId: config.backend.kmsKeyId,
      });
      // S3-native state locking (Terraform >= 1.10), no DynamoDB table; cdktf 0.21 has no prop for it.
      this.addOverride("terraform.backend.s3.use_lockfile", true);
    } else {
      // Relative to cdktf.out/stacks/<stack>/, so the synthesized JSON is the same on every machine.
      new LocalBackend(this, { path: `../../../terraform.${id}.tfstate` });
    }
    new AwsProvider(this, "aws", {
      region: config.region,
      defaultTags: [{ tags: { ...config.tags, "managed-by": "cdktf", "name-prefix": config.namePrefix } }],
    });
    this.pipeline = new FacilityPipeline(this, "pipeline", {
      namePrefix: config.namePrefix,
      glueDatabaseName: config.glueDatabaseName,
      bucketName: config.bucketName,
      existingBucketName: config.existingBucketName,
      kmsKeyArn: config.kmsKeyArn,
      existingTopicArn: config.existingTopicArn,
      permissionsBoundary: config.permissionsBoundary,
      rolePath: config.rolePath,
      alertEmails: config.alertEmails,
      existingComplianceTopicArn: config.existingComplianceTopicArn,
      complianceEmails: config.complianceEmails,
      digestSchedule: config.digestSchedule,
      digestTimeZone: config.digestTimeZone,
      digestLookbackDays: config.digestLookbackDays,
      digestSendAllClear: config.digestSendAllClear,
      expiryWindowMonths: config.expiryWindowMonths,
      maxRejectedShare: config.maxRejectedShare,
      logRetentionDays: config.logRetentionDays,
      functions: config.functions,
      athenaResultsExpirationDays: config.athenaResultsExpirationDays,
      noncurrentVersionExpirationDays: config.noncurrentVersionExpirationDays,
      athenaBytesScannedCutoff: config.athenaBytesScannedCutoff,
    });
  }
}

/** Builds the app for one environment; the stack is named `facility-pipeline-<env>`. */
export function buildApp(environment: string, app = new App()): App {
  const config = loadConfig(environment);
  new FacilityPipelineStack(app, `facility-pipeline-${environment}`, config);
  return app;
}

if (require.main === module) {
  const app = new App();
  const environment =
    process.env.FACILITY_PIPELINE_ENV ?? (app.node.tryGetContext("env") as string | undefined) ?? DEFAULT_ENVIRONMENT;
  try {
    buildApp(environment, app).synth();
  } catch (error) {
    if (error instanceof Error && (error.name === "ConfigError" || error.name === "FacilityPipelinePropsError")) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
