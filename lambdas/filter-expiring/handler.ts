/**
 * Lambda filter-expiring: ingests one uploaded object (raw/...) and writes its staged, rejected,
 * quality and expiring outputs. See filter-facilities.ts for how, request.ts for the event and
 * settings, facility-validation.ts for what is rejected, repaired or kept with a warning.
 *
 * Event:   { bucket, key, object?, eventTime?, asOf?, windowMonths? }   (object: the S3 event's detail.object)
 * Returns: { source, version, eventTime, asOf, windowMonths, records, valid, repaired, warnings,
 *            rejected, rejectedExpiring, rejectedExpiringRecords, reasonCounts, expiring, expired,
 *            unknownFields, stagedObject, outputs: { staging, rejected, quality, expiring } }
 *          (valid + rejected = records; stagedObject is the staging object's s3:// URI, what the MERGE reads)
 * Throws:  EnvironmentError, InvalidEventError, BucketNotAllowedError, PrefixNotAllowedError,
 *          SourceNotFoundError, SourceChangedError, DecompressedSizeExceededError, CorruptGzipError,
 *          MalformedJsonArrayError, InvalidUtf16Error (nothing written), NoValidRecordsError (outputs
 *          written first; its message adds a hint for a CSV, a workbook or Windows-1252 text),
 *          RejectedShareExceededError (rejected and quality written; nothing staged, no expiring list).
 */
import type { Context } from "aws-lambda";
import { DATA_PREFIXES } from "../../core/data-layout";
import { DecompressedSizeExceededError, NoValidRecordsError, RejectedShareExceededError } from "../shared/errors";
import { createLogger } from "../shared/logger";
import { filterOutputKeys, sourceVersionName, type FilterOutputKeys } from "../shared/output-keys";
import { openObject, startObjectUpload, type ObjectUpload, type OpenedObject } from "../shared/s3";
import { expiryWindow } from "./expiry-window";
import {
  filterFacilities,
  type FacilityOutputs,
  type FilterFacilitiesSummary,
  type RejectedExpiring,
} from "./filter-facilities";
import { parseFilterExpiringEvent, readFilterExpiringSettings, type FilterExpiringRequest } from "./request";

const logger = createLogger("filter-expiring");

export interface FilterExpiringResult {
  /** The source object's key. */
  readonly source: string;
  /** The version read: its version id, or etag:<ETag> when the bucket is not versioned (source_version). */
  readonly version: string;
  /** When the version was created (the event's time), ISO 8601 UTC with milliseconds (event_time). */
  readonly eventTime: string;
  /** The as-of date used, YYYY-MM-DD. */
  readonly asOf: string;
  readonly windowMonths: number;
  readonly records: number;
  readonly valid: number;
  /** Of the valid, kept with at least one repair (see outputs.quality). */
  readonly repaired: number;
  /** Of the valid, kept with an optional field null or missing (see outputs.quality). */
  readonly warnings: number;
  readonly rejected: number;
  /** Of the rejected, those still showing a facility_id and an accreditation inside the window. */
  readonly rejectedExpiring: number;
  /** The first of them (at most 20): the state machine's notification names them. */
  readonly rejectedExpiringRecords: readonly RejectedExpiring[];
  /** Rejection reasons and how many records had each, most frequent first (at most 20). */
  readonly reasonCounts: Readonly<Record<string, number>>;
  /** Repairs and warnings ("field: what") and how many records had each, most frequent first (at most 20 each). */
  readonly repairCounts: Readonly<Record<string, number>>;
  readonly warningCounts: Readonly<Record<string, number>>;
  readonly expiring: number;
  readonly expired: number;
  readonly unknownFields: number;
  /** s3://<bucket>/<outputs.staging>: the staged records, as the staging table's "$path" names them. */
  readonly stagedObject: string;
  /** The keys written, in the same bucket. */
  readonly outputs: FilterOutputKeys;
}

const JSON_LINES = "application/x-ndjson";

