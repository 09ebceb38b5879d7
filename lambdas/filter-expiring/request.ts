/**
 * What one filter-expiring invocation is asked to do: its settings (from the environment) and
 * its event, both checked before any object is read. The as-of date and the window come with the
 * event (the state machine passes the execution's), never from the environment.
 */
import { DATA_PREFIXES } from "../../core/data-layout";
import { EXPIRY_WINDOW_MONTHS, MAX_REJECTED_SHARE, describeRange, isWithin } from "../../core/settings";
import { todayUtc, utcDateOf } from "../../core/calendar-date";
import { fractionEnv, integerEnv, requiredEnv } from "../shared/environment";
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
  /**
   * The event's `detail.object`: which version to read (`version-id`, else `etag`) and its
   * `sequencer`. @default - the version read, no sequencer (all zeros)
   */
  readonly object?: { readonly etag?: string; readonly "version-id"?: string; readonly sequencer?: string };
  /** The event's `time`, ISO 8601: when the version was created. @default - the object's LastModified */
  readonly eventTime?: string;
}

/** The function's settings, read from its environment on every invocation. */
export interface FilterExpiringSettings {
  /** DATA_BUCKET (required): the only bucket this function reads and writes. */
  readonly dataBucket: string;
  /** MAX_LINE_BYTES: the longest record, in bytes. @default 1048576 (1 MiB) */
  readonly maxLineBytes: number;
  /** MAX_DECOMPRESSED_BYTES: the most bytes a source may hold once decompressed. @default 2147483648 (2 GiB) */
  readonly maxDecompressedBytes: number;
  /**
   * MAX_REJECTED_SHARE: the largest share of a source's records that may be invalid, 0 to 1;
   * past it the ingest fails and nothing is applied. @default 0.1 (MAX_REJECTED_SHARE in core/settings.ts)
   */
  readonly maxRejectedShare: number;
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
    maxRejectedShare: fractionEnv("MAX_REJECTED_SHARE", MAX_REJECTED_SHARE, env),
  };
}

/** A checked event, defaults applied. */
export interface FilterExpiringRequest {
  readonly bucket: string;
  readonly key: string;
  /** YYYY-MM-DD (UTC). */
  readonly asOf: string;
  readonly windowMonths: number;
  /** The version to read: S3 reads exactly it, so a late event stages its own version. */
  readonly versionId?: string;
  /** The ETag the event announced (unversioned buckets): a different object fails as SourceChangedError. */
  readonly etag?: string;
  /** 32 hex digits, upper case, zero-padded on the left (SEQUENCER_DIGITS). */
  readonly sequencer: string;
  /** ISO 8601 UTC with milliseconds, or undefined to use the object's LastModified. */
  readonly eventTime?: string;
}

/** The width of a stored sequencer: S3 sequencers are hex strings of up to this many digits. */
export const SEQUENCER_DIGITS = 32;

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
  const { bucket, key, asOf, windowMonths, object, eventTime } = event as Record<string, unknown>;
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
    else
      problems.push(`windowMonths: expected ${describeRange(EXPIRY_WINDOW_MONTHS)} (received ${quoted(windowMonths)})`);
  }
  const version = objectVersionOf(object, problems);
  let time: string | undefined;
  if (eventTime !== undefined && eventTime !== null) {
    time =
      typeof eventTime === "string" && utcDateOf(eventTime) !== undefined
        ? new Date(eventTime).toISOString()
        : undefined;
    if (time === undefined)
      problems.push(
        `eventTime: expected an ISO 8601 timestamp such as 2026-11-26T14:24:24Z (received ${quoted(eventTime)})`,
      );
  }
  if (problems.length > 0)
    throw new InvalidEventError(`Invalid filter-expiring event:\n  - ${problems.join("\n  - ")}`);

  const request = {
    bucket: bucket as string,
    key: key as string,
    asOf: asOfDate as string,
    windowMonths: months,
    ...version,
    eventTime: time,
  };
  if (request.bucket !== settings.dataBucket) {
    throw new BucketNotAllowedError(
      `filter-expiring only reads the data bucket ${JSON.stringify(settings.dataBucket)} (DATA_BUCKET); the event names ${JSON.stringify(request.bucket)}`,
    );
  }
  assertKeyUnder(request.key, DATA_PREFIXES.raw, "source key");
  return request;
}

/** The version, ETag and sequencer of `detail.object`, each checked; problems are added to `problems`. */
function objectVersionOf(
  object: unknown,
  problems: string[],
): { versionId?: string; etag?: string; sequencer: string } {
  const zero = "0".repeat(SEQUENCER_DIGITS);
  if (object === undefined || object === null) return { sequencer: zero };
  if (typeof object !== "object" || Array.isArray(object)) {
    problems.push(`object: expected the event's detail.object (received ${quoted(object)})`);
    return { sequencer: zero };
  }
  const { etag, "version-id": versionId, sequencer } = object as Record<string, unknown>;
  const result: { versionId?: string; etag?: string; sequencer: string } = { sequencer: zero };
  if (typeof versionId === "string" && versionId !== "" && versionId !== "null") result.versionId = versionId;
  else if (versionId !== undefined && versionId !== null && versionId !== "null")
    problems.push(`object.version-id: expected a version id (received ${quoted(versionId)})`);
  if (typeof etag === "string" && etag !== "") result.etag = etag.replaceAll('"', "");
  else if (etag !== undefined && etag !== null)
    problems.push(`object.etag: expected an ETag (received ${quoted(etag)})`);
  if (sequencer !== undefined && sequencer !== null) {
    if (typeof sequencer === "string" && /^[0-9A-Fa-f]{1,32}$/.test(sequencer))
      result.sequencer = sequencer.toUpperCase().padStart(SEQUENCER_DIGITS, "0");
    else
      problems.push(`object.sequencer: expected up to ${SEQUENCER_DIGITS} hex digits (received ${quoted(sequencer)})`);
  }
  return result;
}
