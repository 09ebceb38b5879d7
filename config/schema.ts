/**
 * The per-environment configuration (config/<env>.json), validated with zod.
 *
 * Every field but namePrefix and region has a default. An invalid file fails synth with one
 * ConfigError that lists every bad field, the value received and what is expected.
 */
import { z } from "zod";
import { AWS_NAMES, type NameRule } from "../core/aws-names";
import {
  ATHENA_BYTES_SCANNED_CUTOFF,
  ATHENA_RESULTS_EXPIRATION_DAYS,
  DIGEST_LOOKBACK_DAYS,
  DIGEST_SCHEDULE,
  DIGEST_TIME_ZONE,
  EXPIRY_WINDOW_MONTHS,
  LOG_RETENTION_DAYS,
  MAX_REJECTED_SHARE,
  NONCURRENT_VERSION_EXPIRATION_DAYS,
  SCHEDULE_EXPRESSION,
  describeAllowed,
  functionSetting,
  isAllowed,
  isTimeZone,
  type ConfigurableFunction,
  type IntegerSetting,
  type MinimumSetting,
} from "../core/settings";

/** A string following one of the AWS naming rules. */
const awsName = (rule: NameRule) => z.string().regex(rule.pattern, rule.expected);

/** A whole number within a setting's range (core/settings.ts); `whole` is what a fraction is told. */
const integerIn = (setting: IntegerSetting | MinimumSetting, whole = describeAllowed(setting)) => {
  const number = z.number().int(whole).min(setting.min, describeAllowed(setting));
  return "max" in setting ? number.max(setting.max, describeAllowed(setting)) : number;
};

/** Size and concurrency of one Lambda function, within Lambda's limits (core/settings.ts). */
const functionSettings = (fn: ConfigurableFunction) =>
  z.strictObject({
    /** Megabytes. */
    memorySize: integerIn(functionSetting(fn, "memorySize")).optional(),
    /** Seconds. */
    timeout: integerIn(functionSetting(fn, "timeout")).optional(),
    /** Reserved concurrent executions. */
    reservedConcurrency: integerIn(functionSetting(fn, "reservedConcurrency")).optional(),
  });

