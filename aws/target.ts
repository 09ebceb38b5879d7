/**
 * The deployed pipeline: S3, Step Functions, Athena and SNS through the AWS SDK, with the
 * standard credential chain. Every call goes through `call()`, which names the IAM action it
 * needs in the error, and every client retries throttling with the SDK's standard retry strategy
 * and MAX_ATTEMPTS attempts.
 */
import {
  AthenaClient,
  GetNamedQueryCommand,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type QueryExecution,
} from "@aws-sdk/client-athena";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  type HistoryEvent,
} from "@aws-sdk/client-sfn";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { AwsCallError, MAX_ATTEMPTS, OperationFailedError } from "./errors";
import { UsageError, errorName } from "../core/target";
import { failureFromHistory } from "./execution-history";
import type { RunSettings } from "../core/settings";
import { mapConcurrently } from "./map-concurrently";
import { executionArnOf, parseStateMachineArn, replayEvent } from "../core/replay-event";
import { SETTING_FLAGS, type Deployment, type DeploymentSetting } from "./stack-outputs";
import { randomUUID } from "node:crypto";
import { digestRunOf } from "../core/digest";
import {
  FAILED_STATUSES,
  type DigestRequest,
  type DigestRun,
  type ExecutionListing,
  type ExecutionStatus,
  type ExecutionSummary,
  type PublishedNotification,
  type QueryRequest,
  type QueryResult,
  type ReplayResult,
  type SourceObject,
  type Target,
  type TestNotification,
} from "../core/target";

export interface AwsTargetOptions {
  /** Where the pipeline is (from the outputs file or flags). */
  readonly deployment: Deployment;
  /** @default - the region of the state machine or topic ARN, else the SDK's (AWS_REGION, profile) */
  readonly region?: string;
  /** Merged into every client's configuration (tests pass a requestHandler and credentials). */
  readonly clientConfig?: Record<string, unknown>;
  /** The first wait between GetQueryExecution polls; it doubles up to 5 s. @default 250 */
  readonly pollDelayMs?: number;
  /** Calls in flight at once when heading objects and describing executions. @default 8 */
  readonly concurrency?: number;
}

const MAX_POLL_DELAY_MS = 5000;
const LIST_EXECUTIONS_PAGE_SIZE = 100;

export class AwsTarget implements Target {
  readonly kind = "aws";
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly athena: AthenaClient;
  readonly sns: SNSClient;
  private readonly deployment: Deployment;
  private readonly concurrency: number;

  constructor(private readonly options: AwsTargetOptions) {
    this.deployment = options.deployment;
    this.concurrency = options.concurrency ?? 8;
    const region = options.region ?? regionOf(options.deployment.stateMachineArn ?? options.deployment.topicArn);
    const config = {
      ...(region ? { region } : {}),
      maxAttempts: MAX_ATTEMPTS,
      retryMode: "standard",
      ...options.clientConfig,
    };
    this.s3 = new S3Client(config);
    this.sfn = new SFNClient(config);
    this.athena = new AthenaClient(config);
    this.sns = new SNSClient(config);
  }

  get bucket(): string {
    return this.setting("bucket");
  }

  get stateMachine(): string {
    return this.setting("stateMachineArn");
  }

  async listObjects(prefix: string): Promise<SourceObject[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.call("s3:ListBucket", `s3://${this.bucket}/${prefix}`, () =>
        this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const object of page.Contents ?? []) if (object.Key && !object.Key.endsWith("/")) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return this.describeObjects(keys.sort());
  }

  async describeObjects(keys: readonly string[]): Promise<SourceObject[]> {
    const missing: string[] = [];
    const objects = await mapConcurrently(keys, this.concurrency, async (key) => {
      try {
        const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
        return {
          bucket: this.bucket,
          key,
          size: head.ContentLength ?? 0,
          etag: (head.ETag ?? "").replaceAll('"', ""),
          ...(head.VersionId && head.VersionId !== "null" ? { versionId: head.VersionId } : {}),
          ...(head.LastModified ? { lastModified: head.LastModified.toISOString() } : {}),
        } satisfies SourceObject;
      } catch (error) {
        if (errorName(error) === "NotFound" || errorName(error) === "NoSuchKey") {
          missing.push(`s3://${this.bucket}/${key}`);
          return undefined;
        }
        // HeadObject is authorized by s3:GetObject.
        throw new AwsCallError("s3:GetObject", `s3://${this.bucket}/${key}`, error);
      }
    });
    if (missing.length > 0) throw new UsageError(`No such object: ${missing.sort().join(", ")}`);
    return objects.filter((object): object is SourceObject => object !== undefined);
  }

