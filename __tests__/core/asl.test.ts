/**
 * The state machine (state-machines/facility-pipeline.asl.json) and core/asl.ts.
 *
 * The definition is run by aws-local-stepfunctions with fake task handlers: the goal is the ASL's
 * data flow (payload shapes, Retry, Catch, the failure message), not the handlers. Each fake
 * returns the real service response shape ({Payload} for lambda:invoke, {QueryExecution} for
 * Athena) and throws errors named as Step Functions names them.
 */
import { StateMachine, type RunOptions } from "aws-local-stepfunctions";
import {
  AslValidationError,
  EXPIRY_DIGEST,
  EXPIRY_DIGEST_PLACEHOLDERS,
  FACILITY_PIPELINE,
  PLACEHOLDER_EXAMPLES,
  FACILITY_PIPELINE_PLACEHOLDERS,
  PlaceholderError,
  QUERY_PLACEHOLDERS,
  StateMachineFileError,
  aslProblems,
  executionContext,
  listStateMachines,
  loadStateMachine,
  placeholdersOf,
  queryStringExpression,
  renderAndValidate,
  renderStateMachine,
  statesOf,
  taskStatesOf,
  validateStateMachine,
  type JsonObject,
  type JsonValue,
  type StateMachineDefinition,
  examplesFor,
  facilityPipelinePlaceholders,
} from "../../core/asl";
import { queryCode, queryParameters } from "../../core/sql";
import type { FilterExpiringResult } from "../../lambdas/filter-expiring/handler";
import { filterOutputKeys } from "../../lambdas/shared/output-keys";

const STATE_MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:hfap-test-facility-pipeline";
const EXECUTION_NAME = "3f0d6b1e-8d1c-4a51-9a43-0c6c1c7f9e21";
const EXECUTION_ARN = `arn:aws:states:us-east-1:123456789012:execution:hfap-test-facility-pipeline:${EXECUTION_NAME}`;
const BUCKET = "hfap-test-facility-data";
const KEY = "raw/2025/extended_sample_facility_data.json";
const VERSION_ID = "IYV3p45BhZA5qDVaxiV0a3u3CbQ3P0k9";
const EVENT_TIME = "2025-01-15T10:00:00Z";

const LAMBDA_TRANSIENT_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
];
const TASK_STATES = [
  "IngestFacilities",
  "MergeCurrentState",
  "CountAccreditedByState",
  "PublishStateCounts",
  "ExtractFacilitySummary",
  "PublishFacilitySummary",
  "NotifyFailure",
];

/** The S3 "Object Created" event as EventBridge delivers it: the execution's input. */
function objectCreatedEvent(key = KEY): JsonObject {
  return {
    version: "0",
    id: "17793124-05d4-b198-2fde-7ededc63b103",
    "detail-type": "Object Created",
    source: "aws.s3",
    account: "123456789012",
    time: EVENT_TIME,
    region: "us-east-1",
    resources: [`arn:aws:s3:::${BUCKET}`],
    detail: {
      version: "0",
      bucket: { name: BUCKET },
      object: {
        key,
        size: 5120,
        etag: "b1946ac92492d2347c6235b4d2611184",
        "version-id": VERSION_ID,
      },
      "request-id": "N4N7GDK58NMKJ12R",
      requester: "123456789012",
      reason: "PutObject",
    },
  };
}

/** A function error as Step Functions reports it: the error type as Error, the JSON body as Cause. */
function functionError(errorType: string, errorMessage: string): Error {
  const error = new Error(JSON.stringify({ errorType, errorMessage }));
  error.name = errorType;
  return error;
}

/** An error named by Step Functions itself (service errors, States.*), with a plain cause. */
function namedError(name: string, cause: string): Error {
  const error = new Error(cause);
  error.name = name;
  return error;
}

type Handler = (input: JsonObject, attempt: number) => JsonValue | Promise<JsonValue>;

/** What filter-expiring returns for the upload (its FilterExpiringResult), for the event's key and version. */
function ingestResult(key = KEY, versionId = VERSION_ID) {
  const outputs = filterOutputKeys(key, { versionId });
  return {
    source: key,
    version: versionId,
    eventTime: "2025-01-15T10:00:00.000Z",
    asOf: "2025-01-15",
    windowMonths: 6,
    records: 10,
    valid: 9,
    repaired: 0,
    warnings: 0,
    rejected: 1,
    rejectedExpiring: 0,
    rejectedExpiringRecords: [],
    reasonCounts: { "(record): not valid JSON": 1 },
    repairCounts: {},
    warningCounts: {},
    expiring: 3,
    expired: 1,
    unknownFields: 0,
    stagedObject: `s3://${BUCKET}/${outputs.staging}`,
    outputs: { ...outputs },
  } satisfies FilterExpiringResult;
}

const INGEST_RESULT = ingestResult();

function athenaQuery(queryExecutionId: string): Handler {
  return () => ({
    QueryExecution: {
      QueryExecutionId: queryExecutionId,
      ResultConfiguration: { OutputLocation: `s3://${BUCKET}/athena-results/${queryExecutionId}.csv` },
      Status: { State: "SUCCEEDED" },
      Statistics: { DataScannedInBytes: 2048 },
    },
  });
}

const relocateResults: Handler = (input) => {
  const payload = input.Payload as { dataset: string; outputLocation: string };
  return {
    StatusCode: 200,
    ExecutedVersion: "$LATEST",
    Payload: {
      dataset: payload.dataset,
      source: payload.outputLocation,
      runKey: `analytics/${payload.dataset}/run=${EXECUTION_NAME}/${payload.dataset}.csv`,
      latestKey: `analytics/${payload.dataset}/latest/${payload.dataset}.csv`,
    },
  };
};

/** The Cause of a MERGE that lost an Iceberg commit race: Athena reports it as a FAILED query. */
const ICEBERG_COMMIT_CONFLICT =
  "ICEBERG_COMMIT_ERROR: Failed to commit Iceberg update to table: facility_pipeline_db.facilities: " +
  "Cannot commit, base metadata location is not same as the current table metadata location";

/**
 * A query that ended FAILED, as the .sync integration reports it: States.TaskFailed, with the
 * query execution (its StateChangeReason says why) as the Cause.
 */
function failedQuery(queryExecutionId: string, stateChangeReason: string): Error {
  return namedError(
    "States.TaskFailed",
    JSON.stringify({
      QueryExecution: {
        QueryExecutionId: queryExecutionId,
        StatementType: "DML",
        Status: { State: "FAILED", StateChangeReason: stateChangeReason },
      },
    }),
  );
}

