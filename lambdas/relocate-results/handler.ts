/**
 * Lambda relocate-results: publishes an Athena query's result CSV under analytics/.
 *
 * Event:   { dataset, queryExecutionId, outputLocation, executionName, asOf }
 * Copies:  outputLocation -> analytics/<dataset>/run_date=YYYY-MM-DD/<executionName>.csv
 *                         -> analytics/<dataset>/latest.csv
 * Returns: { dataset, source: outputLocation, runKey, latestKey }, and for the expiry_digest
 *          dataset `digest`: the rows per horizon and the soonest ones (digest-summary.ts), what
 *          the compliance message says.
 * Throws:  EnvironmentError, InvalidEventError, BucketNotAllowedError, PrefixNotAllowedError (a
 *          source outside DATA_BUCKET's athena-results/, a destination outside analytics/),
 *          SourceNotFoundError.
 * Both copies are server-side (CopyObject) and idempotent: a replayed event rewrites the same keys.
 */
import { CopyObjectCommand, GetObjectCommand, S3ServiceException } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { requiredEnv } from "../shared/environment";
import { SourceNotFoundError } from "../shared/errors";
import { createLogger } from "../shared/logger";
import { analyticsKeys } from "../shared/output-keys";
import { s3Client } from "../shared/s3";
import { summarizeDigest, type DigestSummary } from "./digest-summary";
import { parseRelocateResultsEvent } from "./request";

/** The dataset whose result is also summarized for the compliance digest. */
export const DIGEST_DATASET = "expiry_digest";

const logger = createLogger("relocate-results");

export interface RelocateResultsResult {
  readonly dataset: string;
  /** The outputLocation copied from. */
  readonly source: string;
  /** analytics/<dataset>/run_date=YYYY-MM-DD/<executionName>.csv */
  readonly runKey: string;
  /** analytics/<dataset>/latest.csv */
  readonly latestKey: string;
  /** For the expiry_digest dataset only. */
  readonly digest?: DigestSummary;
}

export async function handler(event: unknown, context?: Context): Promise<RelocateResultsResult> {
  if (context !== undefined) logger.addContext(context);
  const dataBucket = requiredEnv("DATA_BUCKET");
  const request = parseRelocateResultsEvent(event, dataBucket);
  const { runKey, latestKey } = analyticsKeys(request.dataset, request.runDate, request.executionName);
  logger.appendKeys({ dataset: request.dataset, queryExecutionId: request.queryExecutionId });
  try {
    for (const destination of [runKey, latestKey]) {
      await copyObject(dataBucket, request.sourceKey, destination);
    }
    const result: RelocateResultsResult = {
      dataset: request.dataset,
      source: request.outputLocation,
      runKey,
      latestKey,
      ...(request.dataset === DIGEST_DATASET && {
        digest: summarizeDigest(await readText(dataBucket, request.sourceKey)),
      }),
    };
    logger.info("query result published", { ...result, digest: result.digest && { rows: result.digest.rows } });
    return result;
  } catch (error) {
    logger.error("relocate-results failed", error as Error);
    throw error;
  } finally {
    logger.resetKeys();
  }
}

async function readText(bucket: string, key: string): Promise<string> {
  const object = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString("utf8");
}

async function copyObject(bucket: string, sourceKey: string, destinationKey: string): Promise<void> {
  try {
    await s3Client().send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: destinationKey,
        CopySource: `${bucket}/${sourceKey.split("/").map(encodeURIComponent).join("/")}`,
        ContentType: "text/csv; charset=utf-8",
        MetadataDirective: "REPLACE",
      }),
    );
  } catch (error) {
    if (error instanceof S3ServiceException && (error.name === "NoSuchKey" || error.$metadata.httpStatusCode === 404)) {
      throw new SourceNotFoundError(`The query result s3://${bucket}/${sourceKey} does not exist`);
    }
    throw error;
  }
}
