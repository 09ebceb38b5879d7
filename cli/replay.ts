/**
 * `replay`: start the workflow again for objects already under raw/, as if S3 had just sent their
 * "Object Created" events. For events EventBridge could not deliver (it gives up after 24 hours)
 * and for reprocessing after a fix.
 *
 * One execution per object version, named by replayExecutionName(): replaying the same version
 * again finds the name taken and reports "already started" instead of running it twice. A new
 * --label gives new names, to rerun on purpose.
 */
import { formatTable } from "./table";
import { DATA_PREFIXES } from "../core/data-layout";
import { UsageError } from "../core/target";
import { listProblems } from "./errors";
import { LABEL_PATTERN, executionArnOf, replayExecutionName } from "../core/replay-event";
import { firstLine, readableCause, type CommandOutput, type Log } from "./output";
import type { RunSettings } from "../core/settings";
import type { ReplayResult, SourceObject, Target } from "../core/target";

export interface ReplayOptions {
  /** `s3://<bucket>/raw/...` URIs or `raw/...` keys. */
  readonly objects: readonly string[];
  /** Prefixes under raw/: every object under each is replayed. */
  readonly prefixes: readonly string[];
  readonly dryRun: boolean;
  /** Mixed into the execution names: a new label reruns versions already replayed. */
  readonly label?: string;
  /** The as-of date and window the executions use. @default - the state machine's: start date, configured window */
  readonly settings?: RunSettings;
}

/** Checks the arguments before anything is called: every problem at once, as a UsageError. */
export function checkReplayOptions(options: ReplayOptions, bucket: string): { keys: string[]; prefixes: string[] } {
  const problems: string[] = [];
  const keys: string[] = [];
  if (options.objects.length === 0 && options.prefixes.length === 0) {
    problems.push("name objects (s3://BUCKET/raw/KEY or raw/KEY) or --prefix raw/...");
  }
  for (const text of options.objects) {
    const uri = /^s3:\/\/([^/]+)\/(.*)$/.exec(text);
    if (text.startsWith("s3://") && !uri) {
      problems.push(`${text} is not an s3://BUCKET/KEY URI`);
      continue;
    }
    const key = uri ? uri[2] : text;
    if (uri && uri[1] !== bucket) {
      problems.push(`${text} is not in the pipeline's bucket ${bucket}`);
    } else if (!key.startsWith(DATA_PREFIXES.raw) || key.endsWith("/")) {
      problems.push(`${text}: only objects under ${DATA_PREFIXES.raw} start the workflow`);
    } else if (!keys.includes(key)) {
      keys.push(key);
    }
  }
  for (const prefix of options.prefixes) {
    if (!prefix.startsWith(DATA_PREFIXES.raw)) {
      problems.push(`--prefix ${prefix}: must start with ${DATA_PREFIXES.raw} (only uploads there start the workflow)`);
    }
  }
  if (options.label !== undefined && !LABEL_PATTERN.test(options.label)) {
    problems.push(`--label must be 1 to 32 characters of A-Z a-z 0-9 _ - (received "${options.label}")`);
  }
  if (problems.length > 0) throw new UsageError(`replay: ${listProblems(problems)}`);
  return { keys, prefixes: [...options.prefixes] };
}

export async function replay(target: Target, options: ReplayOptions, log: Log): Promise<CommandOutput> {
  const { keys, prefixes } = checkReplayOptions(options, target.bucket);
  const objects: SourceObject[] = [];
  const seen = new Set<string>();
  const add = (found: SourceObject[]) => {
    for (const object of found) {
      if (seen.has(object.key)) continue;
      seen.add(object.key);
      objects.push(object);
    }
  };
  if (keys.length > 0) add(await target.describeObjects(keys));
  for (const prefix of prefixes) {
    const found = await target.listObjects(prefix);
    if (found.length === 0) log(`No objects under s3://${target.bucket}/${prefix}`);
    add(found);
  }

  const results: ReplayResult[] = [];
  for (const [index, object] of objects.entries()) {
    const executionName = replayExecutionName(object, options.label, options.settings);
    let result: ReplayResult;
    if (options.dryRun) {
      const exists = await target.executionExists(executionName);
      result = {
        object,
        executionName,
        executionArn: executionArnOf(target.stateMachine, executionName),
        outcome: exists ? "already-started" : "would-start",
      };
    } else {
      try {
        result = await target.startExecution(object, executionName, options.settings);
      } catch (error) {
        if (results.length > 0) {
          log(
            `Stopped at ${object.key} after starting ${results.length} of ${objects.length}. Running the same ` +
              "replay again is safe: those are reported already started.",
          );
        }
        throw error;
      }
      if (target.kind === "local") {
        log(
          `${index + 1}/${objects.length} ${result.outcome} ${object.key}${result.status ? `: ${result.status}` : ""}`,
        );
      }
      if (target.kind === "aws" && objects.length > 20 && (index + 1) % 20 === 0) {
        log(`${index + 1}/${objects.length} requested`);
      }
    }
    results.push(result);
  }

  const count = (outcome: ReplayResult["outcome"]) => results.filter((result) => result.outcome === outcome).length;
  const failed = results.filter((result) => result.outcome === "started" && result.status === "FAILED");
  // Local executions run to completion, so their status is known.
  const showStatus = target.kind === "local" && !options.dryRun;
  const lines: string[] = [];
  if (results.length === 0) {
    lines.push("Nothing to replay.");
  } else {
    lines.push(
      options.dryRun
        ? `Dry run: nothing was started. ${count("would-start")} would start, ${count("already-started")} already started.`
        : `Replay through ${target.stateMachine}`,
    );
    lines.push(
      formatTable(
        ["OUTCOME", "OBJECT", "VERSION", "EXECUTION", ...(showStatus ? ["STATUS"] : [])],
        results.map((result) => [
          result.outcome,
          result.object.key,
          result.object.versionId ?? `etag ${result.object.etag}`,
          result.executionName,
          ...(showStatus ? [result.status ?? ""] : []),
        ]),
      ),
    );
    for (const result of failed) {
      const failure = result.failure;
      lines.push(
        `  ${result.object.key} failed${failure?.state ? ` in ${failure.state}` : ""}: ${failure?.error ?? ""}: ${firstLine(readableCause(failure?.cause ?? ""))}`,
      );
    }
    if (!options.dryRun) {
      lines.push(
        `Started ${count("started")}, already started ${count("already-started")} (same object version; ` +
          "use --label to run again on purpose).",
      );
      if (target.kind === "aws" && count("started") > 0)
        lines.push("Follow them with: facility-pipeline status --since 1h");
    }
  }
  return {
    exitCode: failed.length > 0 ? 1 : 0,
    text: `${lines.join("\n")}\n`,
    json: {
      dryRun: options.dryRun,
      executions: results.map((result) => ({
        bucket: result.object.bucket,
        key: result.object.key,
        versionId: result.object.versionId ?? null,
        etag: result.object.etag,
        size: result.object.size,
        executionName: result.executionName,
        executionArn: result.executionArn,
        outcome: result.outcome,
        ...(result.status ? { status: result.status, failure: result.failure ?? null } : {}),
      })),
    },
  };
}