  async executionExists(executionName: string): Promise<boolean> {
    const executionArn = executionArnOf(this.stateMachine, executionName);
    try {
      await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return true;
    } catch (error) {
      if (errorName(error) === "ExecutionDoesNotExist") return false;
      throw new AwsCallError("states:DescribeExecution", executionArn, error);
    }
  }

  async startExecution(object: SourceObject, executionName: string, settings?: RunSettings): Promise<ReplayResult> {
    const stateMachineArn = this.stateMachine;
    const origin = parseStateMachineArn(stateMachineArn);
    if (!origin) {
      throw new UsageError(
        `The state machine ARN must look like arn:aws:states:REGION:ACCOUNT:stateMachine:NAME (received "${stateMachineArn}")`,
      );
    }
    const input = JSON.stringify(replayEvent(object, origin, new Date(), settings));
    try {
      const started = await this.sfn.send(new StartExecutionCommand({ stateMachineArn, name: executionName, input }));
      return { object, executionName, executionArn: started.executionArn!, outcome: "started" };
    } catch (error) {
      // The name is taken: this object version was replayed before (names are kept for 90 days).
      if (errorName(error) === "ExecutionAlreadyExists") {
        const executionArn = executionArnOf(stateMachineArn, executionName);
        return { object, executionName, executionArn, outcome: "already-started" };
      }
      throw new AwsCallError("states:StartExecution", stateMachineArn, error);
    }
  }

