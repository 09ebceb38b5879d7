/**
 * The pipeline as a plain Terraform module, for estates written in HCL:
 *
 *   npm run synth:module [-- --out DIR]   ->  build/terraform-module/facility-pipeline/
 *
 *   module "facility_pipeline" {
 *     source      = "./modules/facility-pipeline"
 *     name_prefix = "acme-hfap"
 *   }
 *
 * The directory holds main.tf.json (variables, resources, outputs and required_providers only: a
 * child module has no provider configuration and no backend) and the Lambda zips, referenced
 * through path.module so the module works wherever it is copied.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import {
  App,
  Fn,
  TerraformOutput,
  TerraformStack,
  TerraformVariable,
  type IResolvable,
  type TerraformVariableValidationConfig,
} from "cdktf";
import type { Construct } from "constructs";
import { AWS_NAMES, type NameRule } from "./core/aws-names";
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
  FUNCTION_DEFAULTS,
  FUNCTION_LIMITS,
  describeAllowed,
  functionSetting,
  type ConfigurableFunction,
  type FunctionSettingName,
  type ChoiceSetting,
  type IntegerSetting,
  type MinimumSetting,
} from "./core/settings";
import { FacilityPipeline } from "./modules/pipeline";

export const MODULE_STACK = "facility-pipeline-module";
export const DEFAULT_MODULE_DIR = resolve(__dirname, "build", "terraform-module", "facility-pipeline");

/**
 * A validation block. In JSON syntax a condition is a string template, so the expression must be
 * wrapped in `${...}`: a bare expression is a constant string, which Terraform rejects.
 */
const validation = (condition: string, errorMessage: string): TerraformVariableValidationConfig => ({
  condition: `\${${condition}}`,
  errorMessage,
});

/** The validation of a number variable against a setting's range in core/settings.ts. */
function wholeNumberIn(name: string, setting: IntegerSetting | MinimumSetting): TerraformVariableValidationConfig {
  const bounds = [`var.${name} >= ${setting.min}`, ...("max" in setting ? [`var.${name} <= ${setting.max}`] : [])];
  return validation(
    [...bounds, `floor(var.${name}) == var.${name}`].join(" && "),
    `${name} must be ${describeAllowed(setting)}.`,
  );
}

/**
 * The validation of an optional string variable against a naming rule of core/aws-names.ts: null,
 * or a match of the rule's pattern (Terraform's regex is RE2: the patterns use no lookaround).
 */
function nullOrMatching(
  name: string,
  rule: NameRule,
  pattern: RegExp = rule.pattern,
): TerraformVariableValidationConfig {
  const hcl = pattern.source.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  return validation(
    `var.${name} == null || can(regex("${hcl}", var.${name}))`,
    `${name} must be null or ${rule.expected}.`,
  );
}

/** The validation of a number variable against a setting's choices in core/settings.ts. */
function oneOf(name: string, setting: ChoiceSetting): TerraformVariableValidationConfig {
  return validation(
    `contains([${setting.choices.join(", ")}], var.${name})`,
    `${name} must be ${describeAllowed(setting)}.`,
  );
}

/** Each function setting's variable name suffix and description. */
const SETTING_SUFFIX: Record<FunctionSettingName, string> = {
  memorySize: "memory_size",
  timeout: "timeout",
  reservedConcurrency: "reserved_concurrency",
};
const SETTING_DESCRIPTION: Record<FunctionSettingName, string> = {
  memorySize: "Memory (MB)",
  timeout: "Timeout (seconds)",
  reservedConcurrency: "Reserved concurrent executions",
};

