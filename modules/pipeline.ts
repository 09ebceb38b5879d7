/**
 * FacilityPipeline: the whole product as one construct, composing storage, catalog, compute,
 * notifications and orchestration. main.ts instantiates it; a platform team can instantiate it
 * in its own cdktf app, beside an AwsProvider of its own. Its constructor checks the props and
 * throws one FacilityPipelinePropsError listing every problem; defaults and ranges come from
 * core/settings.ts.
 */
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region";
import {
  Aspects,
  Fn,
  Op,
  TerraformOutput,
  TerraformResource,
  Token,
  Tokenization,
  type IAspect,
  type IResolvable,
} from "cdktf";
import { Construct, type IConstruct } from "constructs";
import { AWS_NAMES, type NameRule } from "../core/aws-names";
import {
  ATHENA_BYTES_SCANNED_CUTOFF,
  ATHENA_RESULTS_EXPIRATION_DAYS,
  DIGEST_LOOKBACK_DAYS,
  EXPIRY_WINDOW_MONTHS,
  FUNCTION_DEFAULTS,
  FUNCTION_LIMITS,
  LOG_RETENTION_DAYS,
  MAX_REJECTED_SHARE,
  NONCURRENT_VERSION_EXPIRATION_DAYS,
  SCHEDULE_EXPRESSION,
  describeAllowed,
  functionSetting,
  isAllowed,
  isTimeZone,
  type ConfigurableFunction,
  type FunctionSettingName,
  type NumericSetting,
} from "../core/settings";
import { decidedAtPlan, isNull } from "./byo";
import { Catalog } from "./catalog";
import { Compute, type FunctionSettings } from "./compute";
import { ExpiryDigest } from "./expiry-digest";
import { ComplianceTopic, FailureTopic } from "./notifications";
import { Orchestration } from "./orchestration";
import { Storage } from "./storage";

export interface FacilityPipelineProps {
  /** Prefix of every named resource. */
  readonly namePrefix: string;
  /**
   * The Glue database of the staging and current-state tables (lower case letters, digits, "_").
   * @default - `<name_prefix>_facility_pipeline`: namePrefix with "-" as "_" (databaseNameFor)
   */
  readonly glueDatabaseName?: string;
  /** Data bucket name. Conflicts with `existingBucketName`. @default `<namePrefix>-facility-data` */
  readonly bucketName?: string;
  /**
   * Use an existing bucket (by name) instead of creating one; the stack configures nothing on it.
   * Its owner must set what README "Bring your own" lists.
   * @default - a bucket is created
   */
  readonly existingBucketName?: string;
  /**
   * An existing KMS key for the bucket, Athena results, the failure topic, the dead-letter queue
   * and the log groups. Its key policy must let S3, Athena, SNS, SQS, CloudWatch Logs and
   * CloudWatch alarms use it.
   * @default - SSE-S3 for the bucket, a created key for the topic, SSE-SQS, CloudWatch Logs' own encryption
   */
  readonly kmsKeyArn?: string;
  /** Publish failures and alarms to this existing SNS topic. @default - a topic is created */
  readonly existingTopicArn?: string;
  /** Permissions boundary of every IAM role. @default - none */
  readonly permissionsBoundary?: string;
  /** Path of every IAM role. @default "/" */
  readonly rolePath?: string;
  /**
   * Tags on every taggable resource of the pipeline (beside any provider default_tags); a
   * Terraform map (a module variable) works too.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>> | IResolvable;
  /** Addresses subscribed to failure notifications. @default [] */
  readonly alertEmails?: readonly string[];
  /** Publish the expiry digest to this existing SNS topic. @default - a topic is created */
  readonly existingComplianceTopicArn?: string;
  /** Addresses subscribed to the expiry digest (the compliance topic). @default [] */
  readonly complianceEmails?: readonly string[];
  /**
   * When EventBridge Scheduler starts the expiry digest: cron(...), rate(...) or at(...).
   * @default "cron(0 6 ? * MON *)": Mondays 06:00 (DIGEST_SCHEDULE in core/settings.ts)
   */
  readonly digestSchedule?: string;
  /** The IANA time zone of `digestSchedule`, e.g. "America/Chicago". @default "UTC" (DIGEST_TIME_ZONE) */
  readonly digestTimeZone?: string;
  /**
   * The digest also lists accreditations that expired this many days before its date.
   * @default 30 (DIGEST_LOOKBACK_DAYS in core/settings.ts)
   */
  readonly digestLookbackDays?: number;
  /** Send an "all clear" digest when nothing expired or expires. @default false */
  readonly digestSendAllClear?: boolean;
  /**
   * Accreditations expiring within this many months are reported.
   * @default 6 (EXPIRY_WINDOW_MONTHS in core/settings.ts)
   */
  readonly expiryWindowMonths?: number;
  /**
   * The largest share of an upload's records that may be invalid, 0 to 1: past it the ingest
   * fails loudly, writes the rejected output and applies nothing.
   * @default 0.1 (MAX_REJECTED_SHARE in core/settings.ts)
   */
  readonly maxRejectedShare?: number;
  /**
   * Retention of every log group, one of CloudWatch's retention periods.
   * @default 90 (LOG_RETENTION_DAYS in core/settings.ts)
   */
  readonly logRetentionDays?: number;
  /**
   * Days before objects under athena-results/ expire. Conflicts with `existingBucketName`.
   * @default 30 (ATHENA_RESULTS_EXPIRATION_DAYS in core/settings.ts)
   */
  readonly athenaResultsExpirationDays?: number;
  /**
   * Days before noncurrent object versions expire. Conflicts with `existingBucketName`.
   * @default 90 (NONCURRENT_VERSION_EXPIRATION_DAYS in core/settings.ts)
   */
  readonly noncurrentVersionExpirationDays?: number;
  /**
   * Athena cancels a query that would scan more bytes than this (at least Athena's minimum, 10 MB).
   * @default 1 GiB (ATHENA_BYTES_SCANNED_CUTOFF in core/settings.ts)
   */
  readonly athenaBytesScannedCutoff?: number;
  /**
   * Memory, timeout and reserved concurrency of each function, within Lambda's limits (FUNCTION_LIMITS).
   * @default - FUNCTION_DEFAULTS in core/settings.ts
   */
  readonly functions?: { readonly [F in ConfigurableFunction]?: FunctionSettings };
  /** Add Terraform outputs (bucket, state machine, topic, workgroup, database, table). @default true */
  readonly outputs?: boolean;
}

