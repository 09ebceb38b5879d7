/**
 * The local mode's state directory as a target: the same subcommands without AWS.
 *
 * Objects are those the local runner keeps in `<state dir>/s3` (npm start -- --state-dir DIR).
 * A replay runs the execution to completion with LocalPipeline and records it as
 * `<state dir>/executions/<execution name>.json`: that record is what makes a second replay of
 * the same object version "already started", as Step Functions' execution names do, and what
 * `status` reads. Queries run the sql/ text in LocalAthena (DuckDB); notify-test appends to the
 * outbox `<state dir>/outbox/notifications.jsonl`, where the workflow's notifications go.
 */
import { randomUUID } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { LOCAL_DATABASE } from "../core/data-layout";
import { readResultRows } from "./athena";
import type { RunSettings } from "../core/settings";
import { LOCAL_AWS } from "./local-aws";
import { stateDirLayout } from "./state-dir";
import { LocalPipeline, type ExecutionResult } from "./pipeline";
import { UsageError, errorName } from "../core/target";
import { executionArnOf } from "../core/replay-event";
import { digestRunOf } from "../core/digest";
import type {
  DigestRequest,
  DigestRun,
  ExecutionFailure,
  ExecutionListing,
  ExecutionSummary,
  PublishedNotification,
  QueryRequest,
  QueryResult,
  ReplayResult,
  SourceObject,
  Target,
  TestNotification,
} from "../core/target";

/** A local execution record, as `status --target local` reads it. */
export type LocalExecutionRecord = ExecutionSummary & {
  readonly ingest: ExecutionResult["ingest"];
  readonly durationMs: number;
};

export class LocalTarget implements Target {
  readonly kind = "local";
  readonly bucket = LOCAL_AWS.bucket;
  readonly stateMachine = LOCAL_AWS.stateMachineArn;
  private pipelineStarted?: Promise<LocalPipeline>;

  /** `stateDir` must exist: it is what the local runner left there. */
  constructor(readonly stateDir: string) {
    if (!existsSync(stateDir) || !statSync(stateDir).isDirectory()) {
      throw new UsageError(
        `--state-dir ${stateDir}: no such directory. Create one by running the pipeline locally with it, ` +
          `e.g. npm start -- data/sample_facility_data.json --state-dir ${stateDir}`,
      );
    }
  }

  get executionsDir(): string {
    return stateDirLayout(this.stateDir).executions;
  }

  get outboxFile(): string {
    return stateDirLayout(this.stateDir).outboxFile;
  }

  async listObjects(prefix: string): Promise<SourceObject[]> {
    const pipeline = await this.pipeline();
    const keys = (await pipeline.listKeys(prefix)).filter((key) => !key.endsWith("/"));
    return this.describeObjects(keys);
  }

  async describeObjects(keys: readonly string[]): Promise<SourceObject[]> {
    const pipeline = await this.pipeline();
    const objects: SourceObject[] = [];
    const missing: string[] = [];
    for (const key of keys) {
      try {
        const head = await pipeline.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
        objects.push({
          bucket: this.bucket,
          key,
          size: head.ContentLength ?? 0,
          etag: (head.ETag ?? "").replaceAll('"', ""),
          ...(head.LastModified ? { lastModified: head.LastModified.toISOString() } : {}),
        });
      } catch (error) {
        if (errorName(error) !== "NotFound" && errorName(error) !== "NoSuchKey") throw error;
        missing.push(`s3://${this.bucket}/${key}`);
      }
    }
    if (missing.length > 0) {
      throw new UsageError(`No such object: ${missing.join(", ")} (in the local bucket of ${this.stateDir})`);
    }
    return objects;
  }

  async executionExists(executionName: string): Promise<boolean> {
    return existsSync(this.recordFile(executionName));
  }

  async startExecution(object: SourceObject, executionName: string, settings?: RunSettings): Promise<ReplayResult> {
    const executionArn = executionArnOf(this.stateMachine, executionName);
    const existing = this.readRecord(this.recordFile(executionName));
    if (existing) {
      return {
        object,
        executionName,
        executionArn,
        outcome: "already-started",
        status: existing.status,
        failure: existing.failure,
      };
    }
    const pipeline = await this.pipeline();
    const startDate = new Date();
    const result = await pipeline.runExecution(object.key, settings);
    const record = recordLocalExecution(this.stateDir, result, { startDate, executionName, bucket: this.bucket });
    return { object, executionName, executionArn, outcome: "started", status: record.status, failure: record.failure };
  }

  async listExecutions(since: Date, limit: number): Promise<ExecutionListing> {
    const dir = this.executionsDir;
    const records = existsSync(dir)
      ? readdirSync(dir)
          .filter((file) => file.endsWith(".json"))
          .map((file) => this.readRecord(join(dir, file)))
          .filter((record): record is LocalExecutionRecord => record !== undefined)
      : [];
    const recent = records
      .filter((record) => new Date(record.startDate) >= since)
      .sort((a, b) => b.startDate.localeCompare(a.startDate));
    const executions = recent
      .slice(0, limit)
      .map(({ name, executionArn, status, startDate, stopDate, source, failure }): ExecutionSummary => ({
        name,
        executionArn,
        status,
        startDate,
        stopDate,
        source,
        failure,
      }));
    return { executions, truncated: recent.length > limit };
  }

