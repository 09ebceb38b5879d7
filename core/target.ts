/**
 * What the subcommands need from where the pipeline runs: the deployed stack in AWS
 * (aws/target.ts) or the local mode's state directory (local/target.ts). The subcommands in cli/
 * (replay, status, query, notify-test, cat) choose, format and decide exit codes; a target only
 * talks to its services. Both targets import this module and nothing of each other.
 */
import type { CreatedObject } from "./s3-event";
import type { RunSettings } from "./settings";

/** One object version in the data bucket, as the S3 "Object Created" event describes it. */
export type SourceObject = CreatedObject;

/** What happened to one replay request. */
export type ReplayOutcome = "started" | "already-started" | "would-start";

export interface ReplayResult {
  readonly object: SourceObject;
  readonly executionName: string;
  readonly executionArn: string;
  readonly outcome: ReplayOutcome;
  /** The final status, when the target runs executions to completion (local). */
  readonly status?: ExecutionStatus;
  readonly failure?: ExecutionFailure | null;
}

/** Step Functions' execution statuses. */
export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED" | "PENDING_REDRIVE";

/** The statuses `status` reports as failures (non-zero exit code). */
export const FAILED_STATUSES: ReadonlySet<string> = new Set(["FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]);

export interface ExecutionFailure {
  /** The state whose error failed the execution, when the history shows one. */
  readonly state: string | null;
  readonly error: string | null;
  readonly cause: string | null;
}

/** One execution as `status` shows it. */
export interface ExecutionSummary {
  readonly name: string;
  readonly executionArn: string;
  readonly status: ExecutionStatus;
  /** ISO 8601. */
  readonly startDate: string;
  readonly stopDate: string | null;
  /** The object the execution processed (from its input), null when the input is not an S3 event. */
  readonly source: { readonly bucket: string; readonly key: string } | null;
  readonly failure: ExecutionFailure | null;
}

export interface ExecutionListing {
  /** Newest first. */
  readonly executions: readonly ExecutionSummary[];
  /** True when --limit stopped the listing before --since did. */
  readonly truncated: boolean;
}

/** A query to run: the text of a sql/ file, or an Athena named query by id. */
export type QueryRequest =
  | {
      readonly kind: "sql";
      readonly name: string;
      readonly queryString: string;
      /** Athena ExecutionParameters (SQL literals) for the query's `?` placeholders, in order. */
      readonly parameters: readonly string[];
      /** The as-of date (YYYY-MM-DD) the query answers for: the local engine's current_date too. */
      readonly asOf: string;
    }
  | { readonly kind: "named-query"; readonly namedQueryId: string };

export interface QueryResult {
  readonly queryExecutionId: string;
  readonly state: "SUCCEEDED" | "FAILED" | "CANCELLED";
  /** Why it failed (Athena's StateChangeReason), when it did. */
  readonly reason?: string;
  readonly columns: readonly string[];
  /** Values as Athena returns them: strings, null for SQL NULL. */
  readonly rows: readonly (readonly (string | null)[])[];
  readonly dataScannedInBytes: number;
  readonly engineExecutionTimeInMillis?: number;
  readonly outputLocation?: string;
  readonly workgroup: string;
  readonly database: string;
}

export interface PublishedNotification {
  readonly topicArn: string;
  readonly messageId: string;
  /** Where the local target appended it. */
  readonly outbox?: string;
}

export interface TestNotification {
  readonly subject: string;
  readonly message: string;
}

/** What a digest run may pin; the rest comes from the deployment's defaults. */
export interface DigestRequest {
  /** YYYY-MM-DD. @default the execution's start date */
  readonly asOf?: string;
  readonly windowMonths?: number;
  readonly lookbackDays?: number;
}

/** One accreditation of the digest (a row of sql/expiry_digest.sql). */
export interface DigestRow {
  readonly facility_id: string;
  readonly facility_name: string;
  readonly state: string;
  readonly accreditation_body: string;
  readonly accreditation_id: string;
  readonly valid_until: string;
  readonly days_until_expiry: number;
  readonly horizon: string;
}

/** One execution of the expiry-digest workflow, run to its end. */
export interface DigestRun {
  readonly executionArn: string;
  readonly status: ExecutionStatus;
  readonly failure: ExecutionFailure | null;
  /** The execution's digest settings (DigestDate), when it got that far. */
  readonly settings: { readonly asOf: string; readonly windowMonths: number; readonly lookbackDays: number } | null;
  /** Rows per horizon. */
  readonly horizons: Readonly<Record<string, number>>;
  /** Every row of the published CSV, soonest first (expired ones, with negative days, first). */
  readonly rows: readonly DigestRow[];
  /** Where the CSV was published: analytics/expiry_digest/run_date=.../<execution>.csv. */
  readonly runKey: string | null;
  /** What was sent to the compliance topic, if anything: its subject and message. */
  readonly notification: { readonly subject: string; readonly message: string } | null;
}

/** A place the pipeline runs. */
export interface Target {
  /** "aws" or "local", for messages. */
  readonly kind: "aws" | "local";
  /** The data bucket's name. */
  readonly bucket: string;
  /** What the state machine is called there, for messages. */
  readonly stateMachine: string;

  /** Every object under a raw/ prefix, in key order. */
  listObjects(prefix: string): Promise<SourceObject[]>;
  /** The current version of objects named by key; throws UsageError naming every missing one. */
  describeObjects(keys: readonly string[]): Promise<SourceObject[]>;
  /** Whether an execution with this name exists already (for --dry-run). */
  executionExists(executionName: string): Promise<boolean>;
  /** Starts one execution for an object; an existing name is "already-started", not an error. */
  startExecution(object: SourceObject, executionName: string, settings?: RunSettings): Promise<ReplayResult>;
  /** Executions started at or after `since`, newest first, at most `limit`. */
  listExecutions(since: Date, limit: number): Promise<ExecutionListing>;
  runQuery(request: QueryRequest, timeoutMs: number): Promise<QueryResult>;
  /** Runs the expiry-digest workflow and waits for it (at most `timeoutMs`), then reads its CSV. */
  runDigest(request: DigestRequest, timeoutMs: number): Promise<DigestRun>;
  publishTestNotification(notification: TestNotification): Promise<PublishedNotification>;
  /** The bytes of one object in the data bucket; throws UsageError when there is no such key. */
  readObject(key: string): Promise<AsyncIterable<Uint8Array>>;
  /** Releases what the target started (the local S3 endpoint, DuckDB). */
  close(): Promise<void>;
}

/** A request the target cannot act on because of what the user gave (a missing object, a flag): exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The name (for SDK errors, the error code) of anything thrown. */
export function errorName(error: unknown): string {
  if (error && typeof error === "object") {
    const named = error as { name?: unknown; Code?: unknown };
    if (typeof named.name === "string" && named.name !== "Error") return named.name;
    if (typeof named.Code === "string") return named.Code;
    if (typeof named.name === "string") return named.name;
  }
  return typeof error;
}