/** The module's inputs, as Terraform variables; names follow Terraform's snake_case convention. */
export class FacilityPipelineModuleStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    // Only for synthesis: the provider block is removed from the module (its caller configures AWS).
    new AwsProvider(this, "aws", {});

    const variable = (name: string, config: ConstructorParameters<typeof TerraformVariable>[2]) =>
      new TerraformVariable(this, name, config);
    // An optional input whose absence is null: cdktf cannot express `default = null` directly.
    const optional = (name: string, description: string) => {
      const input = variable(name, { type: "string", nullable: true, description });
      input.addOverride("default", null);
      return input;
    };
    const namePrefix = variable("name_prefix", {
      type: "string",
      description: "Prefix of every named resource: lowercase letters, digits and hyphens, 3-24 characters",
      validation: [
        validation(
          'can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name_prefix))',
          "name_prefix must be 3-24 lowercase letters, digits and hyphens, starting with a letter.",
        ),
      ],
    });
    const bucketName = optional("bucket_name", "Data bucket name (default: <name_prefix>-facility-data)");
    // Bring your own: each replaces what the module would create (count = 0 for it).
    const existingBucketName = optional(
      "existing_bucket_name",
      "Use this existing bucket; the module creates none and configures nothing on it (its owner sets what docs/configuration.md, Bring your own, lists)",
    );
    const kmsKeyArn = optional(
      "kms_key_arn",
      "An existing KMS key, in the stack's region, for the bucket, Athena results, both topics, the dead-letter queues and the log groups; the module then creates no key",
    );
    const existingFailureTopicArn = optional(
      "existing_failure_topic_arn",
      "Publish failures and alarms to this existing SNS topic; the module creates no failure topic",
    );
    const existingComplianceTopicArn = optional(
      "existing_compliance_topic_arn",
      "Publish the expiry digest to this existing SNS topic; the module creates no compliance topic",
    );
    // RE2 has no lookahead: the bucket rule without its xn--/-s3alias/.. exclusions (AWS checks those).
    existingBucketName.addValidation(
      nullOrMatching("existing_bucket_name", AWS_NAMES.bucketName, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/),
    );
    bucketName.addValidation(nullOrMatching("bucket_name", AWS_NAMES.bucketName, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/));
    kmsKeyArn.addValidation(nullOrMatching("kms_key_arn", AWS_NAMES.kmsKeyArn));
    existingFailureTopicArn.addValidation(nullOrMatching("existing_failure_topic_arn", AWS_NAMES.topicArn));
    existingComplianceTopicArn.addValidation(nullOrMatching("existing_compliance_topic_arn", AWS_NAMES.topicArn));
    const glueDatabaseName = optional(
      "glue_database_name",
      "Glue database of the staging and current-state tables (default: <name_prefix>_facility_pipeline, hyphens as underscores)",
    );
    glueDatabaseName.addValidation(
      validation(
        'var.glue_database_name == null || can(regex("^[a-z0-9_]{1,255}$", var.glue_database_name))',
        "glue_database_name must be 1-255 lower case letters, digits and underscores.",
      ),
    );
    const alertEmails = variable("alert_emails", {
      type: "list(string)",
      default: [],
      description: "Addresses subscribed to failure notifications and alarms",
    });
    const complianceEmails = variable("compliance_emails", {
      type: "list(string)",
      default: [],
      description: "Addresses subscribed to the weekly expiry digest (the compliance topic)",
    });
    const digestSchedule = variable("digest_schedule", {
      type: "string",
      default: DIGEST_SCHEDULE,
      description: "When EventBridge Scheduler starts the expiry digest: cron(...), rate(...) or at(...)",
      validation: [
        validation(
          'can(regex("^(cron|rate|at)\\\\(.+\\\\)$", var.digest_schedule))',
          "digest_schedule must be a Scheduler expression: cron(...), rate(...) or at(...).",
        ),
      ],
    });
    const digestTimeZone = variable("digest_time_zone", {
      type: "string",
      default: DIGEST_TIME_ZONE,
      description: 'The IANA time zone of digest_schedule, e.g. "America/Chicago"',
      validation: [
        validation(
          'var.digest_time_zone == "UTC" || can(regex("^[A-Za-z]+(/[A-Za-z0-9_+-]+)+$", var.digest_time_zone))',
          'digest_time_zone must be an IANA time zone such as "Europe/Berlin", or "UTC".',
        ),
      ],
    });
    const digestLookbackDays = variable("digest_lookback_days", {
      type: "number",
      default: DIGEST_LOOKBACK_DAYS.default,
      description: "The expiry digest also lists accreditations that expired this many days before its date",
      validation: [wholeNumberIn("digest_lookback_days", DIGEST_LOOKBACK_DAYS)],
    });
    const digestSendAllClear = variable("digest_send_all_clear", {
      type: "bool",
      default: false,
      description: "Send an all-clear digest when nothing expired or expires",
    });
    const expiryWindowMonths = variable("expiry_window_months", {
      type: "number",
      default: EXPIRY_WINDOW_MONTHS.default,
      description: "Accreditations expiring within this many months are reported",
      validation: [wholeNumberIn("expiry_window_months", EXPIRY_WINDOW_MONTHS)],
    });
    const maxRejectedShare = variable("max_rejected_share", {
      type: "number",
      default: MAX_REJECTED_SHARE.default,
      description:
        "The largest share of an upload's records that may be invalid (0 to 1): past it the run fails and nothing is applied",
      validation: [
        validation(
          `var.max_rejected_share >= ${MAX_REJECTED_SHARE.min} && var.max_rejected_share <= ${MAX_REJECTED_SHARE.max}`,
          `max_rejected_share must be ${describeAllowed(MAX_REJECTED_SHARE)}.`,
        ),
      ],
    });
    const logRetentionDays = variable("log_retention_days", {
      type: "number",
      default: LOG_RETENTION_DAYS.default,
      description: "Retention of every log group (a CloudWatch Logs retention period)",
      validation: [oneOf("log_retention_days", LOG_RETENTION_DAYS)],
    });
    const bytesScannedCutoff = variable("athena_bytes_scanned_cutoff", {
      type: "number",
      default: ATHENA_BYTES_SCANNED_CUTOFF.default,
      description: `Athena cancels a query that would scan more bytes (minimum ${ATHENA_BYTES_SCANNED_CUTOFF.min})`,
      validation: [wholeNumberIn("athena_bytes_scanned_cutoff", ATHENA_BYTES_SCANNED_CUTOFF)],
    });
    const athenaResultsExpirationDays = variable("athena_results_expiration_days", {
      type: "number",
      default: ATHENA_RESULTS_EXPIRATION_DAYS.default,
      description: "Days before objects under athena-results/ expire (a created bucket's lifecycle)",
      validation: [wholeNumberIn("athena_results_expiration_days", ATHENA_RESULTS_EXPIRATION_DAYS)],
    });
    const noncurrentVersionExpirationDays = variable("noncurrent_version_expiration_days", {
      type: "number",
      default: NONCURRENT_VERSION_EXPIRATION_DAYS.default,
      description: "Days before noncurrent object versions expire (a created bucket's lifecycle)",
      validation: [wholeNumberIn("noncurrent_version_expiration_days", NONCURRENT_VERSION_EXPIRATION_DAYS)],
    });
    // Each Lambda's memory, timeout and reserved concurrency, within Lambda's limits.
    const functionVariables = (fn: ConfigurableFunction, label: string) =>
      Object.fromEntries(
        (Object.keys(FUNCTION_LIMITS) as FunctionSettingName[]).map((setting) => {
          const name = `${label}_${SETTING_SUFFIX[setting]}`;
          const input = variable(name, {
            type: "number",
            default: FUNCTION_DEFAULTS[fn][setting],
            description: `${SETTING_DESCRIPTION[setting]} of the ${label.replaceAll("_", "-")} Lambda`,
            validation: [wholeNumberIn(name, functionSetting(fn, setting))],
          });
          return [setting, input.numberValue];
        }),
      ) as Record<FunctionSettingName, number>;
    const filterExpiring = functionVariables("filterExpiring", "filter_expiring");
    const relocateResults = functionVariables("relocateResults", "relocate_results");
    const permissionsBoundary = optional("permissions_boundary", "Permissions boundary policy ARN of every IAM role");
    permissionsBoundary.addValidation(nullOrMatching("permissions_boundary", AWS_NAMES.policyArn));
    const rolePath = variable("role_path", {
      type: "string",
      default: "/",
      description: 'Path of every IAM role, e.g. "/data-platform/"',
      validation: [
        validation(
          `can(regex("${AWS_NAMES.rolePath.pattern.source.replace(/\\/g, "\\\\")}", var.role_path))`,
          `role_path must be ${AWS_NAMES.rolePath.expected}.`,
        ),
      ],
    });
    const tags = variable("tags", { type: "map(string)", default: {}, description: "Tags on every taggable resource" });

    const pipeline = new FacilityPipeline(this, "pipeline", {
      namePrefix: namePrefix.stringValue,
      bucketName: Fn.coalesce([bucketName.stringValue, `${namePrefix.stringValue}-facility-data`]),
      // databaseNameFor in Terraform: name_prefix allows only [a-z0-9-], so replacing "-" is all it takes.
      glueDatabaseName: Fn.coalesce([
        glueDatabaseName.stringValue,
        `${Fn.replace(namePrefix.stringValue, "-", "_")}_facility_pipeline`,
      ]),
      existingBucketName: existingBucketName.stringValue,
      kmsKeyArn: kmsKeyArn.stringValue,
      existingTopicArn: existingFailureTopicArn.stringValue,
      existingComplianceTopicArn: existingComplianceTopicArn.stringValue,
      athenaResultsExpirationDays: athenaResultsExpirationDays.numberValue,
      noncurrentVersionExpirationDays: noncurrentVersionExpirationDays.numberValue,
      functions: { filterExpiring, relocateResults },
      alertEmails: alertEmails.listValue,
      complianceEmails: complianceEmails.listValue,
      digestSchedule: digestSchedule.stringValue,
      digestTimeZone: digestTimeZone.stringValue,
      digestLookbackDays: digestLookbackDays.numberValue,
      digestSendAllClear: digestSendAllClear.booleanValue as unknown as boolean,
      expiryWindowMonths: expiryWindowMonths.numberValue,
      maxRejectedShare: maxRejectedShare.numberValue,
      logRetentionDays: logRetentionDays.numberValue,
      athenaBytesScannedCutoff: bytesScannedCutoff.numberValue,
      permissionsBoundary: permissionsBoundary.stringValue,
      rolePath: rolePath.stringValue,
      tags: tags.value as IResolvable,
      outputs: false,
    });

    // Plain names (no construct-path suffix), as an HCL caller writes module.x.bucket_name.
    for (const { name, value, description } of pipeline.outputValues()) {
      new TerraformOutput(this, `output-${name}`, { value, description }).overrideLogicalId(name);
    }
  }
}