export class FacilityPipeline extends Construct {
  readonly storage: Storage;
  readonly catalog: Catalog;
  readonly compute: Compute;
  readonly failureTopic: FailureTopic;
  readonly complianceTopic: ComplianceTopic;
  readonly orchestration: Orchestration;
  readonly expiryDigest: ExpiryDigest;

  constructor(scope: Construct, id: string, props: FacilityPipelineProps) {
    super(scope, id);
    validateProps(props);
    const accountId = new DataAwsCallerIdentity(this, "account").accountId;
    const region = new DataAwsRegion(this, "region").region;
    const partition = new DataAwsPartition(this, "partition").partition;

    this.storage = new Storage(this, "storage", {
      bucketName: props.bucketName ?? `${props.namePrefix}-facility-data`,
      existingBucketName: props.existingBucketName,
      partition,
      kmsKeyArn: props.kmsKeyArn,
      athenaResultsExpirationDays: props.athenaResultsExpirationDays,
      noncurrentVersionExpirationDays: props.noncurrentVersionExpirationDays,
    });
    this.catalog = new Catalog(this, "catalog", {
      storage: this.storage,
      namePrefix: props.namePrefix,
      databaseName: props.glueDatabaseName,
      bytesScannedCutoffPerQuery: props.athenaBytesScannedCutoff,
    });
    if (props.kmsKeyArn !== undefined) this.requireKeyInRegion(props.kmsKeyArn, region);
    this.compute = new Compute(this, "compute", {
      storage: this.storage,
      namePrefix: props.namePrefix,
      logRetentionDays: props.logRetentionDays,
      maxRejectedShare: props.maxRejectedShare,
      filterExpiring: props.functions?.filterExpiring,
      relocateResults: props.functions?.relocateResults,
      logsKmsKeyArn: props.kmsKeyArn,
      permissionsBoundary: props.permissionsBoundary,
      rolePath: props.rolePath,
    });
    this.failureTopic = new FailureTopic(this, "notifications", {
      namePrefix: props.namePrefix,
      accountId,
      partition,
      alertEmails: props.alertEmails,
      existingTopicArn: props.existingTopicArn,
      kmsKeyArn: props.kmsKeyArn,
    });
    this.complianceTopic = new ComplianceTopic(this, "compliance", {
      namePrefix: props.namePrefix,
      accountId,
      partition,
      complianceEmails: props.complianceEmails,
      existingTopicArn: props.existingComplianceTopicArn,
      // The failure topic's key (the given one, or the one the stack created): one key for both
      // topics. Without either, the compliance topic creates its own.
      kmsKeyArn: this.failureTopic.keyArn,
      kmsKeyPresent: this.failureTopic.keyPresent,
    });
    // What both workflows are given.
    const workflow = {
      namePrefix: props.namePrefix,
      expiryWindowMonths: props.expiryWindowMonths,
      storage: this.storage,
      catalog: this.catalog,
      compute: this.compute,
      failureTopic: this.failureTopic,
      accountId,
      region,
      partition,
      logRetentionDays: props.logRetentionDays,
      kmsKeyArn: props.kmsKeyArn,
      permissionsBoundary: props.permissionsBoundary,
      rolePath: props.rolePath,
    };
    this.orchestration = new Orchestration(this, "orchestration", workflow);
    this.expiryDigest = new ExpiryDigest(this, "expiry-digest", {
      ...workflow,
      complianceTopic: this.complianceTopic,
      pipelineStateMachineArn: this.orchestration.stateMachineArn,
      lookbackDays: props.digestLookbackDays,
      sendAllClear: props.digestSendAllClear,
      schedule: props.digestSchedule,
      timeZone: props.digestTimeZone,
    });
    if (props.tags) Aspects.of(this).add(new TagEveryResource(props.tags));

    if (props.outputs ?? true) {
      for (const { name, value, description } of this.outputValues()) {
        new TerraformOutput(this, name, { value, description });
      }
    }
  }

