/**
 * The object keys the handlers write, derived from their inputs only, so a duplicate event
 * (S3 and EventBridge deliver at least once) rewrites the same objects instead of adding new ones.
 */
import { DATA_PREFIXES } from "../../core/data-layout";
import { PrefixNotAllowedError } from "./errors";

/** Where filter-expiring writes the outputs of one source object version. */
export interface FilterOutputKeys {
  /** Valid records with provenance, canonical JSON Lines: `staging/facilities/<source>/<version>.jsonl`. */
  readonly staging: string;
  /** Rejected records with line number, reasons and original text: `rejected/<source>/<version>.jsonl`. */
  readonly rejected: string;
  /** Kept records that were repaired or have warnings: `quality/<source>/<version>.jsonl`. */
  readonly quality: string;
  /** Facilities with an accreditation expiring within the window: `transformed/expiring_facilities/<source>/<version>.jsonl`. */
  readonly expiring: string;
}

/** The version of a source object, as staged records name it (`source_version`). */
export type SourceVersion = { readonly versionId: string } | { readonly etag: string };

/** `source_version`: the version id, or `etag:<ETag>` (quotes removed) when the bucket is not versioned. */
export function sourceVersionName(version: SourceVersion): string {
  return "versionId" in version ? version.versionId : `etag:${version.etag.replaceAll('"', "")}`;
}

/**
 * The output keys of one version of a source key under raw/: raw/a/b.json, version V ->
 * staging/facilities/a/b.json/version=V.jsonl, rejected/a/b.json/version=V.jsonl,
 * quality/a/b.json/version=V.jsonl and transformed/expiring_facilities/a/b.json/version=V.jsonl (`etag=<ETag>` when the bucket is not
 * versioned). Two source objects never share an output (raw/b.json and raw/b.jsonl stay apart),
 * and a later upload under the same key is another version, so it never overwrites an earlier
 * one's. Every character outside [A-Za-z0-9._-] of the key and version (and a "_" or "." starting
 * a path segment, which Athena would skip as a hidden file) is percent-encoded, so the keys are
 * safe to write into SQL text and file names.
 */
export function filterOutputKeys(sourceKey: string, version: SourceVersion): FilterOutputKeys {
  assertKeyUnder(sourceKey, DATA_PREFIXES.raw, "source key");
  const relative = sourceKey.slice(DATA_PREFIXES.raw.length).split("/").map(encodeSegment).join("/");
  const versionPart =
    "versionId" in version
      ? `version=${encodeSegment(version.versionId)}`
      : `etag=${encodeSegment(version.etag.replaceAll('"', ""))}`;
  const name = `${relative}/${versionPart}.jsonl`;
  return {
    staging: `${DATA_PREFIXES.staging}${name}`,
    rejected: `${DATA_PREFIXES.rejected}${name}`,
    quality: `${DATA_PREFIXES.quality}${name}`,
    expiring: `${DATA_PREFIXES.expiring}${name}`,
  };
}

function encodeSegment(segment: string): string {
  const encoded = [...Buffer.from(segment, "utf8")]
    .map((byte) => (/[A-Za-z0-9._-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : percent(byte)))
    .join("");
  return /^[_.]/.test(encoded) ? `${percent(encoded.charCodeAt(0))}${encoded.slice(1)}` : encoded;
}

const percent = (byte: number) => `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;

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