  async listExecutions(since: Date, limit: number): Promise<ExecutionListing> {
    const stateMachineArn = this.stateMachine;
    const listed: { executionArn: string; name: string; status: ExecutionStatus; startDate: Date; stopDate?: Date }[] =
      [];
    let truncated = false;
    let token: string | undefined;
    // ListExecutions returns the newest first: stop at the first one started before --since.
    pages: do {
      const page = await this.call("states:ListExecutions", stateMachineArn, () =>
        this.sfn.send(
          new ListExecutionsCommand({ stateMachineArn, maxResults: LIST_EXECUTIONS_PAGE_SIZE, nextToken: token }),
        ),
      );
      for (const execution of page.executions ?? []) {
        if (execution.startDate! < since) break pages;
        if (listed.length === limit) {
          truncated = true;
          break pages;
        }
        listed.push({
          executionArn: execution.executionArn!,
          name: execution.name!,
          status: execution.status as ExecutionStatus,
          startDate: execution.startDate!,
          stopDate: execution.stopDate,
        });
      }
      token = page.nextToken;
    } while (token);

    const executions = await mapConcurrently(listed, this.concurrency, async (execution) => {
      const described = await this.call("states:DescribeExecution", execution.executionArn, () =>
        this.sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn })),
      );
      const status = (described.status ?? execution.status) as ExecutionStatus;
      const failure = FAILED_STATUSES.has(status)
        ? failureFromHistory(await this.history(execution.executionArn), {
            error: described.error,
            cause: described.cause,
          })
        : null;
      return {
        name: execution.name,
        executionArn: execution.executionArn,
        status,
        startDate: execution.startDate.toISOString(),
        stopDate: (described.stopDate ?? execution.stopDate)?.toISOString() ?? null,
        source: sourceOf(described.input),
        failure,
      } satisfies ExecutionSummary;
    });
    return { executions, truncated };
  }

  /**
   * Starts the expiry-digest state machine (as its schedule does, with the request's settings in
   * the input), waits for it, and reads the CSV it published. What it sent to the compliance topic
   * is read back from the execution history (the publish task's parameters).
   */
  async runDigest(request: DigestRequest, timeoutMs: number): Promise<DigestRun> {
    const stateMachineArn = this.setting("digestStateMachineArn");
    const settings = Object.fromEntries(Object.entries(request).filter(([, value]) => value !== undefined));
    const name = `digest-${request.asOf ?? new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
    const input = JSON.stringify(Object.keys(settings).length > 0 ? { settings } : {});
    const { executionArn } = await this.call("states:StartExecution", stateMachineArn, () =>
      this.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input })),
    );
    const deadline = Date.now() + timeoutMs;
    let delay = this.options.pollDelayMs ?? 250;
    for (;;) {
      const described = await this.call("states:DescribeExecution", executionArn!, () =>
        this.sfn.send(new DescribeExecutionCommand({ executionArn })),
      );
      const status = described.status as ExecutionStatus;
      if (status !== "RUNNING") {
        const history = await this.history(executionArn!);
        const output = described.output === undefined ? null : (JSON.parse(described.output) as unknown);
        const runKey = (output as { published?: { runKey?: string } } | null)?.published?.runKey;
        return digestRunOf({
          executionArn: executionArn!,
          status,
          failure: FAILED_STATUSES.has(status)
            ? failureFromHistory(history, { error: described.error, cause: described.cause })
            : null,
          output,
          csvText: runKey ? await this.readText(runKey) : null,
          notification: complianceMessageOf(history),
        });
      }
      if (Date.now() >= deadline) {
        throw new OperationFailedError(
          `The digest ${executionArn} was still RUNNING after ${Math.round(timeoutMs / 1000)} s; it goes on in ` +
            "AWS (see status). Wait longer with --timeout (e.g. --timeout 30m).",
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, deadline - Date.now())));
      delay = Math.min(delay * 2, MAX_POLL_DELAY_MS);
    }
  }

  async runQuery(request: QueryRequest, timeoutMs: number): Promise<QueryResult> {
    let queryString: string;
    let parameters: readonly string[] = [];
    let database = this.deployment.database;
    let workgroup = this.deployment.workgroup;
    if (request.kind === "named-query") {
      const { NamedQuery } = await this.call("athena:GetNamedQuery", `named query ${request.namedQueryId}`, () =>
        this.athena.send(new GetNamedQueryCommand({ NamedQueryId: request.namedQueryId })),
      );
      queryString = NamedQuery!.QueryString!;
      database ??= NamedQuery!.Database;
      workgroup ??= NamedQuery!.WorkGroup;
    } else {
      queryString = request.queryString;
      parameters = request.parameters;
    }
    if (!workgroup || !database)
      throw new UsageError("The query needs --workgroup and --database (or an outputs file)");
    const workgroupArn = `workgroup ${workgroup}`;

    const { QueryExecutionId: id } = await this.call("athena:StartQueryExecution", workgroupArn, () =>
      this.athena.send(
        new StartQueryExecutionCommand({
          QueryString: queryString,
          QueryExecutionContext: { Database: database },
          WorkGroup: workgroup,
          ...(parameters.length > 0 && { ExecutionParameters: [...parameters] }),
        }),
      ),
    );
    const execution = await this.waitForQuery(id!, timeoutMs, workgroupArn);
    const state = execution.Status!.State as QueryResult["state"];
    const common = {
      queryExecutionId: id!,
      state,
      dataScannedInBytes: execution.Statistics?.DataScannedInBytes ?? 0,
      engineExecutionTimeInMillis: execution.Statistics?.EngineExecutionTimeInMillis,
      outputLocation: execution.ResultConfiguration?.OutputLocation,
      workgroup,
      database,
    };
    if (state !== "SUCCEEDED") {
      const reason = execution.Status?.AthenaError?.ErrorMessage ?? execution.Status?.StateChangeReason;
      return { ...common, reason, columns: [], rows: [] };
    }

    let columns: string[] = [];
    const rows: (string | null)[][] = [];
    let token: string | undefined;
    let first = true;
    do {
      const page = await this.call("athena:GetQueryResults", workgroupArn, () =>
        this.athena.send(new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 1000, NextToken: token })),
      );
      if (first) columns = (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Label ?? c.Name ?? "");
      const pageRows = (page.ResultSet?.Rows ?? []).map((row) => (row.Data ?? []).map((d) => d.VarCharValue ?? null));
      // A SELECT's first result row repeats the column names.
      if (first && pageRows.length > 0 && columns.length > 0 && pageRows[0].every((v, i) => v === columns[i])) {
        pageRows.shift();
      }
      rows.push(...pageRows);
      first = false;
      token = page.NextToken;
    } while (token);
    return { ...common, columns, rows };
  }

  async publishTestNotification(notification: TestNotification): Promise<PublishedNotification> {
    const topicArn = this.setting("topicArn");
    const published = await this.call("sns:Publish", topicArn, () =>
      this.sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Subject: notification.subject,
          Message: notification.message,
          // Lets a subscription filter policy leave tests out.
          MessageAttributes: { "notification-type": { DataType: "String", StringValue: "test" } },
        }),
      ),
    );
    return { topicArn, messageId: published.MessageId! };
  }

  async readObject(key: string): Promise<AsyncIterable<Uint8Array>> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return object.Body as AsyncIterable<Uint8Array>;
    } catch (error) {
      if (errorName(error) === "NoSuchKey" || errorName(error) === "NotFound") {
        throw new UsageError(`No such object: s3://${this.bucket}/${key}`);
      }
      throw new AwsCallError("s3:GetObject", `s3://${this.bucket}/${key}`, error);
    }
  }

  private async readText(key: string): Promise<string> {
    const object = await this.call("s3:GetObject", `s3://${this.bucket}/${key}`, () =>
      this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })),
    );
    return object.Body!.transformToString("utf8");
  }

  async close(): Promise<void> {
    for (const client of [this.s3, this.sfn, this.athena, this.sns]) client.destroy();
  }

  /** Polls GetQueryExecution with a doubling wait until the query ends; stops it at the timeout. */
  private async waitForQuery(id: string, timeoutMs: number, workgroupArn: string): Promise<QueryExecution> {
    const deadline = Date.now() + timeoutMs;
    let delay = this.options.pollDelayMs ?? 250;
    for (;;) {
      const { QueryExecution: execution } = await this.call("athena:GetQueryExecution", workgroupArn, () =>
        this.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id })),
      );
      const state = execution?.Status?.State;
      if (state === "SUCCEEDED" || state === "FAILED" || state === "CANCELLED") return execution!;
      if (Date.now() >= deadline) {
        await this.call("athena:StopQueryExecution", workgroupArn, () =>
          this.athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id })),
        );
        throw new OperationFailedError(
          `Query ${id} was still ${state} after ${Math.round(timeoutMs / 1000)} s, so it was stopped. ` +
            "Give it longer with --timeout (e.g. --timeout 1h).",
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, deadline - Date.now())));
      delay = Math.min(delay * 2, MAX_POLL_DELAY_MS);
    }
  }

  private async history(executionArn: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let token: string | undefined;
    do {
      const page = await this.call("states:GetExecutionHistory", executionArn, () =>
        this.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken: token })),
      );
      events.push(...(page.events ?? []));
      token = page.nextToken;
    } while (token);
    return events;
  }

  private setting(setting: DeploymentSetting): string {
    const value = this.deployment[setting];
    if (!value) throw new UsageError(`This needs ${SETTING_FLAGS[setting]} (or an outputs file that has it)`);
    return value;
  }

  /** Sends one request; a failure becomes an AwsCallError naming the IAM action and the resource. */
  private async call<T>(action: string, resource: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw new AwsCallError(action, resource, error);
    }
  }
}

