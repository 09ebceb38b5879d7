/** status against AWS with the SDK mocked: paging, the --since cut-off, failures and the exit code. */
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  type ExecutionListItem,
  type HistoryEvent,
} from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { DEPLOYMENT, awsError, runCli } from "../helpers/operations";

const sfn = mockClient(SFNClient);
const HOUR = 3_600_000;
const started = (hoursAgo: number) => new Date(Date.now() - hoursAgo * HOUR);

function execution(name: string, status: string, hoursAgo: number): ExecutionListItem {
  const startDate = started(hoursAgo);
  return {
    executionArn: `arn:aws:states:eu-west-1:123456789012:execution:dev-facility-pipeline:${name}`,
    stateMachineArn: DEPLOYMENT.stateMachineArn,
    name,
    status: status as ExecutionListItem["status"],
    startDate,
    stopDate: status === "RUNNING" ? undefined : new Date(startDate.getTime() + 83_000),
  };
}

const eventInput = (key: string) =>
  JSON.stringify({
    "detail-type": "Object Created",
    source: "aws.s3",
    detail: { bucket: { name: DEPLOYMENT.bucket }, object: { key, size: 10, etag: "e" } },
  });

/** The history of an execution whose ExtractFacilitySummary query failed, in two pages. */
const FAILED_HISTORY: HistoryEvent[][] = [
  [
    { id: 1, previousEventId: 0, type: "ExecutionStarted", timestamp: started(2) },
    {
      id: 2,
      previousEventId: 1,
      type: "TaskStateEntered",
      timestamp: started(2),
      stateEnteredEventDetails: { name: "ExtractFacilitySummary" },
    },
    { id: 3, previousEventId: 2, type: "TaskScheduled", timestamp: started(2) },
  ],
  [
    { id: 4, previousEventId: 3, type: "TaskStarted", timestamp: started(2) },
    {
      id: 5,
      previousEventId: 4,
      type: "TaskFailed",
      timestamp: started(2),
      taskFailedEventDetails: {
        resourceType: "athena",
        resource: "startQueryExecution.sync",
        error: "States.TaskFailed",
        cause: "HIVE_BAD_DATA: ...",
      },
    },
    {
      id: 6,
      previousEventId: 5,
      type: "ExecutionFailed",
      timestamp: started(2),
      executionFailedEventDetails: {
        error: "States.TaskFailed",
        cause: "ExtractFacilitySummary failed: HIVE_BAD_DATA",
      },
    },
  ],
];

beforeEach(() => {
  sfn.reset();
  sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
    const name = input.executionArn.split(":").at(-1)!;
    return {
      executionArn: input.executionArn,
      status: name.startsWith("failed") ? "FAILED" : "SUCCEEDED",
      input: eventInput(`raw/${name}.json`),
      ...(name.startsWith("failed")
        ? { error: "States.TaskFailed", cause: "ExtractFacilitySummary failed: HIVE_BAD_DATA: bad row\nat line 2" }
        : {}),
    };
  });
  sfn
    .on(GetExecutionHistoryCommand)
    .callsFake((input: { nextToken?: string }) =>
      input.nextToken === undefined
        ? { events: FAILED_HISTORY[0], nextToken: "history-2" }
        : { events: FAILED_HISTORY[1] },
    );
});

const status = (...args: string[]) => runCli("status", "--state-machine-arn", DEPLOYMENT.stateMachineArn, ...args);