const DEFAULT_HANDLERS: Record<string, Handler> = {
  IngestFacilities: () => ({ StatusCode: 200, ExecutedVersion: "$LATEST", Payload: INGEST_RESULT }),
  MergeCurrentState: athenaQuery("c9d0e1f2-merge-current-state"),
  CountAccreditedByState: athenaQuery("a1b2c3d4-state-counts"),
  PublishStateCounts: relocateResults,
  ExtractFacilitySummary: athenaQuery("e5f6a7b8-facility-summary"),
  PublishFacilitySummary: relocateResults,
  NotifyFailure: () => ({ MessageId: "95df01b4-ee98-5cb9-9903-4c221d41eb5e" }),
};

/** Placeholder values as the orchestration module supplies them: real SQL, example ARNs. */
const LOCAL_VALUES = examplesFor(loadStateMachine(FACILITY_PIPELINE));

interface PipelineRun {
  readonly output?: JsonValue;
  readonly error?: Error & { cause?: Error };
  /** Each task's inputs (after Parameters), one per attempt. */
  readonly calls: Record<string, JsonObject[]>;
  /** The names of the states that were retried, once per retry. */
  readonly retried: string[];
  /** Every state entered, in order, with its input (before InputPath and Parameters). */
  readonly entered: Array<{ readonly name: string; readonly input: JsonValue }>;
}

/** The Wait states, which the local runs skip (0 ms) rather than sleep through. */
const WAIT_STATES = ["WaitBeforeMerge"];

/** Runs the rendered definition locally with the default fakes, some replaced by `handlers`. */
async function runPipeline(
  handlers: Record<string, Handler> = {},
  options: { definition?: StateMachineDefinition; executionName?: string; input?: JsonObject } = {},
): Promise<PipelineRun> {
  const definition = options.definition ?? renderStateMachine(loadStateMachine(FACILITY_PIPELINE), LOCAL_VALUES);
  const calls: Record<string, JsonObject[]> = Object.fromEntries(TASK_STATES.map((state) => [state, []]));
  const taskResourceLocalHandlers = Object.fromEntries(
    TASK_STATES.map((state) => [
      state,
      async (input: unknown) => {
        calls[state].push(input as JsonObject);
        const handler = handlers[state] ?? DEFAULT_HANDLERS[state];
        return (await handler(input as JsonObject, calls[state].length)) as never;
      },
    ]),
  );
  const machine = new StateMachine(definition as unknown as ConstructorParameters<typeof StateMachine>[0], {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  const runOptions: RunOptions = {
    overrides: {
      taskResourceLocalHandlers,
      retryIntervalOverrides: Object.fromEntries(TASK_STATES.map((state) => [state, 0])),
      waitTimeOverrides: Object.fromEntries(WAIT_STATES.map((state) => [state, 0])),
    },
    context: executionContext(STATE_MACHINE_ARN, options.executionName ?? EXECUTION_NAME),
  };
  const execution = machine.run((options.input ?? objectCreatedEvent()) as never, runOptions);
  const retried: string[] = [];
  const entered: Array<{ name: string; input: JsonValue }> = [];
  const logging = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === "StateRetried") retried.push(event.state.name);
      if (event.type === "StateEntered")
        entered.push({ name: event.state.name, input: event.state.input as JsonValue });
    }
  })();
  try {
    const output = (await execution.result) as JsonValue;
    await logging;
    return { output, calls, retried, entered };
  } catch (error) {
    await logging;
    return { error: error as PipelineRun["error"], calls, retried, entered };
  }
}

/** The inputs of each time the run entered `state`. */
function inputsOf(run: PipelineRun, state: string): JsonObject[] {
  return run.entered.filter(({ name }) => name === state).map(({ input }) => input as JsonObject);
}

/**
 * sql/<name>.sql as an Athena task should receive it: its code (queryCode) with each `?` replaced
 * by the quoted value of its parameter, taken from the ingest result as QUERY_PARAMETER_PATHS says.
 */
function inlinedQuery(name: string, ingest: { asOf: string; stagedObject: string } = INGEST_RESULT): string {
  const values: Record<string, string> = { as_of: ingest.asOf, staged_object: ingest.stagedObject };
  const parameters = queryParameters(name);
  let next = 0;
  return queryCode(name).replace(/\?/g, () => `'${values[parameters[next++].name]}'`);
}