/**
 * Turns a synthesized stack into a child module: no provider configuration, no backend, and
 * asset paths relative to path.module.
 */
export function toChildModule(stackJson: Record<string, unknown>): Record<string, unknown> {
  const { provider: _provider, ...module } = stackJson;
  const terraform = { ...(module.terraform as Record<string, unknown>) };
  delete terraform.backend;
  // A module states the provider versions it works with; the root module pins the exact one.
  const synthesized = (terraform.required_providers as Record<string, { version: string }>).aws.version;
  terraform.required_providers = {
    aws: { source: "hashicorp/aws", version: `>= ${synthesized}, < ${Number(synthesized.split(".")[0]) + 1}.0.0` },
  };
  const text = JSON.stringify({ ...module, terraform }).replace(
    /"filename":"(assets\/[^"]+)"/g,
    '"filename":"${path.module}/$1"',
  );
  return JSON.parse(text) as Record<string, unknown>;
}

interface ModuleVariable {
  readonly type: string;
  readonly default?: unknown;
  readonly description: string;
  readonly nullable?: boolean;
}

/** A table cell: pipes escaped, so a description or default cannot break the table. */
const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/</g, "&lt;");

/**
 * The module's README, as terraform-aws-modules write theirs: the inputs (name, type, default,
 * required) and the outputs, generated from the variables and outputs themselves.
 */
