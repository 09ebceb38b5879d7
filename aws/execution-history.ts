/**
 * Which state failed an execution, read from its Step Functions history (GetExecutionHistory).
 *
 * The workflow catches every error, notifies and ends in its Fail state, so the execution's own
 * error says what went wrong but not where. The history keeps the task failure events; each one
 * leads back, through previousEventId, to the "...StateEntered" event that names its state.
 */
import type { HistoryEvent } from "@aws-sdk/client-sfn";
import type { ExecutionFailure } from "../core/target";

/** Task-level failures: a Lambda, an Athena query, an SNS publish... that failed or timed out. */
const TASK_FAILURE = /^(Task|LambdaFunction|Activity|MapRun)\w*(Failed|TimedOut)$/;
const EXECUTION_FAILURE = /^Execution(Failed|TimedOut|Aborted)$/;

/**
 * The failing state, error and cause of a failed execution. The failing state is that of the
 * last task failure with the execution's error (the workflow ends with the error of the state that
 * failed), else of the last task failure, else the state the execution was in when it ended.
 * `executionError` (from DescribeExecution) wins over the history's ExecutionFailed event.
 */
export function failureFromHistory(
  events: readonly HistoryEvent[],
  executionError: { readonly error?: string; readonly cause?: string } = {},
): ExecutionFailure {
  const byId = new Map(events.map((event) => [event.id, event]));
  const ended = [...events].reverse().find((event) => EXECUTION_FAILURE.test(event.type ?? ""));
  const endDetails = ended ? failureDetails(ended) : undefined;
  const error = executionError.error ?? endDetails?.error ?? (ended ? ended.type! : null);
  const cause = executionError.cause ?? endDetails?.cause ?? null;

  const taskFailures = events.filter((event) => TASK_FAILURE.test(event.type ?? ""));
  const failing =
    [...taskFailures].reverse().find((event) => failureDetails(event)?.error === error) ?? taskFailures.at(-1) ?? ended;
  return { state: failing ? stateOf(failing, byId) : null, error, cause };
}

/** The `...EventDetails` member of an event that carries an error or a cause. */
function failureDetails(event: HistoryEvent): { error?: string; cause?: string } | undefined {
  for (const [key, value] of Object.entries(event)) {
    if (key.endsWith("EventDetails") && value && typeof value === "object" && ("error" in value || "cause" in value)) {
      return value as { error?: string; cause?: string };
    }
  }
  return undefined;
}

/** The name of the state an event belongs to, by following previousEventId to its StateEntered event. */
function stateOf(event: HistoryEvent, byId: ReadonlyMap<number | undefined, HistoryEvent>): string | null {
  let current: HistoryEvent | undefined = event;
  for (let steps = 0; current && steps < byId.size + 1; steps++) {
    const name = current.stateEnteredEventDetails?.name;
    if (name) return name;
    current = current.previousEventId ? byId.get(current.previousEventId) : undefined;
  }
  return null;
}
