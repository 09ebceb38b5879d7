/**
 * Reading the function's environment: every variable through these helpers, which fail loudly
 * (an EnvironmentError naming the variable, the value and what is expected) instead of running
 * with a silent fallback.
 */
import { EnvironmentError } from "./errors";

type Environment = Readonly<Record<string, string | undefined>>;

/** The value of a variable that must be set and non-empty. */
export function requiredEnv(name: string, env: Environment = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") {
    throw new EnvironmentError(`Environment variable ${name} is not set; the function's configuration must set it`);
  }
  return value;
}

export interface IntegerEnvOptions {
  /** Used when the variable is unset or empty. */
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

/** A decimal number variable within [min, max] ("0.1", "0", "1"), or its default when unset. */
export function fractionEnv(name: string, options: IntegerEnvOptions, env: Environment = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return options.default;
  const value = Number(raw);
  if (!/^\s*\d+(?:\.\d+)?\s*$/.test(raw) || value < options.min || value > options.max) {
    throw new EnvironmentError(
      `Environment variable ${name} must be a number from ${options.min} to ${options.max}, such as 0.1 (received ${JSON.stringify(raw)})`,
    );
  }
  return value;
}

/** An integer variable within [min, max], or its default when unset. */
export function integerEnv(name: string, options: IntegerEnvOptions, env: Environment = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return options.default;
  const value = Number(raw);
  if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(value) || value < options.min || value > options.max) {
    throw new EnvironmentError(
      `Environment variable ${name} must be a whole number from ${options.min} to ${options.max} (received ${JSON.stringify(raw)})`,
    );
  }
  return value;
}