export const configSchema = z
  .strictObject({
    /** Prefix of every named resource: lowercase letters, digits and hyphens, 3 to 24 characters. */
    namePrefix: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{1,22}[a-z0-9]$/,
        "lowercase letters, digits and hyphens, 3-24 characters, starting with a letter",
      ),
    /** AWS region the stack deploys to, e.g. us-east-1. */
    region: awsName(AWS_NAMES.region),
    /**
     * The Glue database of the staging and current-state tables; two pipelines in one account need two.
     * @default `<name_prefix>_facility_pipeline` (namePrefix with "-" as "_")
     */
    glueDatabaseName: awsName(AWS_NAMES.glueDatabaseName).optional(),
    /** Data bucket name. @default `<namePrefix>-facility-data` */
    bucketName: awsName(AWS_NAMES.bucketName).optional(),
    /** Use this existing bucket instead of creating one (README: Bring your own). */
    existingBucketName: awsName(AWS_NAMES.bucketName).optional(),
    /** An existing KMS key for the bucket, Athena results, topic, queue and logs. */
    kmsKeyArn: awsName(AWS_NAMES.kmsKeyArn).optional(),
    /** Publish failures and alarms to this existing SNS topic instead of creating one. */
    existingTopicArn: awsName(AWS_NAMES.topicArn).optional(),
    /** Permissions boundary policy ARN for every IAM role. */
    permissionsBoundary: awsName(AWS_NAMES.policyArn).optional(),
    /** Path of every IAM role, e.g. "/data-platform/". @default "/" */
    rolePath: awsName(AWS_NAMES.rolePath).optional(),
    /** Where Terraform keeps state. @default { "type": "local" } */
    backend: z
      .discriminatedUnion("type", [
        z.strictObject({ type: z.literal("local") }),
        z.strictObject({
          type: z.literal("s3"),
          /** The state bucket (it must exist, with versioning on). */
          bucket: awsName(AWS_NAMES.bucketName),
          /** The state object's key, e.g. "facility-pipeline/prod.tfstate". */
          key: z.string().min(1, "a non-empty object key"),
          region: awsName(AWS_NAMES.region),
          /** KMS key for the state object. @default - the bucket's default encryption */
          kmsKeyId: z.string().optional(),
        }),
      ])
      .default({ type: "local" }),
    /** Addresses subscribed to the failure topic (each must confirm by email). @default [] */
    alertEmails: z.array(z.email("an email address")).default([]),
    /** Publish the expiry digest to this existing SNS topic instead of creating one. */
    existingComplianceTopicArn: awsName(AWS_NAMES.topicArn).optional(),
    /** Addresses subscribed to the compliance topic: the weekly expiry digest. @default [] */
    complianceEmails: z.array(z.email("an email address")).default([]),
    /** When the expiry digest runs (EventBridge Scheduler syntax). @default "cron(0 6 ? * MON *)" (DIGEST_SCHEDULE) */
    digestSchedule: z
      .string()
      .regex(SCHEDULE_EXPRESSION, "cron(...), rate(N minutes|hours|days) or at(yyyy-mm-ddThh:mm:ss)")
      .default(DIGEST_SCHEDULE),
    /** The schedule's IANA time zone, e.g. "America/Chicago". @default "UTC" (DIGEST_TIME_ZONE) */
    digestTimeZone: z
      .string()
      .refine(isTimeZone, 'an IANA time zone such as "Europe/Berlin" or "UTC"')
      .default(DIGEST_TIME_ZONE),
    /** The digest also lists accreditations that expired this many days before its date. @default 30 (DIGEST_LOOKBACK_DAYS) */
    digestLookbackDays: integerIn(DIGEST_LOOKBACK_DAYS, "a whole number of days").default(DIGEST_LOOKBACK_DAYS.default),
    /** Send an "all clear" digest when nothing expired in the look-back period or expires in the window. @default false */
    digestSendAllClear: z.boolean().default(false),
    /** Accreditations expiring within this many months of the as-of date are reported. @default 6 (EXPIRY_WINDOW_MONTHS) */
    expiryWindowMonths: integerIn(EXPIRY_WINDOW_MONTHS, "a whole number of months").default(
      EXPIRY_WINDOW_MONTHS.default,
    ),
    /**
     * The largest share of an upload's records that may be invalid (0 to 1): past it the run fails,
     * the rejected output is written and nothing is applied. @default 0.1 (MAX_REJECTED_SHARE)
     */
    maxRejectedShare: z
      .number()
      .min(MAX_REJECTED_SHARE.min, describeAllowed(MAX_REJECTED_SHARE))
      .max(MAX_REJECTED_SHARE.max, describeAllowed(MAX_REJECTED_SHARE))
      .default(MAX_REJECTED_SHARE.default),
    /** Retention of every log group the stack creates. @default 90 (LOG_RETENTION_DAYS) */
    logRetentionDays: z
      .number()
      .refine((days) => isAllowed(LOG_RETENTION_DAYS, days), { message: describeAllowed(LOG_RETENTION_DAYS) })
      .default(LOG_RETENTION_DAYS.default),
    /** Days before objects under athena-results/ expire. @default 30 (ATHENA_RESULTS_EXPIRATION_DAYS) */
    athenaResultsExpirationDays: integerIn(ATHENA_RESULTS_EXPIRATION_DAYS).optional(),
    /** Days before noncurrent object versions expire. @default 90 (NONCURRENT_VERSION_EXPIRATION_DAYS) */
    noncurrentVersionExpirationDays: integerIn(NONCURRENT_VERSION_EXPIRATION_DAYS).optional(),
    /** Athena cancels a query that would scan more than this many bytes. @default 1 GiB (ATHENA_BYTES_SCANNED_CUTOFF) */
    athenaBytesScannedCutoff: z
      .number()
      .int()
      .min(ATHENA_BYTES_SCANNED_CUTOFF.min, `at least ${ATHENA_BYTES_SCANNED_CUTOFF.min} bytes (Athena's minimum)`)
      .default(ATHENA_BYTES_SCANNED_CUTOFF.default),
    /** Size and concurrency of each Lambda function. @default - FUNCTION_DEFAULTS in core/settings.ts */
    functions: z
      .strictObject({
        filterExpiring: functionSettings("filterExpiring").optional(),
        relocateResults: functionSettings("relocateResults").optional(),
      })
      .default({}),
    /** Tags applied to every taggable resource (through the provider's default_tags). @default {} */
    tags: z
      .record(
        z
          .string()
          .min(1)
          .max(128)
          .refine((key) => !key.toLowerCase().startsWith("aws:"), "a tag key not starting with aws:"),
        z.string().max(256),
      )
      .default({}),
  })
  .check(
    z.superRefine(
      (config, ctx) => {
        // A key in another region cannot encrypt this region's bucket, topics, queues or logs: AWS
        // would refuse it at apply time, after half the stack exists.
        const keyRegion = /^arn:[^:]+:kms:([^:]+):/.exec(String(config.kmsKeyArn ?? ""))?.[1];
        if (keyRegion && typeof config.region === "string" && keyRegion !== config.region) {
          ctx.addIssue({
            code: "custom",
            path: ["kmsKeyArn"],
            message: `a KMS key in the stack's region ${config.region}, not ${keyRegion} (KMS keys are regional; S3, SNS, SQS and CloudWatch Logs need one in their own region)`,
          });
        }
      },
      // Checked even when other fields are wrong: every problem is reported at once.
      { when: () => true },
    ),
  );

/** The configuration as written in config/<env>.json (defaults not yet applied). */
export type FacilityPipelineConfigInput = z.input<typeof configSchema>;
/** The validated configuration, defaults applied. */
export type FacilityPipelineConfig = z.output<typeof configSchema>;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * Validates a parsed configuration object. Throws one ConfigError listing every problem, each
 * with its field path, the value received and what is expected.
 */
export function parseConfig(input: unknown, source = "config"): FacilityPipelineConfig {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join(".") : "(root)";
      if (issue.code === "unrecognized_keys") return `  - ${path}: unknown field(s) ${issue.keys.join(", ")}`;
      if (issue.code === "invalid_key") {
        const key = issue.path[issue.path.length - 1];
        return `  - ${path}: ${issue.issues.map((keyIssue) => keyIssue.message).join("; ")} (received key ${describe(key)})`;
      }
      return `  - ${path}: ${issue.message} (received ${describe(valueAt(input, issue.path))})`;
    });
    throw new ConfigError(`Invalid configuration in ${source}:\n${problems.join("\n")}`);
  }
  return result.data;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value: unknown = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function describe(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}
