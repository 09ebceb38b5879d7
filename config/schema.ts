/**
 * The per-environment configuration (config/<env>.json), validated with zod.
 *
 * Every field but namePrefix and region has a default. An invalid file fails synth with one
 * ConfigError that lists every bad field, the value received and what is expected.
 */
import { z } from "zod";
import { AWS_NAMES, type NameRule } from "../core/aws-names";

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Athena's smallest per-query data usage limit is 10 MB. */
const MIN_BYTES_SCANNED_CUTOFF = 10_000_000;

/** A string following one of the AWS naming rules. */
const awsName = (rule: NameRule) => z.string().regex(rule.pattern, rule.expected);

const functionSettings = z.strictObject({
  /** Megabytes, 128-10240. */
  memorySize: z.number().int().min(128).max(10240).optional(),
  /** Seconds, 1-900. */
  timeout: z.number().int().min(1).max(900).optional(),
  /** Reserved concurrent executions. */
  reservedConcurrency: z.number().int().min(1).max(1000).optional(),
});

export const configSchema = z.strictObject({
  /** Prefix of every named resource: lowercase letters, digits and hyphens, 3 to 24 characters. */
  namePrefix: z
    .string()
    .regex(
      /^[a-z][a-z0-9-]{1,22}[a-z0-9]$/,
      "lowercase letters, digits and hyphens, 3-24 characters, starting with a letter",
    ),
  /** AWS region the stack deploys to, e.g. us-east-1. */
  region: awsName(AWS_NAMES.region),
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
  /** Accreditations expiring within this many months of the as-of date are reported. @default 6 */
  expiryWindowMonths: z.number().int("a whole number of months").min(1).max(60).default(6),
  /** Retention of every log group the stack creates. @default 90 */
  logRetentionDays: z
    .number()
    .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
      message: `one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(", ")}`,
    })
    .default(90),
  /** Days before objects under athena-results/ expire. @default 30 */
  athenaResultsExpirationDays: z.number().int().min(1).max(3650).optional(),
  /** Days before noncurrent object versions expire. @default 90 */
  noncurrentVersionExpirationDays: z.number().int().min(1).max(3650).optional(),
  /** Athena cancels a query that would scan more than this many bytes. @default 1 GiB */
  athenaBytesScannedCutoff: z
    .number()
    .int()
    .min(MIN_BYTES_SCANNED_CUTOFF, `at least ${MIN_BYTES_SCANNED_CUTOFF} bytes (Athena's minimum)`)
    .default(1024 ** 3),
  /** Size and concurrency of each Lambda function. @default - see modules/compute.ts */
  functions: z
    .strictObject({ filterExpiring: functionSettings.optional(), relocateResults: functionSettings.optional() })
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
});

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
