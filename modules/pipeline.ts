/**
 * FacilityPipeline: the whole product as one construct, composing the modules. main.ts
 * instantiates it; a platform team can instantiate it in its own cdktf app.
 */
import { TerraformOutput } from "cdktf";
import { Construct } from "constructs";
import { Catalog } from "./catalog";
import { Storage } from "./storage";

export interface FacilityPipelineProps {
  /** Prefix of every named resource. */
  readonly namePrefix: string;
  /** Data bucket name. @default `<namePrefix>-facility-data` */
  readonly bucketName?: string;
  /** KMS key for the bucket and Athena results. @default - SSE-S3 */
  readonly kmsKeyArn?: string;
  /** @default 30 */
  readonly athenaResultsExpirationDays?: number;
  /** @default 90 */
  readonly noncurrentVersionExpirationDays?: number;
  /** @default 1 GiB */
  readonly athenaBytesScannedCutoff?: number;
  /** Add Terraform outputs (bucket, workgroup, database, table). @default true */
  readonly outputs?: boolean;
}

export class FacilityPipeline extends Construct {
  readonly storage: Storage;
  readonly catalog: Catalog;

  constructor(scope: Construct, id: string, props: FacilityPipelineProps) {
    super(scope, id);
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

    if (props.outputs ?? true) {
      new TerraformOutput(this, "bucket_name", { value: this.storage.bucketName, description: "Data bucket" });
      new TerraformOutput(this, "athena_workgroup", { value: this.catalog.workgroupName });
      new TerraformOutput(this, "glue_database", { value: this.catalog.databaseName });
      new TerraformOutput(this, "glue_table", { value: this.catalog.tableName });
    }
  }
}
