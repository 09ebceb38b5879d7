/** The pure parts: replay execution names, failing states from a history, durations. */
import type { HistoryEvent } from "@aws-sdk/client-sfn";
import fc from "fast-check";
import { failureFromHistory } from "../../aws/execution-history";
import { MAX_EXECUTION_NAME_LENGTH, replayExecutionName } from "../../core/replay-event";
import { parseDuration } from "../../cli/output";
import { parseSince } from "../../cli/status";

describe("replayExecutionName", () => {
  const key = fc.string({ minLength: 1, maxLength: 1024, unit: "grapheme" }).map((rest) => `raw/${rest}`);
  const version = fc.option(fc.string({ minLength: 1, maxLength: 64 }), { nil: undefined });
  const label = fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/), { nil: undefined });

  test("is always a valid Step Functions execution name: 1 to 80 of [A-Za-z0-9_-]", () => {
    fc.assert(
      fc.property(key, version, label, (k, v, l) => {
        const name = replayExecutionName({ key: k, etag: "abc", versionId: v }, l);
        return name.length <= MAX_EXECUTION_NAME_LENGTH && /^[A-Za-z0-9_-]+$/.test(name);
      }),
    );
  });

  test("is a function of key, version and label: equal inputs give equal names, any difference another name", () => {
    fc.assert(
      fc.property(key, version, version, label, (k, v1, v2, l) => {
        const a = replayExecutionName({ key: k, etag: "e", versionId: v1 }, l);
        const b = replayExecutionName({ key: k, etag: "e", versionId: v2 }, l);
        return (a === b) === (v1 === v2);
      }),
    );
  });

  test("keeps the end of a long key, where the file name is", () => {
    const name = replayExecutionName({ key: `raw/${"partition=x/".repeat(20)}facilities-2026-11.jsonl.gz`, etag: "e" });
    expect(name).toHaveLength(MAX_EXECUTION_NAME_LENGTH);
    expect(name).toMatch(/_facilities-2026-11_jsonl_gz-[0-9a-f]{16}$/);
  });

  test("uses the ETag when the object has no version id", () => {
    const unversioned = (etag: string) => replayExecutionName({ key: "raw/a.json", etag });
    expect(unversioned("1")).not.toBe(unversioned("2"));
    expect(replayExecutionName({ key: "raw/a.json", etag: "1", versionId: "v" })).toBe(
      replayExecutionName({ key: "raw/a.json", etag: "2", versionId: "v" }),
    );
  });
});

describe("failureFromHistory", () => {
  let id = 0;
  const event = (type: string, previousEventId: number, details: Partial<HistoryEvent> = {}): HistoryEvent => ({
    id: ++id,
    previousEventId,
    type: type as HistoryEvent["type"],
    timestamp: new Date(),
    ...details,
  });
  const entered = (name: string, previous: number) =>
    event("TaskStateEntered", previous, { stateEnteredEventDetails: { name } });
  beforeEach(() => (id = 0));

  /** A task that failed `times` times with `error` (a retry in between), as Step Functions records it. */
  function failingTask(name: string, error: string, previous: number, times = 1): HistoryEvent[] {
    const events = [entered(name, previous)];
    let last = events[0].id!;
    for (let attempt = 0; attempt < times; attempt++) {
      const scheduled = event("TaskScheduled", last);
      const started = event("TaskStarted", scheduled.id!);
      const failed = event("TaskFailed", started.id!, {
        taskFailedEventDetails: {
          resourceType: "athena",
          resource: "startQueryExecution.sync",
          error,
          cause: `${name} ${attempt}`,
        },
      });
      events.push(scheduled, started, failed);
      last = failed.id!;
    }
    return events;
  }

  test("names the task whose error ended the execution, through retries and the notification", () => {
    const history = [
      event("ExecutionStarted", 0),
      ...failingTask("CountAccreditedByState", "Athena.TooManyRequestsException", 1, 3),
    ];
    history.push(...failingTask("NotifyFailure", "SNS.AuthorizationErrorException", history.at(-1)!.id!));
    history.push(
      event("FailStateEntered", history.at(-1)!.id!, { stateEnteredEventDetails: { name: "PipelineFailed" } }),
    );
    history.push(
      event("ExecutionFailed", history.at(-1)!.id!, {
        executionFailedEventDetails: { error: "Athena.TooManyRequestsException", cause: "Rate exceeded" },
      }),
    );

    expect(failureFromHistory(history)).toEqual({
      state: "CountAccreditedByState",
      error: "Athena.TooManyRequestsException",
      cause: "Rate exceeded",
    });
  });

  test("the error and cause from DescribeExecution win; the last task failure gives the state", () => {
    const history = [event("ExecutionStarted", 0), ...failingTask("IngestFacilities", "NoValidRecordsError", 1)];
    expect(failureFromHistory(history, { error: "States.TaskFailed", cause: "see history" })).toEqual({
      state: "IngestFacilities",
      error: "States.TaskFailed",
      cause: "see history",
    });
  });

  test("a timed-out execution names the state it was in", () => {
    const history = [event("ExecutionStarted", 0), entered("ExtractFacilitySummary", 1), event("TaskScheduled", 2)];
    history.push(event("ExecutionTimedOut", 3, { executionTimedOutEventDetails: {} }));
    expect(failureFromHistory(history)).toEqual({
      state: "ExtractFacilitySummary",
      error: "ExecutionTimedOut",
      cause: null,
    });
  });
});

describe("durations", () => {
  test.each([
    ["90s", 90_000],
    ["30m", 1_800_000],
    ["24h", 86_400_000],
    ["7d", 604_800_000],
    ["2w", 1_209_600_000],
  ])("%s", (text, ms) => expect(parseDuration(text)).toBe(ms));

  test.each(["0h", "1y", "h", "-1h", "1.5h"])("%s is not a duration", (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );

  test("--since takes a duration back from now, an ISO date (UTC midnight) or a date-time", () => {
    const now = new Date("2026-11-26T12:00:00Z");
    expect(parseSince("24h", now).toISOString()).toBe("2026-11-25T12:00:00.000Z");
    expect(parseSince("2026-11-20", now).toISOString()).toBe("2026-11-20T00:00:00.000Z");
    expect(parseSince("2026-11-20T08:30:00Z", now).toISOString()).toBe("2026-11-20T08:30:00.000Z");
    expect(() => parseSince("yesterday", now)).toThrow(/--since must be a duration such as 30m, 24h, 7d.*"yesterday"/);
    expect(() => parseSince("2026-02-30x", now)).toThrow(/--since/);
  });
});
