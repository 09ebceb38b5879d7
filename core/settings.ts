/**
 * Every default and allowed range of the pipeline's settings, in one place. The config schema,
 * the FacilityPipeline construct, the plain Terraform module, the handlers, the state machine's
 * placeholders, the local runner and the CLI all read them from here.
 */

/** A whole-number setting: its default and the inclusive range it must fall in. */
export interface IntegerSetting {
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

/** Accreditations expiring within this many months of the as-of date are reported. */
export const EXPIRY_WINDOW_MONTHS = { default: 6, min: 1, max: 60 } as const satisfies IntegerSetting;

/**
 * The largest share of an upload's records that may be invalid (superseded repeats do not count):
 * past it the ingest fails loudly and nothing is applied to the current state. A registry export
 * with a tenth of its records broken is more likely a wrong export than a few bad rows.
 */
export const MAX_REJECTED_SHARE = { default: 0.1, min: 0, max: 1, fraction: true } as const satisfies FractionSetting;

/** A decimal setting (0.1, not only whole numbers): its default and the inclusive range it must fall in. */
export interface FractionSetting {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly fraction: true;
}

/** The expiry digest also lists accreditations that expired this many days before its date. */
export const DIGEST_LOOKBACK_DAYS = { default: 30, min: 0, max: 365 } as const satisfies IntegerSetting;

/**
 * What an execution's input may pin (its `settings` field): the state machine fills in what is
 * missing with the execution's start date and the configured window.
 */
export interface RunSettings {
  /** YYYY-MM-DD. */
  readonly asOf?: string;
  readonly windowMonths?: number;
}

/** The `settings` field of an execution's input for these settings: absent when none is pinned. */
export function settingsField(settings: RunSettings = {}): { settings?: RunSettings } {
  const pinned = {
    ...(settings.asOf !== undefined && { asOf: settings.asOf }),
    ...(settings.windowMonths !== undefined && { windowMonths: settings.windowMonths }),
  };
  return Object.keys(pinned).length > 0 ? { settings: pinned } : {};
}

/** True when `value` is a whole number within the setting's range. */
export function isWithin(setting: IntegerSetting, value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= setting.min && value <= setting.max;
}

/** "a whole number from 1 to 60": what a message says the value must be. */
export function describeRange(setting: IntegerSetting): string {
  return `a whole number from ${setting.min} to ${setting.max}`;
}

// The stack's settings below are read at synth time only. They come after the run settings and
// are plain literals (esbuild keeps an unused `1024 ** 3` or spread in a bundle, and drops a
// literal), so that adding one leaves the handlers' bundles, which import this file, unchanged.

/** A whole-number setting with a lower bound only: its default and its minimum. */
export interface MinimumSetting {
  readonly default: number;
  readonly min: number;
}

/** A setting that takes one of a fixed list of values (the AWS API accepts no others). */
export interface ChoiceSetting {
  readonly default: number;
  readonly choices: readonly number[];
  /** What the choices are, completing "one of ...", e.g. "CloudWatch's retention periods". */
  readonly choicesAre: string;
}

/** Any numeric setting: a range, a minimum or a list of choices. */
export type NumericSetting = IntegerSetting | MinimumSetting | ChoiceSetting | FractionSetting;

/**
 * Retention of every log group the stack creates, in days. CloudWatch Logs accepts only these
 * periods: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
 */
export const LOG_RETENTION_DAYS = {
  default: 90,
  choices: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653],
  choicesAre: "CloudWatch's retention periods",
} as const satisfies ChoiceSetting;

/** Days before objects under athena-results/ expire. */
export const ATHENA_RESULTS_EXPIRATION_DAYS = { default: 30, min: 1, max: 3650 } as const satisfies IntegerSetting;

/** Days before noncurrent object versions expire. */
export const NONCURRENT_VERSION_EXPIRATION_DAYS = { default: 90, min: 1, max: 3650 } as const satisfies IntegerSetting;