function onlyCall(run: PipelineRun, state: string): JsonObject {
  expect(run.calls[state]).toHaveLength(1);
  return run.calls[state][0];
}

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe("facility-pipeline.asl.json, run locally", () => {
  test("success: ingests the object, merges it, runs both queries, publishes both datasets and summarises the run", async () => {
    const run = await runPipeline();

    expect(run.error).toBeUndefined();
    expect(onlyCall(run, "IngestFacilities")).toEqual({
      FunctionName: PLACEHOLDER_EXAMPLES.FilterExpiringFunctionArn,
      Payload: {
        bucket: BUCKET,
        key: KEY,
        object: (objectCreatedEvent().detail as JsonObject).object,
        eventTime: EVENT_TIME,
        asOf: expect.stringMatching(ISO_TIMESTAMP),
        windowMonths: 6,
      },
    });
    expect(onlyCall(run, "MergeCurrentState")).toEqual({
      QueryString: inlinedQuery("merge_current_state"),
      QueryExecutionContext: { Database: PLACEHOLDER_EXAMPLES.GlueDatabase },
      WorkGroup: PLACEHOLDER_EXAMPLES.AthenaWorkgroup,
      ClientRequestToken: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(onlyCall(run, "CountAccreditedByState")).toEqual({
      QueryString: inlinedQuery("accredited_facilities_by_state"),
      QueryExecutionContext: { Database: PLACEHOLDER_EXAMPLES.GlueDatabase },
      WorkGroup: PLACEHOLDER_EXAMPLES.AthenaWorkgroup,
      ClientRequestToken: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(onlyCall(run, "ExtractFacilitySummary")).toMatchObject({
      QueryString: inlinedQuery("facility_summary"),
      QueryExecutionContext: { Database: PLACEHOLDER_EXAMPLES.GlueDatabase },
      WorkGroup: PLACEHOLDER_EXAMPLES.AthenaWorkgroup,
    });
    expect(onlyCall(run, "PublishStateCounts")).toEqual({
      FunctionName: PLACEHOLDER_EXAMPLES.RelocateResultsFunctionArn,
      Payload: {
        dataset: "state_counts",
        queryExecutionId: "a1b2c3d4-state-counts",
        outputLocation: `s3://${BUCKET}/athena-results/a1b2c3d4-state-counts.csv`,
        executionName: EXECUTION_NAME,
        asOf: INGEST_RESULT.asOf,
      },
    });
    expect(onlyCall(run, "PublishFacilitySummary")).toMatchObject({
      Payload: { dataset: "facility_summary", queryExecutionId: "e5f6a7b8-facility-summary", asOf: INGEST_RESULT.asOf },
    });
    expect(run.calls.NotifyFailure).toHaveLength(0);
    expect(run.entered.map(({ name }) => name)).not.toContain("WaitBeforeMerge");
    expect(run.output).toEqual({
      executionArn: EXECUTION_ARN,
      source: { bucket: BUCKET, key: KEY },
      ingest: INGEST_RESULT,
      merge: { queryExecutionId: "c9d0e1f2-merge-current-state", dataScannedInBytes: 2048 },
      analytics: {
        bucket: PLACEHOLDER_EXAMPLES.DataBucket,
        stateCounts: {
          dataset: "state_counts",
          source: `s3://${BUCKET}/athena-results/a1b2c3d4-state-counts.csv`,
          runKey: `analytics/state_counts/run=${EXECUTION_NAME}/state_counts.csv`,
          latestKey: "analytics/state_counts/latest/state_counts.csv",
        },
        facilitySummary: {
          dataset: "facility_summary",
          source: `s3://${BUCKET}/athena-results/e5f6a7b8-facility-summary.csv`,
          runKey: `analytics/facility_summary/run=${EXECUTION_NAME}/facility_summary.csv`,
          latestKey: "analytics/facility_summary/latest/facility_summary.csv",
        },
      },
    });
  });

  test("the Athena request token is stable across retries and distinct per query and per execution", async () => {
    const throttledOnce: Handler = (input, attempt) => {
      if (attempt === 1) throw namedError("Athena.TooManyRequestsException", "Rate exceeded");
      return athenaQuery(`query-${String(input.ClientRequestToken).slice(0, 8)}`)(input, attempt);
    };
    const first = await runPipeline({ CountAccreditedByState: throttledOnce });
    const second = await runPipeline({}, { executionName: "another-execution" });

    const [attempt1, attempt2] = first.calls.CountAccreditedByState.map((call) => call.ClientRequestToken);
    expect(first.retried).toEqual(["CountAccreditedByState"]);
    expect(attempt2).toBe(attempt1);
    expect(first.calls.ExtractFacilitySummary[0].ClientRequestToken).not.toBe(attempt1);
    expect(first.calls.MergeCurrentState[0].ClientRequestToken).not.toBe(attempt1);
    expect(second.calls.MergeCurrentState[0].ClientRequestToken).not.toBe(
      first.calls.MergeCurrentState[0].ClientRequestToken,
    );
    expect(second.calls.CountAccreditedByState[0].ClientRequestToken).not.toBe(attempt1);
    for (const token of [attempt1, second.calls.CountAccreditedByState[0].ClientRequestToken]) {
      // Athena accepts 32 to 128 characters.
      expect(String(token).length).toBeGreaterThanOrEqual(32);
      expect(String(token).length).toBeLessThanOrEqual(128);
    }
  });

  test("a handler's validation error is not retried: NotifyFailure says what failed and how to act, then the run fails", async () => {
    const run = await runPipeline({
      IngestFacilities: () => {
        throw functionError("FacilityValidationError", "no valid record in the object");
      },
    });

    expect(run.calls.IngestFacilities).toHaveLength(1);
    expect(run.calls.MergeCurrentState).toHaveLength(0);
    expect(run.calls.CountAccreditedByState).toHaveLength(0);
    const notification = onlyCall(run, "NotifyFailure");
    expect(notification.TopicArn).toBe(PLACEHOLDER_EXAMPLES.FailureTopicArn);
    expect(notification.Subject).toBe("Facility pipeline failed in IngestFacilities");
    const message = String(notification.Message);
    expect(message).toContain(`s3://${BUCKET}/${KEY}`);
    expect(message).toContain("Failed state: IngestFacilities");
    expect(message).toContain("Error: FacilityValidationError");
    expect(message).toContain("no valid record in the object");
    expect(message).toContain(`Execution: ${EXECUTION_ARN}`);
    expect(message).toContain(
      `https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${EXECUTION_ARN}`,
    );
    expect(message).toContain("upload the object to raw/ again");
    expect(run.error?.name).toBe("ExecutionError");
    expect(run.error?.cause?.name).toBe("FacilityValidationError");
    expect(run.error?.cause?.message).toContain("no valid record in the object");
  });

  test("a failing branch task fails Analyze with the task's error, and the cause names the task", async () => {
    const run = await runPipeline({
      PublishFacilitySummary: () => {
        throw functionError("ResultsNotFoundError", "no result object at the output location");
      },
    });

    expect(run.calls.PublishFacilitySummary).toHaveLength(1);
    const notification = onlyCall(run, "NotifyFailure");
    expect(notification.Subject).toBe("Facility pipeline failed in Analyze");
    expect(notification.Message).toContain("Failed state: Analyze");
    expect(notification.Message).toContain("Error: ResultsNotFoundError");
    expect(notification.Message).toContain("Cause: PublishFacilitySummary failed: ");
    expect(notification.Message).toContain("no result object at the output location");
    expect(run.error?.cause?.name).toBe("ResultsNotFoundError");
  });

  test("a FAILED query (States.TaskFailed) is not retried and is reported with its query state", async () => {
    const run = await runPipeline({
      CountAccreditedByState: () => {
        throw namedError(
          "States.TaskFailed",
          "Athena query FAILED: COLUMN_NOT_FOUND: line 2:3: Column 'state' cannot be resolved",
        );
      },
    });

    expect(run.calls.CountAccreditedByState).toHaveLength(1);
    expect(run.calls.PublishStateCounts).toHaveLength(0);
    expect(run.retried).toEqual([]);
    expect(onlyCall(run, "NotifyFailure").Message).toContain(
      "Cause: CountAccreditedByState failed: Athena query FAILED",
    );
    expect(run.error?.cause?.name).toBe("States.TaskFailed");
  });

  test.each(LAMBDA_TRANSIENT_ERRORS)("%s from Lambda is retried, then the run succeeds", async (errorName) => {
    const run = await runPipeline({
      IngestFacilities: (input, attempt) => {
        if (attempt === 1) throw namedError(errorName, "Rate exceeded");
        return DEFAULT_HANDLERS.IngestFacilities(input, attempt);
      },
      PublishStateCounts: (input, attempt) => {
        if (attempt === 1) throw namedError(errorName, "Service unavailable");
        return relocateResults(input, attempt);
      },
    });

    expect(run.error).toBeUndefined();
    expect(run.calls.IngestFacilities).toHaveLength(2);
    expect(run.calls.PublishStateCounts).toHaveLength(2);
    expect(run.retried.sort()).toEqual(["IngestFacilities", "PublishStateCounts"]);
    expect(run.calls.NotifyFailure).toHaveLength(0);
  });

  test("a transient error that persists exhausts the retries and is reported", async () => {
    const run = await runPipeline({
      ExtractFacilitySummary: () => {
        throw namedError("Athena.TooManyRequestsException", "Rate exceeded");
      },
    });

    expect(run.calls.ExtractFacilitySummary).toHaveLength(1 + 5);
    expect(onlyCall(run, "NotifyFailure").Message).toContain("Error: Athena.TooManyRequestsException");
    expect(run.error?.cause?.name).toBe("Athena.TooManyRequestsException");
  });

  test("SNS throttling is retried; a notification that cannot be sent still ends the run with the original error", async () => {
    const failIngest = () => {
      throw functionError("FacilityValidationError", "bad upload");
    };
    const throttled = await runPipeline({
      IngestFacilities: failIngest,
      NotifyFailure: (_, attempt) => {
        if (attempt === 1) throw namedError("SNS.ThrottledException", "Rate exceeded");
        return { MessageId: "m-1" };
      },
    });
    const denied = await runPipeline({
      IngestFacilities: failIngest,
      NotifyFailure: () => {
        throw namedError("SNS.AuthorizationErrorException", "not authorized to publish");
      },
    });

    expect(throttled.calls.NotifyFailure).toHaveLength(2);
    expect(throttled.error?.cause?.name).toBe("FacilityValidationError");
    expect(denied.calls.NotifyFailure).toHaveLength(1);
    expect(denied.error?.cause?.name).toBe("FacilityValidationError");
  });

  test("a task that exceeds its TimeoutSeconds is caught and reported as States.Timeout", async () => {
    const definition = renderStateMachine(loadStateMachine(FACILITY_PIPELINE), LOCAL_VALUES);
    const ingest = statesOf(definition).find(({ name }) => name === "IngestFacilities")!.state;
    ingest.TimeoutSeconds = 1;

    const run = await runPipeline({ IngestFacilities: () => new Promise<JsonValue>(() => {}) }, { definition });

    expect(onlyCall(run, "NotifyFailure").Message).toContain("Error: States.Timeout");
    expect(run.error?.cause?.name).toBe("States.Timeout");
  });
});

describe("facility-pipeline.asl.json, run locally: the queries and the MERGE", () => {
  const written = loadStateMachine(FACILITY_PIPELINE);
  /** Each Athena task of the definition as written, with the sql/ file its QueryString.$ placeholder renders. */
  const athenaTasks = taskStatesOf(written)
    .filter(({ resource }) => resource === "arn:aws:states:::athena:startQueryExecution.sync")
    .map(({ name, state }) => {
      const placeholder = /^\$\{(\w+)\}$/.exec(String((state.Parameters as JsonObject)["QueryString.$"]))?.[1];
      return { name, query: QUERY_PLACEHOLDERS[placeholder as keyof typeof QUERY_PLACEHOLDERS] };
    });
  const mergeTokens = (run: PipelineRun) => run.calls.MergeCurrentState.map((call) => call.ClientRequestToken);
  /** The MERGE fails with a commit conflict `conflicts` times, then succeeds. */
  const conflicting =
    (conflicts: number): Handler =>
    (input, attempt) => {
      if (attempt <= conflicts) throw failedQuery(`merge-${attempt}`, ICEBERG_COMMIT_CONFLICT);
      return athenaQuery(`merge-${attempt}`)(input, attempt);
    };
  /** The wait before each MERGE retry: the cap of BackOffBeforeMerge for retry 1 to 5. */
  const WAIT_CAPS = [2, 4, 8, 16, 32];

  test("every Athena task has its QueryString from sql/", () => {
    expect(athenaTasks).toEqual([
      { name: "MergeCurrentState", query: "merge_current_state" },
      { name: "CountAccreditedByState", query: "accredited_facilities_by_state" },
      { name: "ExtractFacilitySummary", query: "facility_summary" },
    ]);
  });

  const escapingKey = "raw/2026/St. Mary's (north) {v2}.json";
  test.each([
    { case: "the default upload", key: KEY, ingest: INGEST_RESULT },
    {
      case: "a key and version that are percent-encoded, another as-of date",
      key: escapingKey,
      ingest: { ...ingestResult(escapingKey, "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"), asOf: "2026-11-26" },
    },
  ])(
    "each Athena task's rendered QueryString is its sql/ code with the ingest's as-of date and staged object inlined ($case)",
    async ({ key, ingest }) => {
      const run = await runPipeline(
        { IngestFacilities: () => ({ StatusCode: 200, ExecutedVersion: "$LATEST", Payload: ingest }) },
        { input: objectCreatedEvent(key) },
      );

      expect(run.error).toBeUndefined();
      for (const { name, query } of athenaTasks) {
        const queryString = onlyCall(run, name).QueryString;
        expect({ name, queryString }).toEqual({ name, queryString: inlinedQuery(query, ingest) });
      }
      expect(run.calls.MergeCurrentState[0].QueryString).toContain(
        `"$path" = CAST('${ingest.stagedObject}' AS VARCHAR)`,
      );
      expect(run.calls.CountAccreditedByState[0].QueryString).toContain(`CAST('${ingest.asOf}' AS DATE)`);
    },
  );

  test.each([1, 5])(
    "a MERGE that conflicts %i time(s) (ICEBERG_COMMIT_ERROR) is started again with a new request token after a capped random wait, then the run succeeds",
    async (conflicts) => {
      const run = await runPipeline({ MergeCurrentState: conflicting(conflicts) });

      expect(run.error).toBeUndefined();
      expect(run.calls.MergeCurrentState).toHaveLength(conflicts + 1);
      const tokens = mergeTokens(run);
      expect(new Set(tokens).size).toBe(conflicts + 1);
      for (const token of tokens) expect(token).toMatch(/^[0-9a-f]{64}$/);
      // The same query each time; only the token changes.
      expect(new Set(run.calls.MergeCurrentState.map((call) => call.QueryString))).toEqual(
        new Set([inlinedQuery("merge_current_state")]),
      );
      // The conflict loop is the Catch, not the task's Retry (which is only for throttling).
      expect(run.retried).toEqual([]);
      const waits = inputsOf(run, "WaitBeforeMerge").map((input) => input.mergeRetry as JsonObject);
      expect(waits).toHaveLength(conflicts);
      waits.forEach((wait, index) => {
        expect(wait.attempt).toBe(index + 1);
        expect(Number.isInteger(wait.waitSeconds)).toBe(true);
        expect(wait.waitSeconds).toBeGreaterThanOrEqual(1);
        expect(wait.waitSeconds).toBeLessThanOrEqual(WAIT_CAPS[index]);
        expect((wait.lastError as JsonObject).Cause).toContain("ICEBERG_COMMIT_ERROR");
      });
      expect(run.calls.NotifyFailure).toHaveLength(0);
      expect(run.calls.CountAccreditedByState).toHaveLength(1);
      expect((run.output as JsonObject).merge).toEqual({
        queryExecutionId: `merge-${conflicts + 1}`,
        dataScannedInBytes: 2048,
      });
    },
  );

  test("6 conflicts in a row: the MERGE is given up after exactly 6 attempts, NotifyFailure names MergeCurrentState", async () => {
    const run = await runPipeline({ MergeCurrentState: conflicting(Infinity) });

    expect(run.calls.MergeCurrentState).toHaveLength(6);
    expect(new Set(mergeTokens(run)).size).toBe(6);
    expect(inputsOf(run, "WaitBeforeMerge")).toHaveLength(5);
    expect(run.calls.CountAccreditedByState).toHaveLength(0);
    const notification = onlyCall(run, "NotifyFailure");
    expect(notification.Subject).toBe("Facility pipeline failed in MergeCurrentState");
    expect(notification.Message).toContain("Failed state: MergeCurrentState");
    expect(notification.Message).toContain("Error: States.TaskFailed");
    expect(notification.Message).toContain("ICEBERG_COMMIT_ERROR");
    expect(run.error?.cause?.name).toBe("States.TaskFailed");
    expect(run.error?.cause?.message).toContain("ICEBERG_COMMIT_ERROR");
  });

  test.each([
    {
      case: "a FAILED query with another reason",
      error: "States.TaskFailed",
      fail: (): never => {
        throw failedQuery(
          "merge-1",
          "MERGE_TARGET_ROW_MULTIPLE_MATCHES: One MERGE target table row matched more than one source row",
        );
      },
      cause: "MERGE_TARGET_ROW_MULTIPLE_MATCHES",
    },
    {
      case: "a service error",
      error: "Athena.AccessDeniedException",
      fail: (): never => {
        throw namedError("Athena.AccessDeniedException", "not authorized to perform: athena:StartQueryExecution");
      },
      cause: "not authorized",
    },
  ])("any other MERGE failure is not retried: $case", async ({ error, fail, cause }) => {
    const run = await runPipeline({ MergeCurrentState: fail });

    expect(run.calls.MergeCurrentState).toHaveLength(1);
    expect(run.retried).toEqual([]);
    expect(inputsOf(run, "WaitBeforeMerge")).toHaveLength(0);
    expect(run.calls.CountAccreditedByState).toHaveLength(0);
    const notification = onlyCall(run, "NotifyFailure");
    expect(notification.Subject).toBe("Facility pipeline failed in MergeCurrentState");
    expect(notification.Message).toContain(`Error: ${error}`);
    expect(notification.Message).toContain(cause);
    expect(run.error?.cause?.name).toBe(error);
  });

  test("a MERGE that exceeds its TimeoutSeconds (States.Timeout) is not retried", async () => {
    const definition = renderStateMachine(loadStateMachine(FACILITY_PIPELINE), LOCAL_VALUES);
    statesOf(definition).find(({ name }) => name === "MergeCurrentState")!.state.TimeoutSeconds = 1;

    const run = await runPipeline({ MergeCurrentState: () => new Promise<JsonValue>(() => {}) }, { definition });

    expect(run.calls.MergeCurrentState).toHaveLength(1);
    expect(inputsOf(run, "WaitBeforeMerge")).toHaveLength(0);
    expect(onlyCall(run, "NotifyFailure").Subject).toBe("Facility pipeline failed in MergeCurrentState");
    expect(run.error?.cause?.name).toBe("States.Timeout");
  });

  test("Athena throttling of the MERGE is retried by the task's Retry with the same request token", async () => {
    const run = await runPipeline({
      MergeCurrentState: (input, attempt) => {
        if (attempt === 1) throw namedError("Athena.TooManyRequestsException", "Rate exceeded");
        return athenaQuery("merge-2")(input, attempt);
      },
    });

    expect(run.error).toBeUndefined();
    expect(run.retried).toEqual(["MergeCurrentState"]);
    const [first, second] = mergeTokens(run);
    expect(second).toBe(first);
    expect(inputsOf(run, "WaitBeforeMerge")).toHaveLength(0);
  });

  test("a failed ingest (NoValidRecordsError) never reaches the MERGE", async () => {
    const run = await runPipeline({
      IngestFacilities: () => {
        throw functionError("NoValidRecordsError", `${KEY}: none of its 10 records is valid`);
      },
    });

    expect(run.calls.IngestFacilities).toHaveLength(1);
    expect(run.calls.MergeCurrentState).toHaveLength(0);
    expect(run.entered.map(({ name }) => name)).not.toContain("PrepareMerge");
    expect(onlyCall(run, "NotifyFailure").Subject).toBe("Facility pipeline failed in IngestFacilities");
    expect(run.error?.cause?.name).toBe("NoValidRecordsError");
  });
});

describe("facility-pipeline.asl.json, as written", () => {
  const definition = loadStateMachine(FACILITY_PIPELINE);
  const tasks = taskStatesOf(definition);

  test("uses exactly the placeholders the orchestration module supplies", () => {
    expect(listStateMachines()).toContain(FACILITY_PIPELINE);
    expect(placeholdersOf(definition)).toEqual([...FACILITY_PIPELINE_PLACEHOLDERS].sort());
  });

  test("is valid ASL, with ARN checks on, once rendered with the example values", () => {
    expect(aslProblems(renderStateMachine(definition, examplesFor(definition)))).toEqual([]);
  });

  test("its Task states are the ones the local runner provides, each with its service integration", () => {
    expect(Object.fromEntries(tasks.map(({ name, resource }) => [name, resource]))).toEqual({
      IngestFacilities: "arn:aws:states:::lambda:invoke",
      MergeCurrentState: "arn:aws:states:::athena:startQueryExecution.sync",
      CountAccreditedByState: "arn:aws:states:::athena:startQueryExecution.sync",
      PublishStateCounts: "arn:aws:states:::lambda:invoke",
      ExtractFacilitySummary: "arn:aws:states:::athena:startQueryExecution.sync",
      PublishFacilitySummary: "arn:aws:states:::lambda:invoke",
      NotifyFailure: "arn:aws:states:::sns:publish",
      NotifyRejectedExpiring: "arn:aws:states:::sns:publish",
    });
  });

  test("every Task retries only its service's transient errors, with backoff and full jitter", () => {
    const transientErrors: Record<string, string[]> = {
      "arn:aws:states:::lambda:invoke": LAMBDA_TRANSIENT_ERRORS,
      "arn:aws:states:::athena:startQueryExecution.sync": ["Athena.TooManyRequestsException"],
      "arn:aws:states:::sns:publish": [
        "SNS.ThrottledException",
        "SNS.InternalErrorException",
        "SNS.KMSThrottlingException",
        "SNS.SdkClientException",
      ],
    };
    for (const { name, resource, state } of tasks) {
      expect({ name, retry: state.Retry }).toEqual({
        name,
        retry: [
          {
            ErrorEquals: transientErrors[resource],
            IntervalSeconds: expect.any(Number),
            BackoffRate: 2,
            MaxAttempts: expect.any(Number),
            MaxDelaySeconds: expect.any(Number),
            JitterStrategy: "FULL",
          },
        ],
      });
    }
  });

  test("every Task and the Parallel catch States.ALL, keeping their input beside the error", () => {
    const catching = statesOf(definition).filter(({ state }) => state.Type === "Task" || state.Type === "Parallel");
    expect(catching.map(({ name }) => name)).toEqual(expect.arrayContaining([...TASK_STATES, "Analyze"]));
    for (const { name, state } of catching) {
      expect({ name, catch: state.Catch }).toEqual({
        name,
        catch: [
          { ErrorEquals: ["States.ALL"], ResultPath: expect.stringMatching(/^\$\.\w+$/), Next: expect.any(String) },
        ],
      });
    }
    const topLevel = definition.States as Record<string, JsonObject>;
    const catchTarget = (state: string) => (topLevel[state].Catch as JsonObject[])[0].Next as string;
    expect(topLevel[catchTarget("IngestFacilities")].Next).toBe("NotifyFailure");
    // A failed MERGE goes through the conflict check, whose default is the failure notification.
    expect(topLevel[catchTarget("MergeCurrentState")].Type).toBe("Choice");
    expect(topLevel[topLevel[catchTarget("MergeCurrentState")].Default as string].Next).toBe("NotifyFailure");
    expect(topLevel[catchTarget("Analyze")].Next).toBe("NotifyFailure");
    expect(catchTarget("NotifyFailure")).toBe("PipelineFailed");
    expect(topLevel.NotifyFailure.Next).toBe("PipelineFailed");
    expect(topLevel.PipelineFailed.Type).toBe("Fail");
  });

  test("the machine and every Task have a timeout, and the machine outlasts the longest path (6 MERGE attempts)", () => {
    const timeoutOf = (state: string) => tasks.find(({ name }) => name === state)!.state.TimeoutSeconds as number;
    for (const { name, state } of tasks)
      expect({ name, timeout: state.TimeoutSeconds }).toEqual({ name, timeout: expect.any(Number) });
    const longestPath =
      timeoutOf("IngestFacilities") +
      // A conflicted MERGE fails at its commit: each of the 6 attempts may take its whole timeout,
      // and the backoff waits at most 2 + 4 + 8 + 16 + 32 s.
      6 * timeoutOf("MergeCurrentState") +
      (2 + 4 + 8 + 16 + 32) +
      Math.max(
        timeoutOf("CountAccreditedByState") + timeoutOf("PublishStateCounts"),
        timeoutOf("ExtractFacilitySummary") + timeoutOf("PublishFacilitySummary"),
      ) +
      timeoutOf("NotifyFailure");
    expect(definition.TimeoutSeconds).toBeGreaterThan(longestPath);
  });

  test("is written in JSONPath only (the local interpreter ignores JSONata)", () => {
    const text = JSON.stringify(definition);
    expect(text).not.toContain('"QueryLanguage"');
    expect(text).not.toContain("{%");
  });

  test("the failure subject stays within SNS's 100 characters for every state that can fail", () => {
    const subjectTemplate = "Facility pipeline failed in {}";
    const failedStates = statesOf(definition)
      .filter(({ state }) => state.Type === "Pass" && typeof state.Result === "string")
      .map(({ state }) => state.Result as string);
    expect(failedStates.sort()).toEqual(["Analyze", "IngestFacilities", "MergeCurrentState", "NotifyRejectedExpiring"]);
    for (const state of failedStates) expect(subjectTemplate.replace("{}", state).length).toBeLessThanOrEqual(100);
    expect(
      ((definition.States as Record<string, JsonObject>).NotifyFailure.Parameters as JsonObject)["Subject.$"],
    ).toBe(`States.Format('${subjectTemplate}', $.failedState)`);
  });
});

describe("expiry-digest.asl.json, as written", () => {
  const definition = loadStateMachine(EXPIRY_DIGEST);
  const tasks = taskStatesOf(definition);
  const topLevel = definition.States as Record<string, JsonObject>;

  test("uses exactly the placeholders the expiry-digest module supplies, and is valid ASL once rendered", () => {
    expect(listStateMachines()).toContain(EXPIRY_DIGEST);
    expect(placeholdersOf(definition)).toEqual([...EXPIRY_DIGEST_PLACEHOLDERS].sort());
    expect(aslProblems(renderStateMachine(definition, examplesFor(definition)))).toEqual([]);
  });

  test("its Tasks: the digest query, its publication, the two messages, the upkeep and the failure path", () => {
    expect(Object.fromEntries(tasks.map(({ name, resource }) => [name, resource]))).toEqual({
      RunDigestQuery: "arn:aws:states:::athena:startQueryExecution.sync",
      PublishDigest: "arn:aws:states:::lambda:invoke",
      NotifyCompliance: "arn:aws:states:::sns:publish",
      NotifyAllClear: "arn:aws:states:::sns:publish",
      CheckPipelineIdle: "arn:aws:states:::aws-sdk:sfn:listExecutions",
      OptimizeCurrentState: "arn:aws:states:::athena:startQueryExecution.sync",
      VacuumCurrentState: "arn:aws:states:::athena:startQueryExecution.sync",
      NotifyFailure: "arn:aws:states:::sns:publish",
    });
    // The digest goes to compliance, a failure to the platform team.
    for (const name of ["NotifyCompliance", "NotifyAllClear"])
      expect((topLevel[name].Parameters as JsonObject).TopicArn).toBe("${ComplianceTopicArn}");
    expect((topLevel.NotifyFailure.Parameters as JsonObject).TopicArn).toBe("${FailureTopicArn}");
  });

  test("every Task has a timeout, retries one list of transient errors with jitter, and catches States.ALL", () => {
    expect(definition.TimeoutSeconds).toEqual(expect.any(Number));
    for (const { name, state } of tasks) {
      const retry = state.Retry as JsonObject[];
      expect({ name, timeout: state.TimeoutSeconds, retries: retry.length, jitter: retry[0].JitterStrategy }).toEqual({
        name,
        timeout: expect.any(Number),
        retries: 1,
        jitter: "FULL",
      });
      expect(retry[0].ErrorEquals).not.toContain("States.ALL");
      expect((state.Catch as JsonObject[]).map((c) => c.ErrorEquals)).toEqual([["States.ALL"]]);
    }
    // Only a commit conflict (OPTIMIZE) and "more runs needed" (VACUUM) go round again; anything
    // else reaches the failure notification.
    const catchTarget = (state: string) => (topLevel[state].Catch as JsonObject[])[0].Next as string;
    for (const name of ["OptimizeCurrentState", "VacuumCurrentState"]) {
      const choice = topLevel[catchTarget(name)];
      expect(choice.Type).toBe("Choice");
      expect(topLevel[choice.Default as string].Next).toBe("NotifyFailure");
    }
    expect(JSON.stringify(topLevel.OptimizeConflicted)).toContain("*ICEBERG_COMMIT_ERROR*");
    expect(JSON.stringify(topLevel.VacuumNeedsMoreRuns)).toContain("*ICEBERG_VACUUM_MORE_RUNS_NEEDED*");
    for (const name of ["RunDigestQuery", "PublishDigest", "NotifyCompliance", "NotifyAllClear", "CheckPipelineIdle"])
      expect(topLevel[catchTarget(name)].Next).toBe("NotifyFailure");
    expect(topLevel.DigestFailed.Type).toBe("Fail");
  });

  test("is written in JSONPath only", () => {
    expect(JSON.stringify(definition)).not.toContain('"QueryLanguage"');
  });
});

describe("loadStateMachine", () => {
  test("rejects an unknown name and lists the known ones", () => {
    expect(() => loadStateMachine("facility-pipline")).toThrow(StateMachineFileError);
    expect(() => loadStateMachine("facility-pipline")).toThrow(
      /Unknown state machine "facility-pipline": expected one of .*facility-pipeline/,
    );
  });
});

describe("placeholdersOf", () => {
  test("finds whole and embedded placeholders, not Terraform or cdktf references", () => {
    expect(
      placeholdersOf({
        a: "${FunctionArn}",
        b: ["https://${Region}.example.com/${Region}"],
        c: { d: "${aws_lambda_function.filter.arn}", e: "${TfToken[TOKEN.12]}", f: "${lower}", g: "$.detail" },
      }),
    ).toEqual(["FunctionArn", "Region"]);
  });
});

describe("renderStateMachine", () => {
  const definition: StateMachineDefinition = {
    StartAt: "Query",
    States: {
      Query: {
        Type: "Task",
        Parameters: {
          QueryString: "${Query}",
          "Link.$": "States.Format('https://${Region}.console.aws.amazon.com/{}', $.id)",
          Note: "runs in ${Region}",
        },
        End: true,
      },
    },
  };
  const sql = "SELECT 'a''b' AS \"quoted\",\n  '\\n' AS backslash\nFROM t -- ${not a placeholder: lowercase}";

  test("substitutes on the parsed JSON: SQL with quotes, backslashes and newlines survives intact", () => {
    const rendered = renderStateMachine(definition, { Query: sql, Region: "eu-west-1" });

    const parameters = (rendered.States as Record<string, JsonObject>).Query.Parameters as JsonObject;
    expect(parameters).toEqual({
      QueryString: sql,
      "Link.$": "States.Format('https://eu-west-1.console.aws.amazon.com/{}', $.id)",
      Note: "runs in eu-west-1",
    });
    expect(JSON.parse(JSON.stringify(rendered))).toEqual(rendered);
  });

  test("returns a copy and leaves the definition untouched", () => {
    const before = structuredClone(definition);
    const rendered = renderStateMachine(definition, { Query: "SELECT 1", Region: "eu-west-1" });
    expect(definition).toEqual(before);
    expect(rendered).not.toBe(definition);
  });

  test("lists every missing and every unused placeholder in one error", () => {
    const render = () => renderStateMachine(definition, { Query: "SELECT 1", Regoin: "eu-west-1", Extra: "x" });
    expect(render).toThrow(PlaceholderError);
    expect(render).toThrow(
      /no value for \$\{Region\} \(used at \$\.States\.Query\.Parameters\["Link\.\$"\]\): add "Region"/,
    );
    expect(render).toThrow(/a value is supplied for "Regoin" but the definition does not use \$\{Regoin\}: remove it/);
    expect(render).toThrow(/a value is supplied for "Extra"/);
  });

  test("refuses a value that would change an expression it is embedded in, but accepts a Terraform reference", () => {
    expect(() => renderStateMachine(definition, { Query: "SELECT 1", Region: "eu-west-1', $.x, '" })).toThrow(
      /\$\{Region\} is inside the expression at .*Link.* must be plain text .* or a single Terraform reference/,
    );
    const rendered = renderStateMachine(definition, { Query: "SELECT 1", Region: "${data.aws_region.current.name}" });
    expect(JSON.stringify(rendered)).toContain("https://${data.aws_region.current.name}.console");
  });

  test("refuses a value that looks like a placeholder, and placeholders in keys", () => {
    expect(() => renderStateMachine(definition, { Query: "${Region}", Region: "eu-west-1" })).toThrow(
      /the value for "Query" contains \$\{Region\}/,
    );
    expect(() => renderStateMachine({ "${Key}": "x" }, {})).toThrow(/the key at .* contains a placeholder/);
  });
});

describe("validateStateMachine", () => {
  const valid = (): StateMachineDefinition => renderStateMachine(loadStateMachine(FACILITY_PIPELINE), LOCAL_VALUES);

  test("accepts the rendered pipeline and does not modify it (asl-validator modifies its input)", () => {
    const definition = valid();
    const before = structuredClone(definition);
    expect(() => validateStateMachine(definition)).not.toThrow();
    expect(definition).toEqual(before);
  });

  test("rejects a Next that names no state", () => {
    const definition = valid();
    (definition.States as Record<string, JsonObject>).IngestFacilities.Next = "NoSuchState";
    expect(() => validateStateMachine(definition)).toThrow(AslValidationError);
    expect(() => validateStateMachine(definition)).toThrow(
      /MISSING_TRANSITION_TARGET: Missing 'StartAt'\|'Next'\|'Default' target: NoSuchState/,
    );
  });

  test("checks Task resources as ARNs", () => {
    const definition = valid();
    (definition.States as Record<string, JsonObject>).IngestFacilities.Resource = "lambda:invoke";
    expect(aslProblems(definition)).toEqual([
      expect.stringMatching(/^SCHEMA_VALIDATION_FAILED: \/States\/IngestFacilities/),
    ]);
  });

  test("enforces the conventions, all problems at once", () => {
    const definition = valid();
    const states = definition.States as Record<string, JsonObject>;
    delete definition.TimeoutSeconds;
    delete states.NotifyFailure.TimeoutSeconds;
    delete states.Analyze.Catch;
    (states.IngestFacilities.Retry as JsonObject[])[0].ErrorEquals = ["States.ALL"];
    delete (states.NotifyFailure.Retry as JsonObject[])[0].JitterStrategy;
    states.IngestFacilitiesFailed.QueryLanguage = "JSONata";

    expect(aslProblems(definition).filter((problem) => problem.startsWith("CONVENTION"))).toEqual([
      expect.stringMatching(/the state machine has no TimeoutSeconds/),
      expect.stringMatching(/Task IngestFacilities Retry\[0\] matches States.ALL: retry named transient errors only/),
      expect.stringMatching(/state IngestFacilitiesFailed .* uses JSONata/),
      expect.stringMatching(/Parallel Analyze has no Catch for States.ALL/),
      expect.stringMatching(/Task NotifyFailure has no TimeoutSeconds/),
      expect.stringMatching(/Task NotifyFailure Retry\[0\] has no "JitterStrategy": "FULL"/),
    ]);
    expect(aslProblems(definition, { conventions: false }).filter((p) => p.startsWith("CONVENTION"))).toEqual([]);
  });
});

describe("renderAndValidate", () => {
  const terraformValues: Record<string, string> = facilityPipelinePlaceholders({
    athenaWorkgroup: "${aws_athena_workgroup.facility_pipeline.name}",
    awsRegion: "us-east-1",
    dataBucket: "${aws_s3_bucket.data.bucket}",
    failureTopicArn: "${aws_sns_topic.failures.arn}",
    filterExpiringFunctionArn: "${aws_lambda_function.filter_expiring.arn}",
    glueDatabase: "${aws_glue_catalog_database.facilities.name}",
    relocateResultsFunctionArn: "${aws_lambda_function.relocate_results.arn}",
    expiryWindowMonths: "${var.expiry_window_months}",
  });

  test("returns the definition rendered with Terraform references, validated with example ARNs", () => {
    const rendered = renderAndValidate(loadStateMachine(FACILITY_PIPELINE), terraformValues);

    const ingest = (rendered.States as Record<string, JsonObject>).IngestFacilities.Parameters as JsonObject;
    expect(ingest.FunctionName).toBe("${aws_lambda_function.filter_expiring.arn}");
    expect(placeholdersOf(rendered)).toEqual([]);
    const queryStringOf = (state: string) =>
      (statesOf(rendered).find(({ name }) => name === state)!.state.Parameters as JsonObject)["QueryString.$"];
    expect(queryStringOf("ExtractFacilitySummary")).toBe(queryStringExpression("facility_summary"));
    expect(queryStringOf("MergeCurrentState")).toBe(queryStringExpression("merge_current_state"));
  });

  test("fails on an invalid definition although the real values are not ARNs", () => {
    const definition = loadStateMachine(FACILITY_PIPELINE);
    (definition.States as Record<string, JsonObject>).Analyze.Next = "Summarise";
    expect(() => renderAndValidate(definition, terraformValues)).toThrow(/target: Summarise/);
  });

  test("fails on a placeholder that has no example value", () => {
    const definition = loadStateMachine(FACILITY_PIPELINE);
    (definition.States as Record<string, JsonObject>).PipelineSucceeded.Comment = "${Environment}";
    expect(() => renderAndValidate(definition, { ...terraformValues, Environment: "dev" })).toThrow(
      /\$\{Environment\} is not a known placeholder: .* add "Environment" to PLACEHOLDER_NAMES/,
    );
  });
});

describe("executionContext", () => {
  test("builds the execution ARN from the state machine ARN", () => {
    expect(executionContext(STATE_MACHINE_ARN, EXECUTION_NAME, new Date("2025-01-15T10:00:00Z"))).toEqual({
      Execution: { Id: EXECUTION_ARN, Name: EXECUTION_NAME, StartTime: "2025-01-15T10:00:00.000Z", RedriveCount: 0 },
      StateMachine: { Id: STATE_MACHINE_ARN, Name: "hfap-test-facility-pipeline" },
    });
  });

  test("rejects something that is not a state machine ARN", () => {
    expect(() => executionContext("arn:aws:lambda:us-east-1:123456789012:function:x", "e")).toThrow(
      /is not a state machine ARN: expected arn:aws:states:<region>:<account>:stateMachine:<name>/,
    );
  });
});
