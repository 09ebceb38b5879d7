/**
 * FacilityPipeline: the whole product as one construct, composing storage, catalog, compute,
 * notifications and orchestration. main.ts instantiates it; a platform team can instantiate it
 * in its own cdktf app, beside an AwsProvider of its own.
 */
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region";
import { TerraformOutput } from "cdktf";
import { Construct } from "constructs";
import { Catalog } from "./catalog";
import { Compute, type FunctionSettings } from "./compute";
import { FailureTopic } from "./notifications";
import { Orchestration } from "./orchestration";
import { Storage } from "./storage";

export interface FacilityPipelineProps {
  /** Prefix of every named resource. */
  readonly namePrefix: string;
  /** Data bucket name. @default `<namePrefix>-facility-data` */
  readonly bucketName?: string;
  /** KMS key for the bucket and Athena results. @default - SSE-S3 */
  readonly kmsKeyArn?: string;
  /** Addresses subscribed to failure notifications. @default [] */
  readonly alertEmails?: readonly string[];
  /** Accreditations expiring within this many months are reported. @default 6 */
  readonly expiryWindowMonths?: number;
  /** Retention of every log group. @default 90 */
  readonly logRetentionDays?: number;
  /** @default 30 */
  readonly athenaResultsExpirationDays?: number;
  /** @default 90 */
  readonly noncurrentVersionExpirationDays?: number;
  /** @default 1 GiB */
  readonly athenaBytesScannedCutoff?: number;
  /** @default - see modules/compute.ts */
  readonly functions?: { readonly filterExpiring?: FunctionSettings; readonly relocateResults?: FunctionSettings };
  /** Add Terraform outputs (bucket, state machine, topic, workgroup, database, table). @default true */
  readonly outputs?: boolean;
}

export class FacilityPipeline extends Construct {
  readonly storage: Storage;
  readonly catalog: Catalog;
  readonly compute: Compute;
  readonly failureTopic: FailureTopic;
  readonly orchestration: Orchestration;

  constructor(scope: Construct, id: string, props: FacilityPipelineProps) {
    super(scope, id);
    const accountId = new DataAwsCallerIdentity(this, "account").accountId;
    const region = new DataAwsRegion(this, "region").region;
    const partition = new DataAwsPartition(this, "partition").partition;

    this.storage = new Storage(this, "storage", {
      bucketName: props.bucketName ?? `${props.namePrefix}-facility-data`,
      kmsKeyArn: props.kmsKeyArn,
      athenaResultsExpirationDays: props.athenaResultsExpirationDays,
      noncurrentVersionExpirationDays: props.noncurrentVersionExpirationDays,
    });
    this.catalog = new Catalog(this, "catalog", {
      storage: this.storage,
      namePrefix: props.namePrefix,
      bytesScannedCutoffPerQuery: props.athenaBytesScannedCutoff,
    });
    this.compute = new Compute(this, "compute", {
      storage: this.storage,
      namePrefix: props.namePrefix,
      expiryWindowMonths: props.expiryWindowMonths,
      logRetentionDays: props.logRetentionDays,
      filterExpiring: props.functions?.filterExpiring,
      relocateResults: props.functions?.relocateResults,
    });
    this.failureTopic = new FailureTopic(this, "notifications", {
      namePrefix: props.namePrefix,
      accountId,
      partition,
      alertEmails: props.alertEmails,
    });
    this.orchestration = new Orchestration(this, "orchestration", {
      namePrefix: props.namePrefix,
      storage: this.storage,
      catalog: this.catalog,
      compute: this.compute,
      failureTopic: this.failureTopic,
      accountId,
      region,
      partition,
      logRetentionDays: props.logRetentionDays,
    });

    if (props.outputs ?? true) {
      const output = (name: string, value: string, description: string) =>
        new TerraformOutput(this, name, { value, description });
      output("bucket_name", this.storage.bucketName, "Data bucket: upload facility files under raw/");
      output("state_machine_arn", this.orchestration.stateMachineArn, "The facility pipeline state machine");
      output("failure_topic_arn", this.failureTopic.topicArn, "SNS topic for failure notifications and alarms");
      output("athena_workgroup", this.catalog.workgroupName, "Athena workgroup of the pipeline's queries");
      output("glue_database", this.catalog.databaseName, "Glue database");
      output("glue_table", this.catalog.tableName, "Glue table over curated/facilities/");
    }
  }
}
