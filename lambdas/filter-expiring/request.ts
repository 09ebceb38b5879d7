/**
 * What one filter-expiring invocation is asked to do: its settings (from the environment) and
 * its event, both checked before any object is read. The as-of date and the window come with the
 * event (the state machine passes the execution's), never from the environment.
 */
import { DATA_PREFIXES } from "../../core/data-layout";
import { EXPIRY_WINDOW_MONTHS, describeRange, isWithin } from "../../core/settings";
import { todayUtc, utcDateOf } from "../../core/calendar-date";
import { integerEnv, requiredEnv } from "../shared/environment";
import { BucketNotAllowedError, InvalidEventError } from "../shared/errors";
import { assertKeyUnder } from "../shared/output-keys";
import { quoted } from "./facility-validation";

/** The input of filter-expiring, as the state machine sends it. */
export interface FilterExpiringEvent {
  /** Must be DATA_BUCKET. */
  readonly bucket: string;
  /** The uploaded object, under raw/. */
  readonly key: string;
  /** YYYY-MM-DD or an ISO timestamp (its UTC date is used). @default today, UTC */
  readonly asOf?: string;
  /** Whole months, within EXPIRY_WINDOW_MONTHS's range. @default 6 (EXPIRY_WINDOW_MONTHS in core/settings.ts) */
  readonly windowMonths?: number;
}

/** The function's settings, read from its environment on every invocation. */
export interface FilterExpiringSettings {
  /** DATA_BUCKET (required): the only bucket this function reads and writes. */
  readonly dataBucket: string;
  /** MAX_LINE_BYTES: the longest record, in bytes. @default 1048576 (1 MiB) */
  readonly maxLineBytes: number;
  /** MAX_DECOMPRESSED_BYTES: the most bytes a source may hold once decompressed. @default 2147483648 (2 GiB) */
  readonly maxDecompressedBytes: number;
}

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 2 * 1024 ** 3;

/**
 * Reads the settings from the environment (once per invocation: cheap, and tests can vary them).
 * Throws EnvironmentError naming the variable when DATA_BUCKET is missing or a number is invalid.
 */
export function readFilterExpiringSettings(
  env: Readonly<Record<string, string | undefined>> = process.env,
): FilterExpiringSettings {
  return {
    dataBucket: requiredEnv("DATA_BUCKET", env),
    maxLineBytes: integerEnv(
      "MAX_LINE_BYTES",
      { default: DEFAULT_MAX_LINE_BYTES, min: 1024, max: 256 * 1024 * 1024 },
      env,
    ),
    maxDecompressedBytes: integerEnv(
      "MAX_DECOMPRESSED_BYTES",
      { default: DEFAULT_MAX_DECOMPRESSED_BYTES, min: 1, max: Number.MAX_SAFE_INTEGER },
      env,
    ),
  };
}

/** A checked event, defaults applied. */
export interface FilterExpiringRequest {
  readonly bucket: string;
  readonly key: string;
  /** YYYY-MM-DD (UTC). */
  readonly asOf: string;
  readonly windowMonths: number;
}

/**
 * Checks an event: every shape problem at once (InvalidEventError), then the bucket
 * (BucketNotAllowedError) and the key's prefix (PrefixNotAllowedError).
 */
export function parseFilterExpiringEvent(
  event: unknown,
  settings: FilterExpiringSettings,
  now: Date = new Date(),
): FilterExpiringRequest {
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    throw new InvalidEventError(
      `Invalid filter-expiring event: expected an object with bucket and key, received ${quoted(event)}`,
    );
  }
  const { bucket, key, asOf, windowMonths } = event as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof bucket !== "string" || bucket === "")
    problems.push(`bucket: expected a bucket name (received ${quoted(bucket)})`);
  if (typeof key !== "string" || key === "")
    problems.push(`key: expected an object key under "${DATA_PREFIXES.raw}" (received ${quoted(key)})`);
  let asOfDate: string | undefined = todayUtc(now);
  if (asOf !== undefined && asOf !== null) {
    asOfDate = typeof asOf === "string" ? utcDateOf(asOf) : undefined;
    if (asOfDate === undefined) {
      problems.push(
        `asOf: expected a date YYYY-MM-DD or an ISO timestamp such as 2026-11-26T14:24:24.123Z (received ${quoted(asOf)})`,
      );
    }
  }
  let months: number = EXPIRY_WINDOW_MONTHS.default;
  if (windowMonths !== undefined && windowMonths !== null) {
    if (isWithin(EXPIRY_WINDOW_MONTHS, windowMonths)) months = windowMonths;
    else problems.push(`windowMonths: expected ${describeRange(EXPIRY_WINDOW_MONTHS)} (received ${quoted(windowMonths)})`);
  }
  if (problems.length > 0)
    throw new InvalidEventError(`Invalid filter-expiring event:\n  - ${problems.join("\n  - ")}`);

  const request = { bucket: bucket as string, key: key as string, asOf: asOfDate as string, windowMonths: months };
  if (request.bucket !== settings.dataBucket) {
    throw new BucketNotAllowedError(
      `filter-expiring only reads the data bucket ${JSON.stringify(settings.dataBucket)} (DATA_BUCKET); the event names ${JSON.stringify(request.bucket)}`,
    );
  }
  assertKeyUnder(request.key, DATA_PREFIXES.raw, "source key");
  return request;
}