export function moduleReadme(module: Record<string, unknown>): string {
  const variables = Object.entries(module.variable as Record<string, ModuleVariable>).sort(([a], [b]) =>
    a.localeCompare(b),
  );
  const outputs = Object.entries(module.output as Record<string, { description?: string }>).sort(([a], [b]) =>
    a.localeCompare(b),
  );
  const defaultOf = (variable: ModuleVariable) =>
    !("default" in variable) ? "n/a" : `\`${JSON.stringify(variable.default)}\``;
  return [
    "# facility-pipeline (Terraform module)",
    "",
    "The Healthcare Facility Accreditation Pipeline as a plain Terraform module, generated by",
    "`npm run synth:module` from the same construct as the cdktf app (do not edit: this file and",
    "`main.tf.json` are regenerated). It needs `hashicorp/aws` " +
      `\`${(module.terraform as { required_providers: { aws: { version: string } } }).required_providers.aws.version}\`` +
      " configured by the caller.",
    "",
    "```hcl",
    'module "facility_pipeline" {',
    '  source      = "./modules/facility-pipeline"',
    '  name_prefix = "acme-hfap"',
    "}",
    "```",
    "",
    "An `existing_*` variable or `kms_key_arn` replaces what the module would otherwise create: that",
    "resource is then not created (its `count` is 0) and the outputs return the given one.",
    "",
    "## Inputs",
    "",
    "| Name | Description | Type | Default | Required |",
    "|------|-------------|------|---------|:--------:|",
    ...variables.map(
      ([name, variable]) =>
        `| ${name} | ${cell(variable.description)} | \`${variable.type}\` | ${cell(defaultOf(variable))} | ${"default" in variable ? "no" : "yes"} |`,
    ),
    "",
    "## Outputs",
    "",
    "| Name | Description |",
    "|------|-------------|",
    ...outputs.map(([name, output]) => `| ${name} | ${cell(output.description ?? "")} |`),
    "",
  ].join("\n");
}

/** Synthesizes the module into `outDir` and returns the path of its main.tf.json. */
export function synthModule(outDir = DEFAULT_MODULE_DIR): string {
  const synthDir = join(outDir, "..", `.synth-${MODULE_STACK}`);
  mkdirSync(synthDir, { recursive: true });
  const app = new App({ outdir: synthDir });
  new FacilityPipelineModuleStack(app, MODULE_STACK);
  app.synth();
  const stackDir = join(synthDir, "stacks", MODULE_STACK);
  const module = toChildModule(JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8")));

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  cpSync(join(stackDir, "assets"), join(outDir, "assets"), { recursive: true });
  const mainFile = join(outDir, "main.tf.json");
  writeFileSync(mainFile, `${JSON.stringify(module, null, 2)}\n`);
  writeFileSync(join(outDir, "README.md"), moduleReadme(module));
  rmSync(synthDir, { recursive: true, force: true });
  return mainFile;
}

if (require.main === module) {
  const { values } = parseArgs({ options: { out: { type: "string" } } });
  const mainFile = synthModule(values.out ? resolve(values.out) : undefined);
  process.stdout.write(`Wrote ${mainFile}\n`);
}
