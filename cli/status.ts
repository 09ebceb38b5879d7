/**
 * `status`: the recent executions, with the object each processed, its status and duration, and
 * for a failed one the state that failed and its error. Exit code 1 when any failed, so a
 * scheduled job or a CI step can alert on it.
 */
import { formatTable } from "./table";
import { UsageError } from "../core/target";
import { firstLine, formatDuration, parseDuration, readableCause, type CommandOutput } from "./output";
import { FAILED_STATUSES, type ExecutionSummary, type Target } from "../core/target";

export interface StatusOptions {
  /** Executions started at or after this time. */
  readonly since: Date;
  /** At most this many, newest first. */
  readonly limit: number;
}

export const DEFAULT_SINCE = "24h";
export const DEFAULT_LIMIT = 200;

/** `--since`: a duration back from now (30m, 24h, 7d, 2w) or an ISO date or date-time. */
export function parseSince(text: string, now = new Date()): Date {
  const duration = parseDuration(text);
  if (duration !== undefined) return new Date(now.getTime() - duration);
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) {
    const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text.trim()) ? `${text.trim()}T00:00:00Z` : text.trim());
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new UsageError(
    `--since must be a duration such as 30m, 24h, 7d, or an ISO date or date-time such as 2026-11-20 or 2026-11-20T08:00:00Z (received "${text}")`,
  );
}

export async function status(target: Target, options: StatusOptions, now = new Date()): Promise<CommandOutput> {
  const { executions, truncated } = await target.listExecutions(options.since, options.limit);
  const failed = executions.filter((execution) => FAILED_STATUSES.has(execution.status));
  const counts: Record<string, number> = {};
  for (const execution of executions) counts[execution.status] = (counts[execution.status] ?? 0) + 1;

  const lines = [`Executions of ${target.stateMachine} since ${options.since.toISOString()}`];
  if (executions.length === 0) {
    lines.push("  (none)");
  } else {
    lines.push(
      formatTable(
        ["STARTED", "STATUS", "DURATION", "SOURCE", "EXECUTION"],
        executions.map((execution) => [
          execution.startDate.replace(/\.\d{3}Z$/, "Z"),
          execution.status,
          durationOf(execution, now),
          execution.source ? `s3://${execution.source.bucket}/${execution.source.key}` : "(not an S3 event)",
          execution.name,
        ]),
      ),
    );
  }
  if (failed.length > 0) {
    lines.push("", "Failures");
    for (const execution of failed) {
      const failure = execution.failure;
      lines.push(`  ${execution.name}`);
      lines.push(`    failed in ${failure?.state ?? "(unknown state)"}: ${failure?.error ?? execution.status}`);
      if (failure?.cause) lines.push(`    ${firstLine(readableCause(failure.cause), 300)}`);
    }
  }
  lines.push(
    "",
    `${executions.length} execution(s)${
      Object.keys(counts).length > 0
        ? `: ${Object.entries(counts)
            .map(([state, n]) => `${n} ${state}`)
            .join(", ")}`
        : ""
    }`,
  );
  if (truncated) lines.push(`Only the ${options.limit} most recent are shown: raise --limit or narrow --since.`);

  return {
    exitCode: failed.length > 0 ? 1 : 0,
    text: `${lines.join("\n")}\n`,
    json: {
      stateMachine: target.stateMachine,
      since: options.since.toISOString(),
      truncated,
      counts,
      executions: executions.map((execution) => ({ ...execution, durationMs: durationMs(execution, now) })),
    },
  };
}

function durationMs(execution: ExecutionSummary, now: Date): number {
  const stop = execution.stopDate ? new Date(execution.stopDate) : now;
  return stop.getTime() - new Date(execution.startDate).getTime();
}

function durationOf(execution: ExecutionSummary, now: Date): string {
  const text = formatDuration(durationMs(execution, now));
  return execution.stopDate ? text : `${text} so far`;
}