describe("status", () => {
  test("pages through ListExecutions until an execution started before --since, then stops", async () => {
    sfn.on(ListExecutionsCommand).callsFake((input: { nextToken?: string }) => {
      if (input.nextToken === undefined) {
        return {
          executions: [execution("a", "RUNNING", 0.1), execution("b", "SUCCEEDED", 1)],
          nextToken: "page-2",
        };
      }
      if (input.nextToken === "page-2") {
        return {
          executions: [execution("c", "SUCCEEDED", 5), execution("too-old", "SUCCEEDED", 30)],
          nextToken: "page-3",
        };
      }
      throw new Error("read past --since");
    });

    const { code, stdout } = await status("--since", "24h", "--json");

    expect(code).toBe(0);
    expect(sfn.commandCalls(ListExecutionsCommand).map((call) => call.args[0].input)).toEqual([
      { stateMachineArn: DEPLOYMENT.stateMachineArn, maxResults: 100, nextToken: undefined },
      { stateMachineArn: DEPLOYMENT.stateMachineArn, maxResults: 100, nextToken: "page-2" },
    ]);
    const result = JSON.parse(stdout);
    expect(result.executions.map((e: { name: string }) => e.name)).toEqual(["a", "b", "c"]);
    expect(result.executions[1]).toMatchObject({
      status: "SUCCEEDED",
      source: { bucket: DEPLOYMENT.bucket, key: "raw/b.json" },
      durationMs: 83_000,
      failure: null,
    });
    expect(result.counts).toEqual({ SUCCEEDED: 3 });
    expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(0);
  });

  test("a failed execution shows its failing state and error (from the paged history) and makes the exit code 1", async () => {
    sfn.on(ListExecutionsCommand).resolves({
      executions: [execution("ok", "SUCCEEDED", 1), execution("failed-summary", "FAILED", 2)],
    });

    const { code, stdout } = await status();

    expect(code).toBe(1);
    expect(stdout).toMatch(/SUCCEEDED +1 min 23 s +s3:\/\/dev-facility-data\/raw\/ok\.json +ok/);
    expect(stdout).toMatch(/FAILED +1 min 23 s +s3:\/\/dev-facility-data\/raw\/failed-summary\.json +failed-summary/);
    expect(stdout).toContain(
      "Failures\n  failed-summary\n    failed in ExtractFacilitySummary: States.TaskFailed\n    ExtractFacilitySummary failed: HIVE_BAD_DATA: bad row\n",
    );
    expect(stdout).toContain("2 execution(s): 1 SUCCEEDED, 1 FAILED");
    expect(sfn.commandCalls(GetExecutionHistoryCommand).map((call) => call.args[0].input)).toEqual([
      { executionArn: expect.stringMatching(/:failed-summary$/), maxResults: 1000, nextToken: undefined },
      { executionArn: expect.stringMatching(/:failed-summary$/), maxResults: 1000, nextToken: "history-2" },
    ]);
  });

  test("--json carries the failure", async () => {
    sfn.on(ListExecutionsCommand).resolves({ executions: [execution("failed-summary", "FAILED", 2)] });
    const { code, stdout } = await status("--json");
    expect(code).toBe(1);
    expect(JSON.parse(stdout).executions[0].failure).toEqual({
      state: "ExtractFacilitySummary",
      error: "States.TaskFailed",
      cause: "ExtractFacilitySummary failed: HIVE_BAD_DATA: bad row\nat line 2",
    });
  });

  test("--limit stops the listing and says so", async () => {
    sfn.on(ListExecutionsCommand).resolves({
      executions: [execution("a", "SUCCEEDED", 1), execution("b", "SUCCEEDED", 2), execution("c", "SUCCEEDED", 3)],
    });
    const { code, stdout } = await status("--limit", "2");
    expect(code).toBe(0);
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(2);
    expect(stdout).toContain("Only the 2 most recent are shown: raise --limit or narrow --since.");
  });

  test("no executions in the window: exit code 0", async () => {
    sfn.on(ListExecutionsCommand).resolves({ executions: [execution("old", "FAILED", 48)] });
    const { code, stdout } = await status("--since", "1d");
    expect(code).toBe(0);
    expect(stdout).toContain("(none)");
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });

  test("the state machine comes from the outputs file when no flag gives it", async () => {
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    const { code, stderr } = await runCli("status", "--outputs", "/nonexistent/cdktf-outputs.json");
    expect(code).toBe(2);
    expect(stderr).toContain("No outputs file /nonexistent/cdktf-outputs.json");
    expect(stderr).toContain("npx cdktf output --outputs-file /nonexistent/cdktf-outputs.json");
    expect(stderr).toContain("--state-machine-arn VALUE");
    expect(sfn.calls()).toHaveLength(0);
  });

  test("AccessDeniedException from ListExecutions names states:ListExecutions", async () => {
    sfn.on(ListExecutionsCommand).rejects(awsError("AccessDeniedException", "not authorized"));
    const { code, stderr } = await status();
    expect(code).toBe(1);
    expect(stderr).toContain(
      `Access denied: you are not allowed to call states:ListExecutions on ${DEPLOYMENT.stateMachineArn}`,
    );
  });

  test("a state machine that does not exist says to check the outputs and the region", async () => {
    sfn.on(ListExecutionsCommand).rejects(awsError("StateMachineDoesNotExist", "State Machine Does Not Exist"));
    const { code, stderr } = await status();
    expect(code).toBe(1);
    expect(stderr).toContain(`states:ListExecutions: ${DEPLOYMENT.stateMachineArn} does not exist`);
    expect(stderr).toContain("--region");
  });
});
