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