export async function handler(event: unknown, context?: Context): Promise<FilterExpiringResult> {
  if (context !== undefined) logger.addContext(context);
  const settings = readFilterExpiringSettings();
  const request = parseFilterExpiringEvent(event, settings);
  logger.appendKeys({ source: request.key });
  let first: OpenedObject | undefined;
  try {
    // The first read tells which version this is (when the event does not) and when it was made.
    first = await openChecked(request, settings.maxDecompressedBytes);
    const versionId = request.versionId ?? first.versionId;
    const eTag = request.etag ?? first.eTag?.replaceAll('"', "") ?? "";
    const version = versionId === undefined ? { etag: eTag } : { versionId };
    const outputs = filterOutputKeys(request.key, version);
    const eventTime = request.eventTime ?? (first.lastModified ?? new Date()).toISOString();
    const summary = await filterFacilities({
      source: request.key,
      window: expiryWindow(request.asOf, request.windowMonths),
      maxLineBytes: settings.maxLineBytes,
      maxDecompressedBytes: settings.maxDecompressedBytes,
      maxRejectedShare: settings.maxRejectedShare,
      records: request.key.startsWith(DATA_PREFIXES.retirements) ? "retirements" : "facilities",
      provenance: {
        source_key: request.key,
        source_version: sourceVersionName(version),
        event_time: eventTime,
        sequencer: request.sequencer,
      },
      openSource: async () => {
        const opened =
          first ?? (await openChecked({ ...request, versionId, etag: eTag }, settings.maxDecompressedBytes));
        first = undefined;
        return opened.body;
      },
      openOutputs: () => s3Outputs(request.bucket, outputs),
    });
    const result: FilterExpiringResult = {
      source: request.key,
      version: sourceVersionName(version),
      eventTime,
      asOf: request.asOf,
      windowMonths: request.windowMonths,
      records: summary.records,
      valid: summary.valid,
      repaired: summary.repaired,
      warnings: summary.warnings,
      rejected: summary.rejected,
      rejectedExpiring: summary.rejectedExpiring,
      rejectedExpiringRecords: summary.rejectedExpiringRecords,
      reasonCounts: summary.reasonCounts,
      repairCounts: summary.repairCounts,
      warningCounts: summary.warningCounts,
      expiring: summary.expiring,
      expired: summary.expired,
      unknownFields: summary.unknownFields,
      stagedObject: `s3://${request.bucket}/${outputs.staging}`,
      outputs,
    };
    logger.info("source filtered", {
      ...result,
      superseded: summary.superseded,
      format: summary.format,
      passes: summary.passes,
      unknownFieldCounts: summary.unknownFieldCounts,
    });
    const rejectedUri = `s3://${request.bucket}/${outputs.rejected}`;
    const hint = summary.wrongFileHint === undefined ? "" : `. ${request.key} ${summary.wrongFileHint}`;
    if (summary.records > 0 && summary.valid === 0) {
      const first = summary.firstRejection;
      throw new NoValidRecordsError(
        `${request.key}: none of its ${summary.records} records is valid; see ${rejectedUri}` +
          (first === undefined ? "" : ` (first: line ${first.line}, ${first.field}: ${first.message})`) +
          hint +
          rejectedExpiringSentence(summary),
        { ...result },
      );
    }
    if (summary.rejectedShareExceeded) {
      throw new RejectedShareExceededError(
        `${request.key}: ${summary.rejected - summary.superseded} of its ${summary.records} records ` +
          `(${percent((summary.rejected - summary.superseded) / summary.records)}) are invalid, more than ` +
          `MAX_REJECTED_SHARE (${percent(settings.maxRejectedShare)}): nothing was applied to the current state. ` +
          `Most common reasons: ${topReasons(summary.reasonCounts, 3)}. See ${rejectedUri}` +
          hint +
          rejectedExpiringSentence(summary),
        { ...result },
      );
    }
    return result;
  } catch (error) {
    logger.error("filter-expiring failed", error as Error);
    throw error;
  } finally {
    first?.body.destroy();
    logger.resetKeys();
  }
}

/** 0.333 -> "33.3%". */
function percent(share: number): string {
  return `${Number((share * 100).toFixed(1))}%`;
}

/** The `count` most common reasons: `location.state: expected ... (5); (record): not valid JSON (3)`. */
function topReasons(reasonCounts: Readonly<Record<string, number>>, count: number): string {
  return Object.entries(reasonCounts)
    .slice(0, count)
    .map(([reason, n]) => `${reason} (${n})`)
    .join("; ");
}

/** For a failed ingest's message: the rejected records that still show an expiring accreditation. */
function rejectedExpiringSentence(summary: FilterFacilitiesSummary): string {
  if (summary.rejectedExpiring === 0) return "";
  const named = summary.rejectedExpiringRecords
    .slice(0, 5)
    .map((r) => `${r.facility_id} (line ${r.line}, ${r.valid_until})`)
    .join(", ");
  const records =
    summary.rejectedExpiring === 1 ? "1 rejected record shows" : `${summary.rejectedExpiring} rejected records show`;
  return `. ${records} an accreditation expiring within the window: ${named}`;
}

/**
 * Opens the requested version of the source: by version id when known, else pinned to the
 * event's ETag (a different object under the key fails as SourceChangedError). A source larger
 * than MAX_DECOMPRESSED_BYTES fails before any byte is read.
 */
async function openChecked(
  request: Pick<FilterExpiringRequest, "bucket" | "key" | "versionId" | "etag">,
  maxDecompressedBytes: number,
): Promise<OpenedObject> {
  const object = await openObject(request.bucket, request.key, request.etag, request.versionId);
  if (object.contentLength !== undefined && object.contentLength > maxDecompressedBytes) {
    object.body.destroy();
    throw new DecompressedSizeExceededError(
      `${request.key} is ${object.contentLength} bytes, more than MAX_DECOMPRESSED_BYTES (${maxDecompressedBytes}); nothing was written`,
    );
  }
  return object;
}

/**
 * The four outputs as streamed uploads. An empty output is still written (an empty object), so
 * every version has all four; a redelivered event of the same version rewrites the same bytes.
 */
function s3Outputs(bucket: string, keys: FilterOutputKeys): FacilityOutputs {
  const onDiscardError = (error: unknown) => logger.warn("discarding an output failed", { error: error as Error });
  const staged = startObjectUpload(bucket, keys.staging, JSON_LINES, onDiscardError);
  const rejected = startObjectUpload(bucket, keys.rejected, JSON_LINES, onDiscardError);
  const quality = startObjectUpload(bucket, keys.quality, JSON_LINES, onDiscardError);
  const expiring = startObjectUpload(bucket, keys.expiring, JSON_LINES, onDiscardError);
  const all: ObjectUpload[] = [staged, rejected, quality, expiring];
  return {
    staged: staged.stream,
    rejected: rejected.stream,
    quality: quality.stream,
    expiring: expiring.stream,
    async commit(options = {}) {
      const dropped = options.kept === false ? [staged, expiring] : [];
      const reason = new Error("past MAX_REJECTED_SHARE: no kept record is published");
      await Promise.all(dropped.map((upload) => upload.discard(reason)));
      const results = await Promise.allSettled(
        all.filter((upload) => !dropped.includes(upload)).map((upload) => upload.complete()),
      );
      const failure = results.find((result) => result.status === "rejected");
      if (failure !== undefined) throw failure.reason;
    },
    async discard(reason: Error) {
      await Promise.all(all.map((upload) => upload.discard(reason)));
    },
  };
}