  /**
   * KMS keys are regional: a key of another region cannot encrypt this region's bucket, results,
   * topics, queues or logs, and AWS would refuse it at apply, after part of the stack exists. The
   * config rejects one at synth; for the construct and the module (whose region is known only at
   * plan), a precondition on the workgroup fails the plan, naming the input.
   */
  private requireKeyInRegion(kmsKeyArn: string, region: string): void {
    const sameRegion = Op.eq(Fn.element(Fn.split(":", kmsKeyArn), 3), region);
    this.catalog.workgroup.lifecycle = {
      precondition: [
        {
          condition: decidedAtPlan(kmsKeyArn) ? Fn.conditional(isNull(kmsKeyArn), true, sameRegion) : sameRegion,
          errorMessage:
            "kmsKeyArn (module: kms_key_arn) must be a KMS key in the stack's region: keys are regional, and S3, Athena, SNS, SQS and CloudWatch Logs need one in their own region.",
        },
      ],
    };
  }

  /** What an estate needs from the pipeline, named as the Terraform outputs are. */
  outputValues(): { name: string; value: string; description: string }[] {
    return [
      {
        name: "bucket_name",
        value: this.storage.bucketName,
        description: "Data bucket: upload facility files under raw/",
      },
      {
        name: "state_machine_arn",
        value: this.orchestration.stateMachineArn,
        description: "The facility pipeline state machine",
      },
      {
        name: "failure_topic_arn",
        value: this.failureTopic.topicArn,
        description: "SNS topic for failure notifications and alarms",
      },
      {
        name: "compliance_topic_arn",
        value: this.complianceTopic.topicArn,
        description: "SNS topic of the weekly expiry digest, for compliance",
      },
      {
        name: "expiry_digest_arn",
        value: this.expiryDigest.stateMachineArn,
        description:
          "The expiry digest state machine (started by the schedule; facility-pipeline digest starts it too)",
      },
      {
        name: "athena_workgroup",
        value: this.catalog.workgroupName,
        description: "Athena workgroup of the pipeline's queries",
      },
      { name: "glue_database", value: this.catalog.databaseName, description: "Glue database" },
      {
        name: "glue_table",
        value: this.catalog.tableName,
        description: "Glue table of the current state (Apache Iceberg): one row per facility_id",
      },
    ];
  }
}

export class FacilityPipelinePropsError extends Error {
  override readonly name = "FacilityPipelinePropsError";
}

/** The props whose values follow an AWS naming rule. */
const NAMED_PROPS = {
  glueDatabaseName: AWS_NAMES.glueDatabaseName,
  existingBucketName: AWS_NAMES.bucketName,
  kmsKeyArn: AWS_NAMES.kmsKeyArn,
  existingTopicArn: AWS_NAMES.topicArn,
  existingComplianceTopicArn: AWS_NAMES.topicArn,
  permissionsBoundary: AWS_NAMES.policyArn,
  rolePath: AWS_NAMES.rolePath,
} as const satisfies Partial<Record<keyof FacilityPipelineProps, NameRule>>;

