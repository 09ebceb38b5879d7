import type { HistoryEvent } from "@aws-sdk/client-sfn";
import { failureFromHistory } from "../../aws/execution-history";

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
