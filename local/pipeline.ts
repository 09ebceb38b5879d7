/**
 * The local pipeline: the real workflow on one machine, with no AWS account.
 *
 * An S3 endpoint (s3rver) holds the bucket; the state machine from state-machines/ is rendered
 * by the same code the orchestration module uses and run by aws-local-stepfunctions; Lambda
 * states call the handler code that ships to AWS; Athena states run the same SQL in DuckDB; SNS
 * states append to an outbox file. Same inputs, same outputs, same object keys as in AWS.
 */
import { createHash, randomUUID } from "node:crypto";
import { appendFileSync, createReadStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { StateMachine } from "aws-local-stepfunctions";
import {
  EXPIRY_DIGEST,
  FACILITY_PIPELINE,
  executionContext,
  expiryDigestPlaceholders,
  facilityPipelinePlaceholders,
  loadStateMachine,
  renderStateMachine,
  statesOf,
  taskStatesOf,
  type StateMachineDefinition,
} from "../core/asl";
import { todayUtc, utcDateOf } from "../core/calendar-date";
import type { DigestSummary } from "../lambdas/relocate-results/digest-summary";
import { DATA_PREFIXES, LOCAL_DATABASE } from "../core/data-layout";
import { objectCreatedEvent as createdEvent } from "../core/s3-event";
import { DIGEST_LOOKBACK_DAYS, EXPIRY_WINDOW_MONTHS, settingsField, type RunSettings } from "../core/settings";
import {
  LocalAthena,
  readResultRows,
  type LocalQueryOptions,
  type QueryExecution,
  type ResultRow,
  type StartQueryExecutionInput,
} from "./athena";
import { parameterLiteral, queryParameters, readQuery } from "../core/sql";
import { LOCAL_AWS, type LocalFunctionName } from "./local-aws";
import { S3RVER_CREDENTIALS, localS3Environment, startS3Endpoint, type S3Endpoint } from "./s3-endpoint";
import { prepareStateDir, stateDirLayout } from "./state-dir";

/** Make a state throw an error, to see retries and the failure path without AWS. */
export interface FaultInjection {
  /** State name, e.g. "CountAccreditedByState". */
  readonly state: string;
  /**
   * Error name, e.g. "Athena.TooManyRequestsException". On an Athena state, "FAILED" makes the
   * query fail, and "ICEBERG_COMMIT_ERROR" makes a MERGE run and then lose its commit (rolled back),
   * as when another MERGE committed first.
   */
  readonly error: string;
  /** How many times; Infinity for always. */
  readonly times: number;
  /**
   * "before": the error is thrown instead of calling the service. "after": the call takes effect
   * (the handler runs, the query runs, the message is published) and the error is thrown after it,
   * as when a response is lost or a throttle arrives after the work was done: what makes a
   * retry repeat work that already happened.
   * @default "before"
   */
  readonly when?: "before" | "after";
}

/** How to run one delivery of an event (runEvent). */
export interface RunEventOptions {
  /**
   * The execution name. In AWS every delivery EventBridge makes starts an execution with a new
   * name; pass one to see that. At most 57 characters (AWS allows 80): aws-local-stepfunctions
   * 3.0.0 hashes only the start of a long string in States.Hash, and the state name that follows
   * the execution name in the Athena request token must fall within it (AWS hashes it all).
   * @default - derived from the object key and ETag in the event, as runExecution does
   */
  readonly executionName?: string;
}

export interface LocalPipelineOptions {
  /** Where the bucket's objects live between runs. @default - a fresh temporary directory, removed on stop */
  readonly stateDir?: string;
  /**
   * The as-of date (YYYY-MM-DD) of every execution, given in its input's `settings`; also what
   * Athena's current_date returns in every query. @default - the execution's start date, as in AWS
   */
  readonly asOf?: string;
  /** Expiry window in months, given in every execution's input. @default 6 (EXPIRY_WINDOW_MONTHS) */
  readonly windowMonths?: number;
  /** @default [] */
  readonly injections?: readonly FaultInjection[];
  /** Retry intervals and Wait states in milliseconds instead of the definition's seconds. @default 50 */
  readonly retryIntervalMs?: number;
  /** Receives log lines meant for a person (stderr in the CLI). @default - discarded */
  readonly log?: (line: string) => void;
}

/** What an SNS state published. */
export interface Notification {
  readonly topic: string;
  readonly subject: string;
  readonly message: string;
}

export interface IngestCounts {
  readonly records: number;
  readonly valid: number;
  readonly repaired: number;
  readonly warnings: number;
  readonly rejected: number;
  readonly rejectedExpiring: number;
  readonly expiring: number;
  readonly expired: number;
}

/** The injected error that makes a MERGE lose its commit (FaultInjection.error). */
export const COMMIT_CONFLICT = "ICEBERG_COMMIT_ERROR";

/** What any local execution reports, whichever state machine ran. */
export interface MachineExecutionResult {
  readonly executionName: string;
  readonly executionArn: string;
  readonly status: "SUCCEEDED" | "FAILED";
  /** The last result of each Lambda function the execution invoked (or what a failed one had counted). */
  readonly lambdaResults: Partial<Record<LocalFunctionName, Record<string, unknown>>>;
  readonly error: { readonly error: string; readonly cause: string } | null;
  /** The execution's output, when it succeeded. */
  readonly output: unknown;
  readonly notifications: readonly Notification[];
  /** Milliseconds spent in each state (retries included), from the execution history. */
  readonly stateDurationsMs: Readonly<Record<string, number>>;
  readonly retries: number;
  readonly durationMs: number;
}

/** What the digest may pin in its input's settings; the rest comes from the defaults. */
export interface DigestSettings {
  /** YYYY-MM-DD. @default the execution's start date */
  readonly asOf?: string;
  readonly windowMonths?: number;
  readonly lookbackDays?: number;
  readonly sendAllClear?: boolean;
}

/** One execution of the expiry-digest state machine. */
export interface DigestExecutionResult extends MachineExecutionResult {
  /** relocate-results' result: the published keys and the digest summary, when it ran. */
  readonly published: {
    readonly runKey: string;
    readonly latestKey: string;
    readonly source: string;
    readonly digest: DigestSummary;
  } | null;
}

/** One execution of the state machine for one uploaded object. */
export interface ExecutionResult extends Omit<MachineExecutionResult, "lambdaResults"> {
  readonly source: string;
  /** The filter-expiring result, when ingest ran. */
  readonly ingest: (IngestCounts & Record<string, unknown>) | null;
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

export class LocalPipeline {
  private readonly injectionsLeft = new Map<string, number>();
  /** The facility-pipeline executions running now (what the digest's upkeep waits for). */
  private readonly runningPipelineExecutions = new Set<string>();

  private constructor(
    readonly options: LocalPipelineOptions,
    readonly stateDir: string,
    private readonly ownsStateDir: boolean,
    private readonly endpoint: S3Endpoint,
    readonly s3: S3Client,
    private readonly athena: LocalAthena,
    private readonly handlers: Record<LocalFunctionName, Handler>,
    private readonly definition: StateMachineDefinition,
    private readonly digestDefinition: StateMachineDefinition,
  ) {
    for (const injection of options.injections ?? []) this.injectionsLeft.set(injection.state, injection.times);
  }

  /** Starts the S3 endpoint and prepares the workflow. Call stop() when done. */
  static async start(options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
    const ownsStateDir = options.stateDir === undefined;
    const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), "facility-pipeline-"));
    prepareStateDir(stateDir);
    const layout = stateDirLayout(stateDir);
    const endpoint = await startS3Endpoint({ directory: layout.s3, buckets: [LOCAL_AWS.bucket] });
    // Whatever fails from here on (a definition that does not render, a handler that does not
    // load) must not leave the endpoint listening: the process would never exit.
    try {
      // The Lambda functions' configuration, which they read from their environment as in AWS. The
      // as-of date and the window are not configuration: they come with each execution's input.
      Object.assign(process.env, localS3Environment(endpoint, LOCAL_AWS.region), {
        DATA_BUCKET: LOCAL_AWS.bucket,
        POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? "WARN",
      });
      const s3 = new S3Client({
        endpoint: endpoint.endpoint,
        forcePathStyle: true,
        region: LOCAL_AWS.region,
        credentials: S3RVER_CREDENTIALS,
      });
      const athena = new LocalAthena({
        s3,
        bucket: LOCAL_AWS.bucket,
        workgroup: LOCAL_AWS.workgroup,
        database: LOCAL_DATABASE,
        catalogFile: layout.catalog,
        outputLocation: `s3://${LOCAL_AWS.bucket}/${DATA_PREFIXES.athenaResults}`,
        workDir: layout.athena,
      });
      // Imported after the environment is set: the handlers' loggers read it when they load.
      const handlers = {
        "filter-expiring": (await import("../lambdas/filter-expiring/handler")).handler as Handler,
        "relocate-results": (await import("../lambdas/relocate-results/handler")).handler as Handler,
      };
      const definition = renderStateMachine(
        loadStateMachine(FACILITY_PIPELINE),
        facilityPipelinePlaceholders({
          filterExpiringFunctionArn: LOCAL_AWS.functionArns["filter-expiring"],
          relocateResultsFunctionArn: LOCAL_AWS.functionArns["relocate-results"],
          athenaWorkgroup: LOCAL_AWS.workgroup,
          glueDatabase: LOCAL_DATABASE,
          failureTopicArn: LOCAL_AWS.failureTopicArn,
          dataBucket: LOCAL_AWS.bucket,
          awsRegion: LOCAL_AWS.region,
          expiryWindowMonths: EXPIRY_WINDOW_MONTHS.default,
        }),
      );
      const digestDefinition = renderStateMachine(
        loadStateMachine(EXPIRY_DIGEST),
        expiryDigestPlaceholders({
          relocateResultsFunctionArn: LOCAL_AWS.functionArns["relocate-results"],
          athenaWorkgroup: LOCAL_AWS.workgroup,
          glueDatabase: LOCAL_DATABASE,
          failureTopicArn: LOCAL_AWS.failureTopicArn,
          complianceTopicArn: LOCAL_AWS.complianceTopicArn,
          facilityPipelineStateMachineArn: LOCAL_AWS.stateMachineArn,
          dataBucket: LOCAL_AWS.bucket,
          awsRegion: LOCAL_AWS.region,
          expiryWindowMonths: options.windowMonths ?? EXPIRY_WINDOW_MONTHS.default,
          lookbackDays: DIGEST_LOOKBACK_DAYS.default,
          sendAllClear: false,
        }),
      );
      return new LocalPipeline(
        options,
        stateDir,
        ownsStateDir,
        endpoint,
        s3,
        athena,
        handlers,
        definition,
        digestDefinition,
      );
    } catch (error) {
      await endpoint.stop();
      if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The names of the states a fault can be injected into (--inject STATE=...). */
  get taskStateNames(): string[] {
    return taskStatesOf(this.definition).map(({ name }) => name);
  }

  get bucket(): string {
    return LOCAL_AWS.bucket;
  }

  /**
   * Uploads a local file to raw/<file name>, or raw/retirements/<file name> when it sits in a
   * folder named `retirements`, and returns the key.
   */
  async upload(file: string, key = uploadKeyOf(file)): Promise<string> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: LOCAL_AWS.bucket,
        Key: key,
        Body: createReadStream(file),
        ContentLength: statSync(file).size,
      }),
    );
    return key;
  }

  /** Uploads a file and runs one execution for it, like an upload in AWS. */
  async processFile(file: string): Promise<ExecutionResult> {
    return this.runExecution(await this.upload(file));
  }

  /**
   * Runs the state machine for an object already under raw/, with the input EventBridge sends
   * for an S3 "Object Created" event. The execution name derives from the key and the object's
   * ETag, so processing the same object again rewrites the same outputs.
   */
  async runExecution(key: string, settings?: RunSettings): Promise<ExecutionResult> {
    const head = await this.s3.send(new HeadObjectCommand({ Bucket: LOCAL_AWS.bucket, Key: key }));
    const etag = (head.ETag ?? "").replaceAll('"', "");
    const event = objectCreatedEvent(key, head.ContentLength ?? 0, etag, new Date().toISOString());
    return this.runEvent(settings ? { ...event, ...settingsField(settings) } : event);
  }

  /**
   * Runs the state machine with a given event as its input: one delivery of it. Delivering the
   * same event object twice is what EventBridge's at-least-once delivery may do. The event must
   * name an object in this pipeline's bucket (detail.object.key and etag, as objectCreatedEvent builds).
   */
  async runEvent(event: Record<string, unknown>, options: RunEventOptions = {}): Promise<ExecutionResult> {
    const object = (event as { detail?: { object?: { key?: unknown; etag?: unknown } } }).detail?.object;
    if (typeof object?.key !== "string") {
      throw new Error(`runEvent needs an S3 "Object Created" event with detail.object.key (see objectCreatedEvent)`);
    }
    const key = object.key;
    const etag = typeof object.etag === "string" ? object.etag : "";
    const startTime = new Date();
    // The execution's settings travel in its input, as a replay's do; the ASL fills in what is
    // missing (the start date, the configured window). An event that brings settings keeps them.
    const input = "settings" in event ? event : { ...event, ...settingsField(this.options) };
    const given = (input as { settings?: { asOf?: unknown } }).settings?.asOf;
    // Athena's current_date in this execution's queries: its as-of date.
    const asOfDate = (typeof given === "string" ? utcDateOf(given) : undefined) ?? todayUtc(startTime);
    const executionName =
      options.executionName ??
      `${key.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 40)}-${createHash("sha256").update(`${key}@${etag}`).digest("hex").slice(0, 16)}`;
    if (!/^[A-Za-z0-9_-]{1,57}$/.test(executionName)) {
      throw new Error(
        `Local execution names are 1 to 57 letters, digits, "-" or "_" (received ${JSON.stringify(executionName)})`,
      );
    }
    const ran = await this.execute(this.definition, LOCAL_AWS.stateMachineArn, input, {
      executionName,
      asOfDate,
      startTime,
    });
    const { lambdaResults, ...result } = ran;
    return { source: key, ...result, ingest: (lambdaResults["filter-expiring"] ?? null) as ExecutionResult["ingest"] };
  }

  /**
   * Runs the expiry-digest workflow on the current table, as the schedule starts it (input `{}`)
   * or with settings (`facility-pipeline digest --as-of`): the same ASL, SQL text and relocate
   * handler as in AWS; its messages go to the compliance outbox, a failure's to the failure outbox.
   */
  async runDigest(settings: DigestSettings = {}, options: RunEventOptions = {}): Promise<DigestExecutionResult> {
    const startTime = new Date();
    const asOfDate = (settings.asOf === undefined ? undefined : utcDateOf(settings.asOf)) ?? todayUtc(startTime);
    const executionName = options.executionName ?? `digest-${asOfDate}-${randomUUID().slice(0, 8)}`;
    const pinned = Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
    const input = Object.keys(pinned).length > 0 ? { settings: pinned } : {};
    const ran = await this.execute(this.digestDefinition, LOCAL_AWS.digestStateMachineArn, input, {
      executionName,
      asOfDate,
      startTime,
    });
    const published = (ran.lambdaResults["relocate-results"] ?? null) as DigestExecutionResult["published"];
    return { ...ran, published };
  }

  /** Runs one execution of a rendered definition with the local stand-ins for every Task. */
  private async execute(
    definition: StateMachineDefinition,
    stateMachineArn: string,
    input: unknown,
    run: { readonly executionName: string; readonly asOfDate: string; readonly startTime: Date },
  ): Promise<MachineExecutionResult> {
    const { executionName, asOfDate, startTime } = run;
    const executionArn = executionContext(stateMachineArn, executionName).Execution.Id;
    // In AWS an execution name starts one execution only, so a request token never outlives its
    // execution. Here runExecution reuses the name for the same object: scoping the token to this
    // run keeps a rerun from being answered with an earlier run's query (and its stale table),
    // while the retries within the run still send one token.
    const runId = randomUUID();
    const scopedToken = (token: string | undefined) =>
      token === undefined ? undefined : createHash("sha256").update(`${token}/${runId}`).digest("hex");

    const notifications: Notification[] = [];
    // The last result of each Lambda (or what a handler that failed after its work had counted).
    const lambdaResults: Partial<Record<LocalFunctionName, Record<string, unknown>>> = {};
    const invoke = (fn: LocalFunctionName, stateName: string) => async (input: unknown) => {
      const injected = this.takeInjection(stateName);
      if (injected?.when !== "after") this.throwInjected(injected);
      const payload = (input as { Payload: Record<string, unknown> }).Payload;
      let result: unknown;
      try {
        result = await this.handlers[fn](payload, lambdaContext(fn));
      } catch (error) {
        // A handler that failed after its work (NoValidRecordsError) still says what it counted.
        const counted = (error as { result?: unknown }).result;
        if (typeof counted === "object" && counted !== null) lambdaResults[fn] = counted as Record<string, unknown>;
        throw lambdaFunctionError(error);
      }
      this.throwInjected(injected);
      lambdaResults[fn] = result as Record<string, unknown>;
      return { StatusCode: 200, ExecutedVersion: "$LATEST", Payload: result };
    };
    const query = (stateName: string) => async (input: unknown) => {
      const injected = this.takeInjection(stateName);
      const failQuery = injected?.error === "FAILED";
      const commitConflict = injected?.error === COMMIT_CONFLICT;
      if (injected?.when !== "after" && !failQuery && !commitConflict) this.throwInjected(injected);
      // An injected failure runs a query that fails in the engine, without the request token:
      // a later real attempt with that token must not be taken for a replay of it.
      const request = input as Parameters<LocalAthena["startQueryExecutionSync"]>[0];
      const { QueryExecution } = await this.athena.startQueryExecutionSync(
        failQuery
          ? { ...request, ClientRequestToken: undefined, QueryString: "SELECT injected_failure FROM facilities" }
          : { ...request, ClientRequestToken: scopedToken(request.ClientRequestToken) },
        { currentDate: asOfDate, commitConflict },
      );
      if (QueryExecution.Status?.State !== "SUCCEEDED") {
        throw namedError("States.TaskFailed", JSON.stringify({ QueryExecution }));
      }
      if (!failQuery && !commitConflict) this.throwInjected(injected);
      return { QueryExecution };
    };
    const publish = (stateName: string) => async (input: unknown) => {
      const injected = this.takeInjection(stateName);
      if (injected?.when !== "after") this.throwInjected(injected);
      const { TopicArn, Subject, Message } = input as { TopicArn: string; Subject?: string; Message: string };
      const notification = { topic: TopicArn, subject: Subject ?? "", message: Message };
      notifications.push(notification);
      const outbox = TopicArn === LOCAL_AWS.complianceTopicArn ? this.complianceOutboxFile : this.outboxFile;
      appendFileSync(outbox, `${JSON.stringify(notification)}\n`);
      this.log(`SNS ${TopicArn}\n  Subject: ${notification.subject}\n  ${Message.replaceAll("\n", "\n  ")}`);
      this.throwInjected(injected);
      return { MessageId: randomUUID() };
    };

    const taskStates = taskStatesOf(definition);
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const { name: stateName, resource, state } of taskStates) {
      const functionName = (state.Parameters as { FunctionName?: string } | undefined)?.FunctionName;
      if (resource.startsWith("arn:aws:states:::lambda:invoke")) {
        const fn = functionName === LOCAL_AWS.functionArns["filter-expiring"] ? "filter-expiring" : "relocate-results";
        handlers[stateName] = invoke(fn, stateName);
      } else if (resource.startsWith("arn:aws:states:::athena:startQueryExecution")) {
        handlers[stateName] = query(stateName);
      } else if (resource.startsWith("arn:aws:states:::sns:publish")) {
        handlers[stateName] = publish(stateName);
      } else if (resource === "arn:aws:states:::aws-sdk:sfn:listExecutions") {
        // The control plane cannot run here: the stand-in knows the pipeline executions this
        // LocalPipeline is running, which is all the digest's upkeep asks about.
        handlers[stateName] = async () => ({
          Executions: [...this.runningPipelineExecutions].map((arn) => ({ ExecutionArn: arn, Status: "RUNNING" })),
        });
      } else {
        throw new Error(`The local runner has no stand-in for ${resource} (state ${stateName})`);
      }
    }
    // When one Parallel branch fails the execution ends, but a task already running in the other
    // branch carries on (in AWS too: a Lambda invocation is not stopped). It is awaited before
    // returning, so that its writes land before the caller looks, never in a later run or pipeline.
    const running = new Set<Promise<unknown>>();
    for (const [stateName, handler] of Object.entries(handlers)) {
      handlers[stateName] = (input) => {
        const call = handler(input);
        running.add(call);
        call.then(
          () => running.delete(call),
          () => running.delete(call),
        );
        return call;
      };
    }

    const machine = new StateMachine(definition as never, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
    const started = Date.now();
    if (stateMachineArn === LOCAL_AWS.stateMachineArn) this.runningPipelineExecutions.add(executionArn);
    const execution = machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        retryIntervalOverrides: Object.fromEntries(
          taskStates.map(({ name }) => [name, this.options.retryIntervalMs ?? 50]),
        ),
        // Wait states (the backoff before a MERGE retry) as short as the retry intervals.
        waitTimeOverrides: Object.fromEntries(
          statesOf(definition)
            .filter(({ state }) => state.Type === "Wait")
            .map(({ name }) => [name, this.options.retryIntervalMs ?? 50]),
        ),
      },
      context: executionContext(stateMachineArn, executionName, startTime) as never,
    });
    const timings = collectTimings(execution.eventLogs);
    let status: ExecutionResult["status"] = "SUCCEEDED";
    let output: unknown = null;
    let error: ExecutionResult["error"] = null;
    try {
      output = await execution.result;
    } catch (caught) {
      status = "FAILED";
      const cause = (caught as { cause?: { name?: string; message?: string } }).cause;
      error = { error: cause?.name ?? (caught as Error).name, cause: cause?.message ?? (caught as Error).message };
    }
    const { durations, retries } = await timings;
    await Promise.allSettled([...running]);
    this.runningPipelineExecutions.delete(executionArn);
    return {
      executionName,
      executionArn,
      status,
      lambdaResults,
      error,
      output,
      notifications,
      stateDurationsMs: durations,
      retries,
      durationMs: Date.now() - started,
    };
  }

  /**
   * Runs a query in this pipeline's Athena stand-in, outside any execution (the operations
   * subcommands): the same engine and catalog file as the workflow's queries.
   */
  startQuery(
    input: StartQueryExecutionInput,
    options: LocalQueryOptions = {},
  ): Promise<{ QueryExecution: QueryExecution }> {
    return this.athena.startQueryExecutionSync(input, options);
  }

  /**
   * Runs `sql/<name>.sql` (its `?` parameters bound from `values` by name) over the current
   * catalog, as of `values.as_of` when given, and returns its rows; a failed query throws with
   * Athena's reason.
   */
  async querySql(name: string, values: Readonly<Record<string, string | number>>): Promise<ResultRow[]> {
    const parameters = queryParameters(name).map((parameter) => {
      if (!Object.hasOwn(values, parameter.name)) {
        throw new Error(`sql/${name}.sql needs a value for its parameter ${parameter.name}`);
      }
      return parameterLiteral(parameter, values[parameter.name]);
    });
    const asOf = typeof values.as_of === "string" ? values.as_of : undefined;
    const { QueryExecution: execution } = await this.startQuery(
      {
        QueryString: readQuery(name),
        QueryExecutionContext: { Database: LOCAL_DATABASE },
        WorkGroup: LOCAL_AWS.workgroup,
        ...(parameters.length > 0 && { ExecutionParameters: parameters }),
      },
      { currentDate: asOf },
    );
    if (execution.Status.State !== "SUCCEEDED") {
      throw new Error(`sql/${name}.sql failed: ${execution.Status.StateChangeReason ?? "no reason given"}`);
    }
    return readResultRows(
      await this.readObject(execution.ResultConfiguration.OutputLocation.slice(`s3://${LOCAL_AWS.bucket}/`.length)),
    );
  }

  /** The text of an object in the bucket, or of its first bytes only. */
  async readObject(key: string, options: { readonly firstBytes?: number } = {}): Promise<string> {
    const range = options.firstBytes === undefined ? undefined : `bytes=0-${options.firstBytes - 1}`;
    const object = await this.s3.send(new GetObjectCommand({ Bucket: LOCAL_AWS.bucket, Key: key, Range: range }));
    return object.Body!.transformToString("utf8");
  }

  /** Every key in the bucket under a prefix, sorted. */
  async listKeys(prefix = ""): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: LOCAL_AWS.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      keys.push(...(page.Contents ?? []).map((object) => object.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  /** The JSON Lines file the SNS states append to (the failure topic's, and any but compliance). */
  get outboxFile(): string {
    return stateDirLayout(this.stateDir).outboxFile;
  }

  /** The JSON Lines file of what reached the compliance topic (the expiry digest). */
  get complianceOutboxFile(): string {
    return stateDirLayout(this.stateDir).complianceOutboxFile;
  }

  /** Whether the state directory is removed on stop (no --state-dir was given). */
  get isTemporary(): boolean {
    return this.ownsStateDir;
  }

  async stop(): Promise<void> {
    await this.athena.close();
    this.s3.destroy();
    await this.endpoint.stop();
    if (this.ownsStateDir) rmSync(this.stateDir, { recursive: true, force: true });
  }

  /** The injection for this attempt of a state, if one is left (and counts it as used). */
  private takeInjection(stateName: string): FaultInjection | undefined {
    const left = this.injectionsLeft.get(stateName);
    if (left === undefined || left <= 0) return undefined;
    this.injectionsLeft.set(stateName, left - 1);
    const injection = this.options.injections!.find((candidate) => candidate.state === stateName)!;
    this.log(`Injected ${injection.error} into ${stateName}${injection.when === "after" ? " (after the call)" : ""}`);
    return injection;
  }

  private throwInjected(injection: FaultInjection | undefined): void {
    if (injection === undefined) return;
    throw namedError(injection.error, `Injected by --inject ${injection.state}=${injection.error}`);
  }

  private log(line: string): void {
    this.options.log?.(line);
  }
}

/** Where a local file is uploaded: a file in a folder named `retirements` lists retirements. */
export function uploadKeyOf(file: string): string {
  const folder = basename(dirname(resolve(file)));
  return `${folder === "retirements" ? DATA_PREFIXES.retirements : DATA_PREFIXES.raw}${basename(file)}`;
}

/** The input EventBridge delivers for an upload to the local bucket. */
export function objectCreatedEvent(key: string, size: number, etag: string, time: string): Record<string, unknown> {
  return createdEvent(
    { bucket: LOCAL_AWS.bucket, key, size, etag, lastModified: time },
    { account: LOCAL_AWS.accountId, region: LOCAL_AWS.region },
    { sequencer: Date.now().toString(16).toUpperCase().padStart(18, "0") },
  );
}

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** A handler's exception as Step Functions reports a Lambda function error: name and JSON cause. */
function lambdaFunctionError(error: unknown): Error {
  const caught = error instanceof Error ? error : new Error(String(error));
  return namedError(
    caught.name,
    JSON.stringify({ errorType: caught.name, errorMessage: caught.message, trace: (caught.stack ?? "").split("\n") }),
  );
}

function lambdaContext(fn: string): Record<string, unknown> {
  return {
    functionName: `local-${fn}`,
    functionVersion: "$LATEST",
    invokedFunctionArn: LOCAL_AWS.functionArns[fn as LocalFunctionName],
    memoryLimitInMB: "1024",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/local-${fn}`,
    logStreamName: "local",
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 300_000,
  };
}

/** The execution history events this runner reads (aws-local-stepfunctions does not export the type). */
type HistoryEvent = { type: string; timestamp: number; state?: { name: string } };

async function collectTimings(
  events: AsyncGenerator<unknown>,
): Promise<{ durations: Record<string, number>; retries: number }> {
  const durations: Record<string, number> = {};
  const entered = new Map<string, number>();
  let retries = 0;
  for await (const item of events) {
    const event = item as HistoryEvent;
    if (!event.state) continue;
    const name = event.state.name;
    if (event.type === "StateEntered") entered.set(name, event.timestamp);
    if (event.type === "StateRetried") retries += 1;
    if ((event.type === "StateExited" || event.type === "StateFailed") && entered.has(name)) {
      durations[name] = (durations[name] ?? 0) + event.timestamp - entered.get(name)!;
      entered.delete(name);
    }
  }
  return { durations, retries };
}