/** The states of the digest that publish to the compliance topic. */
const COMPLIANCE_STATES = new Set(["NotifyCompliance", "NotifyAllClear"]);

/** The subject and message the digest published to compliance: the parameters of that task, in the history. */
function complianceMessageOf(history: readonly HistoryEvent[]): DigestRun["notification"] {
  let state: string | undefined;
  for (const event of history) {
    if (event.stateEnteredEventDetails) state = event.stateEnteredEventDetails.name;
    const parameters = event.taskScheduledEventDetails?.parameters;
    if (parameters && state !== undefined && COMPLIANCE_STATES.has(state)) {
      const { Subject, Message } = JSON.parse(parameters) as { Subject?: string; Message?: string };
      return { subject: Subject ?? "", message: Message ?? "" };
    }
  }
  return null;
}

/** The region in an ARN (arn:partition:service:region:...). */
function regionOf(arn: string | undefined): string | undefined {
  const region = arn?.split(":")[3];
  return region || undefined;
}

/** The object an execution processed, from its input (an S3 "Object Created" event). */
function sourceOf(input: string | undefined): ExecutionSummary["source"] {
  try {
    const event = JSON.parse(input ?? "") as { detail?: { bucket?: { name?: unknown }; object?: { key?: unknown } } };
    const bucket = event.detail?.bucket?.name;
    const key = event.detail?.object?.key;
    return typeof bucket === "string" && typeof key === "string" ? { bucket, key } : null;
  } catch {
    return null;
  }
}