/** Days before an incomplete multipart upload is aborted (a Storage prop; no config field sets it). */
export const ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS = {
  default: 7,
  min: 1,
  max: 3650,
} as const satisfies IntegerSetting;

/**
 * Athena cancels a query that would scan more than this many bytes: 1 GiB by default, at least
 * 10 MB (Athena's smallest per-query data usage limit), with no upper bound.
 */
export const ATHENA_BYTES_SCANNED_CUTOFF = {
  default: 1_073_741_824,
  min: 10_000_000,
} as const satisfies MinimumSetting;

/** What can be set on each Lambda function: memory (MB), timeout (seconds), reserved concurrent executions. */
export type FunctionSettingName = "memorySize" | "timeout" | "reservedConcurrency";

/**
 * Lambda's limits on each function setting (reserved concurrency: the account's default quota):
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
export const FUNCTION_LIMITS = {
  memorySize: { min: 128, max: 10_240 },
  timeout: { min: 1, max: 900 },
  reservedConcurrency: { min: 1, max: 1000 },
} as const satisfies Record<FunctionSettingName, Omit<IntegerSetting, "default">>;

/** The default size and concurrency of each Lambda function, by config key. */
export const FUNCTION_DEFAULTS = {
  filterExpiring: { memorySize: 1024, timeout: 300, reservedConcurrency: 10 },
  relocateResults: { memorySize: 256, timeout: 60, reservedConcurrency: 5 },
} as const satisfies Record<string, Record<FunctionSettingName, number>>;

/** The functions whose size and concurrency can be set: "filterExpiring", "relocateResults". */
export type ConfigurableFunction = keyof typeof FUNCTION_DEFAULTS;

/** One function's setting as an IntegerSetting: that function's default within Lambda's limits. */
export function functionSetting(fn: ConfigurableFunction, name: FunctionSettingName): IntegerSetting {
  return { default: FUNCTION_DEFAULTS[fn][name], ...FUNCTION_LIMITS[name] };
}

/** True when `value` is allowed: a whole number within the range or from the minimum, or one of the choices. */
export function isAllowed(setting: NumericSetting, value: unknown): value is number {
  if ("fraction" in setting) {
    return typeof value === "number" && Number.isFinite(value) && value >= setting.min && value <= setting.max;
  }
  if ("choices" in setting) return typeof value === "number" && setting.choices.includes(value);
  if ("max" in setting) return isWithin(setting, value);
  return typeof value === "number" && Number.isSafeInteger(value) && value >= setting.min;
}

/**
 * What a message says the value must be: "a whole number from 1 to 60", "a whole number of at
 * least 10000000", "one of CloudWatch's retention periods: 1, 3, 5, ...".
 */
export function describeAllowed(setting: NumericSetting): string {
  if ("fraction" in setting) return `a number from ${setting.min} to ${setting.max}`;
  if ("choices" in setting) return `one of ${setting.choicesAre}: ${setting.choices.join(", ")}`;
  if ("max" in setting) return describeRange(setting);
  return `a whole number of at least ${setting.min}`;
}

/**
 * When EventBridge Scheduler starts the expiry digest: every Monday at 06:00 in DIGEST_TIME_ZONE,
 * before a compliance team's week starts. Scheduler's own syntax: cron(minutes hours
 * day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss).
 */
export const DIGEST_SCHEDULE = "cron(0 6 ? * MON *)";
/** The schedule's time zone (an IANA name): the team's own, so 06:00 stays 06:00 across daylight saving. */
export const DIGEST_TIME_ZONE = "UTC";
/** What a schedule expression must look like (Scheduler rejects others at deploy time). */
export const SCHEDULE_EXPRESSION =
  /^(cron\([^()]+\)|rate\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\)|at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\))$/;

/** Whether a name is an IANA time zone this Node.js knows (Scheduler accepts the same database). */
export function isTimeZone(name: string): boolean {
  return name === "UTC" || Intl.supportedValuesOf("timeZone").includes(name);
}