/** The numeric props, each with the setting (core/settings.ts) whose range or choices it must keep to. */
const NUMERIC_PROPS = {
  expiryWindowMonths: EXPIRY_WINDOW_MONTHS,
  maxRejectedShare: MAX_REJECTED_SHARE,
  digestLookbackDays: DIGEST_LOOKBACK_DAYS,
  logRetentionDays: LOG_RETENTION_DAYS,
  athenaResultsExpirationDays: ATHENA_RESULTS_EXPIRATION_DAYS,
  noncurrentVersionExpirationDays: NONCURRENT_VERSION_EXPIRATION_DAYS,
  athenaBytesScannedCutoff: ATHENA_BYTES_SCANNED_CUTOFF,
} as const satisfies Partial<Record<keyof FacilityPipelineProps, NumericSetting>>;

/** What is wrong with a numeric prop's value, if anything: the prop, what it must be, the value, the fix. */
function numericProblem(prop: string, value: unknown, setting: NumericSetting): string | undefined {
  if (isAllowed(setting, value)) return undefined;
  const received = typeof value === "string" ? `"${value}"` : String(value);
  return (
    `${prop}: expected ${describeAllowed(setting)} (received ${received}); ` +
    `change it, or leave it out for the default (${setting.default})`
  );
}

/**
 * Checks the props where they enter: every problem at once, each naming the props involved.
 * Unresolved tokens (a Terraform variable of the plain module) are skipped: their values are
 * only known at plan time, where the variables' own validation blocks check the same ranges.
 */
function validateProps(props: FacilityPipelineProps): void {
  const problems: string[] = [];
  const known = <T>(value: T | undefined): value is T => value !== undefined && !Token.isUnresolved(value);
  // A module variable (a token) may be null: Terraform decides, and the module's variables say which to set.
  if (known(props.existingBucketName)) {
    if (props.bucketName !== undefined) {
      problems.push(
        `bucketName ("${props.bucketName}") and existingBucketName ("${props.existingBucketName}") conflict: ` +
          "set bucketName to create a bucket, or existingBucketName to use one, not both",
      );
    }
    for (const lifecycle of ["athenaResultsExpirationDays", "noncurrentVersionExpirationDays"] as const) {
      if (props[lifecycle] !== undefined) {
        problems.push(
          `${lifecycle} and existingBucketName conflict: the stack does not configure an existing bucket's lifecycle; ` +
            "remove it and set the rule on the bucket (README: Bring your own)",
        );
      }
    }
  }
  if (known(props.digestSchedule) && !SCHEDULE_EXPRESSION.test(props.digestSchedule)) {
    problems.push(
      `digestSchedule: expected cron(...), rate(N minutes|hours|days) or at(yyyy-mm-ddThh:mm:ss), received "${props.digestSchedule}"`,
    );
  }
  if (known(props.digestTimeZone) && !isTimeZone(props.digestTimeZone)) {
    problems.push(
      `digestTimeZone: expected an IANA time zone such as "Europe/Berlin" or "UTC", received "${props.digestTimeZone}"`,
    );
  }
  for (const [prop, rule] of Object.entries(NAMED_PROPS) as [keyof typeof NAMED_PROPS, NameRule][]) {
    const value = props[prop];
    if (known(value) && !rule.pattern.test(value))
      problems.push(`${prop}: expected ${rule.expected}, received "${value}"`);
  }
  const checkNumber = (prop: string, value: number | undefined, setting: NumericSetting) => {
    const problem = known(value) ? numericProblem(prop, value, setting) : undefined;
    if (problem) problems.push(problem);
  };
  for (const [prop, setting] of Object.entries(NUMERIC_PROPS) as [keyof typeof NUMERIC_PROPS, NumericSetting][])
    checkNumber(prop, props[prop], setting);
  for (const fn of Object.keys(FUNCTION_DEFAULTS) as ConfigurableFunction[]) {
    for (const name of Object.keys(FUNCTION_LIMITS) as FunctionSettingName[])
      checkNumber(`functions.${fn}.${name}`, props.functions?.[fn]?.[name], functionSetting(fn, name));
  }
  if (problems.length > 0) {
    throw new FacilityPipelinePropsError(
      `Invalid FacilityPipeline props:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  }
}

/** Adds the given tags to every resource that takes tags, keeping tags set on the resource itself. */
class TagEveryResource implements IAspect {
  /** Literal tags, or a Terraform map (a module variable). */
  constructor(private readonly tags: Readonly<Record<string, string>> | IResolvable) {}

  visit(node: IConstruct): void {
    if (!(node instanceof TerraformResource) || !("tagsInput" in node)) return;
    const taggable = node as TerraformResource & { tags?: unknown; tagsInput?: Record<string, string> };
    const own = taggable.tagsInput;
    if (Tokenization.isResolvable(this.tags)) taggable.tags = own ? Fn.merge([this.tags, own]) : this.tags;
    else taggable.tags = { ...this.tags, ...(own ?? {}) };
  }
}
