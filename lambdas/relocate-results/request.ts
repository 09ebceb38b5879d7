/**
 * The relocate-results event, checked before anything is copied.
 */
import { DATA_PREFIXES } from "../../core/data-layout";
import { utcDateOf } from "../../core/calendar-date";
import { BucketNotAllowedError, InvalidEventError } from "../shared/errors";
import { assertKeyUnder } from "../shared/output-keys";

/** The input of relocate-results, as the state machine sends it after an Athena query. */
export interface RelocateResultsEvent {
  /** Names the analytics folder: lowercase letters, digits and underscores, e.g. "state_counts". */
  readonly dataset: string;
  readonly queryExecutionId: string;
  /** The query's result CSV: s3://<DATA_BUCKET>/athena-results/....csv */
  readonly outputLocation: string;
  /** $$.Execution.Name: names the copied file. */
  readonly executionName: string;
  /**
   * The execution's as-of date ($.run.settings.asOf: YYYY-MM-DD, or by default the execution's
   * start time): its UTC date is the run_date partition, the date the results describe.
   */
  readonly asOf: string;
}

export interface RelocateResultsRequest {
  readonly dataset: string;
  readonly queryExecutionId: string;
  readonly outputLocation: string;
  readonly sourceBucket: string;
  readonly sourceKey: string;
  readonly executionName: string;
  /** YYYY-MM-DD (UTC). */
  readonly runDate: string;
}

const DATASET = /^[a-z0-9_]{1,64}$/;
/**
 * Step Functions execution names: 1-80 characters without whitespace, brackets, wildcards or
 * any of " # % \ ^ | ~ ` $ & , ; : /. Of those allowed, this keeps the ones that are safe in an
 * S3 key and in a file name; ".." is refused separately.
 */
const EXECUTION_NAME = /^[A-Za-z0-9_.\-!'()+=@]{1,80}$/;
const QUERY_EXECUTION_ID = /^[A-Za-z0-9-]{1,128}$/;
const S3_URI = /^s3:\/\/([^/]+)\/(.+)$/;

/**
 * Checks an event: every shape problem at once (InvalidEventError), then the source bucket
 * (BucketNotAllowedError) and prefix (PrefixNotAllowedError).
 */
export function parseRelocateResultsEvent(event: unknown, dataBucket: string): RelocateResultsRequest {
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    throw new InvalidEventError(
      `Invalid relocate-results event: expected an object, received ${JSON.stringify(event) ?? "nothing"}`,
    );
  }
  const { dataset, queryExecutionId, outputLocation, executionName, asOf } = event as Record<string, unknown>;
  const problems: string[] = [];
  const received = (value: unknown) => `(received ${value === undefined ? "nothing" : JSON.stringify(value)})`;
  if (typeof dataset !== "string" || !DATASET.test(dataset)) {
    problems.push(
      `dataset: expected 1-64 lowercase letters, digits or underscores, such as "state_counts" ${received(dataset)}`,
    );
  }
  if (typeof queryExecutionId !== "string" || !QUERY_EXECUTION_ID.test(queryExecutionId)) {
    problems.push(`queryExecutionId: expected an Athena query execution id ${received(queryExecutionId)}`);
  }
  const location = typeof outputLocation === "string" ? S3_URI.exec(outputLocation) : null;
  if (location === null || !location[2].endsWith(".csv")) {
    problems.push(
      `outputLocation: expected s3://<bucket>/${DATA_PREFIXES.athenaResults}<name>.csv ${received(outputLocation)}`,
    );
  }
  if (typeof executionName !== "string" || !EXECUTION_NAME.test(executionName) || executionName.includes("..")) {
    problems.push(
      `executionName: expected a Step Functions execution name (1-80 of A-Z a-z 0-9 _ . - ! ' ( ) + = @, no "..") ${received(executionName)}`,
    );
  }
  const runDate = typeof asOf === "string" ? utcDateOf(asOf) : undefined;
  if (runDate === undefined) {
    problems.push(
      `asOf: expected a date YYYY-MM-DD or an ISO timestamp such as 2026-11-26T14:24:24.123Z ${received(asOf)}`,
    );
  }
  if (problems.length > 0)
    throw new InvalidEventError(`Invalid relocate-results event:\n  - ${problems.join("\n  - ")}`);

  const [, sourceBucket, sourceKey] = location as RegExpExecArray;
  if (sourceBucket !== dataBucket) {
    throw new BucketNotAllowedError(
      `relocate-results only copies from the data bucket ${JSON.stringify(dataBucket)} (DATA_BUCKET); outputLocation names ${JSON.stringify(sourceBucket)}`,
    );
  }
  assertKeyUnder(sourceKey, DATA_PREFIXES.athenaResults, "query result (outputLocation)");
  return {
    dataset: dataset as string,
    queryExecutionId: queryExecutionId as string,
    outputLocation: outputLocation as string,
    sourceBucket,
    sourceKey,
    executionName: executionName as string,
    runDate: runDate as string,
  };
}
