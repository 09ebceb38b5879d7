/**
 * The object keys the handlers write, derived from their inputs only, so a duplicate event
 * (S3 and EventBridge deliver at least once) rewrites the same objects instead of adding new ones.
 */
import { DATA_PREFIXES } from "../../core/data-layout";
import { PrefixNotAllowedError } from "./errors";

/** Where filter-expiring writes the outputs of one source object. */
export interface FilterOutputKeys {
  /** Valid records, canonical JSON Lines: `curated/facilities/<name>.jsonl`. */
  readonly curated: string;
  /** Rejected records with line number, reasons and original text: `rejected/<name>.jsonl`. */
  readonly rejected: string;
  /** Facilities with an accreditation expiring within the window: `transformed/expiring_facilities/<name>.jsonl`. */
  readonly expiring: string;
}

/** Suffixes replaced by ".jsonl", longest first; matched case-insensitively. */
const SOURCE_SUFFIXES = [".jsonl.gz", ".json.gz", ".jsonl", ".json", ".gz"];

/**
 * The output keys for a source key under raw/: raw/a/b.json -> curated/facilities/a/b.jsonl,
 * rejected/a/b.jsonl and transformed/expiring_facilities/a/b.jsonl. The suffixes .json, .jsonl,
 * .json.gz, .jsonl.gz and .gz become .jsonl; any other name gets .jsonl appended. Sources that
 * differ only in those suffixes (raw/b.json and raw/b.jsonl) share their outputs.
 */
export function filterOutputKeys(sourceKey: string): FilterOutputKeys {
  assertKeyUnder(sourceKey, DATA_PREFIXES.raw, "source key");
  const relative = sourceKey.slice(DATA_PREFIXES.raw.length);
  const lower = relative.toLowerCase();
  const suffix = SOURCE_SUFFIXES.find((candidate) => lower.endsWith(candidate) && lower.length > candidate.length);
  const name = `${suffix === undefined ? relative : relative.slice(0, -suffix.length)}.jsonl`;
  return {
    curated: `${DATA_PREFIXES.curated}${name}`,
    rejected: `${DATA_PREFIXES.rejected}${name}`,
    expiring: `${DATA_PREFIXES.expiring}${name}`,
  };
}

/** Where relocate-results publishes one query result. */
export interface AnalyticsKeys {
  /** `analytics/<dataset>/run_date=YYYY-MM-DD/<executionName>.csv` (a Hive-style partition). */
  readonly runKey: string;
  /** `analytics/<dataset>/latest.csv`, overwritten by every run. */
  readonly latestKey: string;
}

/** The analytics keys of a dataset's result for one workflow execution. */
export function analyticsKeys(dataset: string, runDate: string, executionName: string): AnalyticsKeys {
  const base = `${DATA_PREFIXES.analytics}${dataset}/`;
  const keys = { runKey: `${base}run_date=${runDate}/${executionName}.csv`, latestKey: `${base}latest.csv` };
  assertKeyUnder(keys.runKey, DATA_PREFIXES.analytics, "destination key");
  assertKeyUnder(keys.latestKey, DATA_PREFIXES.analytics, "destination key");
  return keys;
}

/**
 * Throws PrefixNotAllowedError unless `key` is a plain key below `prefix`: something after the
 * prefix, no empty, "." or ".." segment (S3 keys are literal, but such keys read as path traversal
 * to every tool that copies them to a file system) and no control character.
 */
export function assertKeyUnder(key: string, prefix: string, what: string): void {
  const segments = key.split("/");
  const plain =
    key.startsWith(prefix) &&
    key.length > prefix.length &&
    !key.endsWith("/") &&
    segments.every((segment) => segment !== "" && segment !== "." && segment !== "..") &&
    // eslint-disable-next-line no-control-regex
    !/[\u0000-\u001f\u007f]/.test(key);
  if (!plain) {
    throw new PrefixNotAllowedError(
      `The ${what} ${JSON.stringify(key)} is not allowed: expected a key under "${prefix}" with no empty, "." or ".." segment`,
    );
  }
}
