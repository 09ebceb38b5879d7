/**
 * Lambda filter-expiring: ingests one uploaded object (raw/...) and writes its curated, rejected
 * and expiring outputs. See filter-facilities.ts for how, request.ts for the event and settings.
 *
 * Event:   { bucket, key, asOf?, windowMonths? }
 * Returns: { source, asOf, windowMonths, records, valid, rejected, expiring, expired,
 *            unknownFields, outputs: { curated, rejected, expiring } }   (valid + rejected = records)
 * Throws:  EnvironmentError, InvalidEventError, BucketNotAllowedError, PrefixNotAllowedError,
 *          SourceNotFoundError, SourceChangedError, DecompressedSizeExceededError, CorruptGzipError,
 *          MalformedJsonArrayError (nothing written), NoValidRecordsError (outputs written first).
 */
import type { Context } from "aws-lambda";
import { DecompressedSizeExceededError, NoValidRecordsError } from "../shared/errors";
import { createLogger } from "../shared/logger";
import { filterOutputKeys, type FilterOutputKeys } from "../shared/output-keys";
import { openObject, startObjectUpload, type ObjectUpload } from "../shared/s3";
import { expiryWindow } from "./expiry-window";
import { filterFacilities, type FacilityOutputs } from "./filter-facilities";
import { parseFilterExpiringEvent, readFilterExpiringSettings } from "./request";

const logger = createLogger("filter-expiring");

export interface FilterExpiringResult {
  /** The source object's key. */
  readonly source: string;
  /** The as-of date used, YYYY-MM-DD. */
  readonly asOf: string;
  readonly windowMonths: number;
  readonly records: number;
  readonly valid: number;
  readonly rejected: number;
  readonly expiring: number;
  readonly expired: number;
  readonly unknownFields: number;
  /** The keys written, in the same bucket. */
  readonly outputs: FilterOutputKeys;
}

const JSON_LINES = "application/x-ndjson";

export async function handler(event: unknown, context?: Context): Promise<FilterExpiringResult> {
  if (context !== undefined) logger.addContext(context);
  const settings = readFilterExpiringSettings();
  const request = parseFilterExpiringEvent(event, settings);
  const outputs = filterOutputKeys(request.key);
  logger.appendKeys({ source: request.key });
  try {
    let eTag: string | undefined;
    const summary = await filterFacilities({
      source: request.key,
      window: expiryWindow(request.asOf, request.windowMonths),
      maxLineBytes: settings.maxLineBytes,
      maxDecompressedBytes: settings.maxDecompressedBytes,
      openSource: async () => {
        const object = await openObject(request.bucket, request.key, eTag);
        eTag ??= object.eTag;
        if (object.contentLength !== undefined && object.contentLength > settings.maxDecompressedBytes) {
          object.body.destroy();
          throw new DecompressedSizeExceededError(
            `${request.key} is ${object.contentLength} bytes, more than MAX_DECOMPRESSED_BYTES (${settings.maxDecompressedBytes}); nothing was written`,
          );
        }
        return object.body;
      },
      openOutputs: () => s3Outputs(request.bucket, outputs),
    });
    const result: FilterExpiringResult = {
      source: request.key,
      asOf: request.asOf,
      windowMonths: request.windowMonths,
      records: summary.records,
      valid: summary.valid,
      rejected: summary.rejected,
      expiring: summary.expiring,
      expired: summary.expired,
      unknownFields: summary.unknownFields,
      outputs,
    };
    logger.info("source filtered", {
      ...result,
      superseded: summary.superseded,
      format: summary.format,
      passes: summary.passes,
      unknownFieldCounts: summary.unknownFieldCounts,
    });
    if (summary.records > 0 && summary.valid === 0) {
      const first = summary.firstRejection;
      throw new NoValidRecordsError(
        `${request.key}: none of its ${summary.records} records is valid; see s3://${request.bucket}/${outputs.rejected}` +
          (first === undefined ? "" : ` (first: line ${first.line}, ${first.field}: ${first.message})`),
        { ...result },
      );
    }
    return result;
  } catch (error) {
    logger.error("filter-expiring failed", error as Error);
    throw error;
  } finally {
    logger.resetKeys();
  }
}

/**
 * The three outputs as streamed uploads. An empty output is still written (an empty object), so
 * a re-upload under the same key replaces every output of the previous version.
 */
function s3Outputs(bucket: string, keys: FilterOutputKeys): FacilityOutputs {
  const onDiscardError = (error: unknown) => logger.warn("discarding an output failed", { error: error as Error });
  const curated = startObjectUpload(bucket, keys.curated, JSON_LINES, onDiscardError);
  const rejected = startObjectUpload(bucket, keys.rejected, JSON_LINES, onDiscardError);
  const expiring = startObjectUpload(bucket, keys.expiring, JSON_LINES, onDiscardError);
  const all: ObjectUpload[] = [curated, rejected, expiring];
  return {
    curated: curated.stream,
    rejected: rejected.stream,
    expiring: expiring.stream,
    async commit() {
      const results = await Promise.allSettled(all.map((upload) => upload.complete()));
      const failure = results.find((result) => result.status === "rejected");
      if (failure !== undefined) throw failure.reason;
    },
    async discard(reason: Error) {
      await Promise.all(all.map((upload) => upload.discard(reason)));
    },
  };
}