  async runQuery(request: QueryRequest): Promise<QueryResult> {
    if (request.kind === "named-query") {
      throw new UsageError("Named queries exist only in AWS; locally, run a sql/ query by name");
    }
    const pipeline = await this.pipeline();
    // The pipeline's own engine: one DuckDB per process holds the state directory's catalog file.
    const { QueryExecution: execution } = await pipeline.startQuery(
      {
        QueryString: request.queryString,
        QueryExecutionContext: { Database: LOCAL_DATABASE },
        WorkGroup: LOCAL_AWS.workgroup,
        ...(request.parameters.length > 0 && { ExecutionParameters: request.parameters }),
      },
      { currentDate: request.asOf },
    );
    const common = {
      queryExecutionId: execution.QueryExecutionId,
      state: execution.Status.State,
      dataScannedInBytes: execution.Statistics.DataScannedInBytes,
      engineExecutionTimeInMillis: execution.Statistics.EngineExecutionTimeInMillis,
      outputLocation: execution.ResultConfiguration.OutputLocation,
      workgroup: LOCAL_AWS.workgroup,
      database: LOCAL_DATABASE,
    };
    if (execution.Status.State !== "SUCCEEDED") {
      return { ...common, reason: execution.Status.StateChangeReason, columns: [], rows: [] };
    }
    const key = execution.ResultConfiguration.OutputLocation.replace(`s3://${this.bucket}/`, "");
    const csv = await pipeline.readObject(key);
    const header = csv.slice(0, csv.indexOf("\n") + 1);
    // readResultRows keys each row by the header; reading the header twice gives its column names
    // even when the result has no rows.
    const columns = header ? Object.keys(readResultRows(header + header)[0] ?? {}) : [];
    const rows = readResultRows(csv).map((row) => columns.map((column) => row[column] ?? null));
    return { ...common, columns, rows };
  }

  /**
   * Runs the expiry-digest workflow on the state directory's current table (LocalPipeline.runDigest:
   * the same ASL, SQL and relocate handler); what it sent is in the compliance outbox.
   */
  async runDigest(request: DigestRequest): Promise<DigestRun> {
    const pipeline = await this.pipeline();
    const result = await pipeline.runDigest(request);
    const compliance = result.notifications.find((n) => n.topic === LOCAL_AWS.complianceTopicArn);
    return digestRunOf({
      executionArn: result.executionArn,
      status: result.status,
      failure: result.error ? localFailure(result) : null,
      output: result.output,
      csvText: result.published ? await pipeline.readObject(result.published.runKey) : null,
      notification: compliance ? { subject: compliance.subject, message: compliance.message } : null,
    });
  }

  async publishTestNotification(notification: TestNotification): Promise<PublishedNotification> {
    mkdirSync(stateDirLayout(this.stateDir).outbox, { recursive: true });
    // The same line shape as the workflow's NotifyFailure state writes locally.
    const line = { topic: LOCAL_AWS.failureTopicArn, subject: notification.subject, message: notification.message };
    appendFileSync(this.outboxFile, `${JSON.stringify(line)}\n`);
    return { topicArn: LOCAL_AWS.failureTopicArn, messageId: randomUUID(), outbox: this.outboxFile };
  }

  async readObject(key: string): Promise<AsyncIterable<Uint8Array>> {
    const pipeline = await this.pipeline();
    try {
      const object = await pipeline.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return object.Body as AsyncIterable<Uint8Array>;
    } catch (error) {
      if (errorName(error) !== "NoSuchKey" && errorName(error) !== "NotFound") throw error;
      throw new UsageError(`No such object: s3://${this.bucket}/${key} (in the local bucket of ${this.stateDir})`);
    }
  }

  async close(): Promise<void> {
    if (this.pipelineStarted) await (await this.pipelineStarted).stop();
  }

  /** The local S3 endpoint and workflow over the state directory, started when first needed. */
  private pipeline(): Promise<LocalPipeline> {
    this.pipelineStarted ??= LocalPipeline.start({ stateDir: this.stateDir });
    return this.pipelineStarted;
  }

  private recordFile(executionName: string): string {
    return join(this.executionsDir, `${executionName}.json`);
  }

  private readRecord(file: string): LocalExecutionRecord | undefined {
    if (!existsSync(file)) return undefined;
    try {
      return JSON.parse(readFileSync(file, "utf8")) as LocalExecutionRecord;
    } catch {
      return undefined;
    }
  }
}

/**
 * Writes the record of a local execution to `<state dir>/executions/<name>.json`, where
 * `status --target local` finds it. Exported so the local runner can record its runs too.
 */
export function recordLocalExecution(
  stateDir: string,
  result: ExecutionResult,
  options: { readonly startDate: Date; readonly executionName?: string; readonly bucket?: string },
): LocalExecutionRecord {
  const name = options.executionName ?? result.executionName;
  const record: LocalExecutionRecord = {
    name,
    executionArn: executionArnOf(LOCAL_AWS.stateMachineArn, name),
    status: result.status,
    startDate: options.startDate.toISOString(),
    stopDate: new Date(options.startDate.getTime() + result.durationMs).toISOString(),
    source: { bucket: options.bucket ?? LOCAL_AWS.bucket, key: result.source },
    failure: result.error ? localFailure(result) : null,
    ingest: result.ingest,
    durationMs: result.durationMs,
  };
  const { executions } = stateDirLayout(stateDir);
  mkdirSync(executions, { recursive: true });
  writeFileSync(join(executions, `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/**
 * The failing state of a local execution: a failed Analyze branch names its state at the start of
 * the cause ("CountAccreditedByState failed: ..."); otherwise the notification's subject names it.
 */
function localFailure(result: Pick<ExecutionResult, "error" | "notifications">): ExecutionFailure {
  const { error, cause } = result.error!;
  const fromCause = /^([A-Za-z0-9_-]+) failed: /.exec(cause)?.[1];
  const fromSubject = result.notifications
    .map((notification) => / failed in ([A-Za-z0-9_-]+)$/.exec(notification.subject)?.[1])
    .find(Boolean);
  return { state: fromCause ?? fromSubject ?? null, error, cause };
}
