/**
 * The run command: `facility-pipeline [FILES...]` uploads each file to the local bucket and runs
 * the real workflow on it, or watches a drop folder (--watch). The usage text below is the
 * reference; docs/local-mode.md explains it with examples.
 */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { FACILITY_PIPELINE, loadStateMachine, taskStatesOf } from "../core/asl";
import { PACKAGE_ROOT } from "../core/package-root";
import { UsageError } from "../core/target";
import { LocalPipeline, type ExecutionResult, type FaultInjection, type LocalPipelineOptions } from "../local/pipeline";
import { StateDirError, prepareStateDir } from "../local/state-dir";
import { recordLocalExecution } from "../local/target";
import { redirectStdout, type CliIo } from "./io";
import { buildReport, printReport, toJsonContract } from "./report";
import { SETTINGS_USAGE, parseSettingsFlags } from "./settings-flags";
import { DEFAULT_SETTLE_MS, watchFolder } from "./watch";

export const DEFAULT_INPUT = resolve(PACKAGE_ROOT, "data", "extended_sample_facility_data.json");

/** The states --inject accepts: every Task state of the workflow. */
export const INJECTABLE_STATES: readonly string[] = taskStatesOf(loadStateMachine(FACILITY_PIPELINE)).map(
  ({ name }) => name,
);

export const USAGE = `Usage: facility-pipeline [FILES...] [options]

Runs the healthcare facility pipeline on this machine: each file is uploaded to raw/ of a local
S3 endpoint and processed by the real state machine, handlers and SQL.
With no FILES, processes data/extended_sample_facility_data.json.

Options:
${SETTINGS_USAGE}
  --state-dir DIR          keep the bucket's objects in DIR between runs (default: a temporary
                           directory, removed when the program ends)
  --json                   print only JSON on stdout (docs/local-mode.md, "JSON output"); logs go to stderr
  --watch DIR              process every file that lands in DIR, until Ctrl-C
      --settle SECONDS     a file is complete once unchanged this long (default: ${DEFAULT_SETTLE_MS / 1000})
      --existing process|skip
                           what to do with the files already in DIR (default: process)
  --inject STATE=ERROR[:TIMES]
                           make STATE throw ERROR, TIMES times (default: always); repeatable.
                           ERROR "FAILED" on an Athena state makes its query fail. STATE is one of:
                           ${INJECTABLE_STATES.join(", ")}
  -h, --help               show this help

Exit codes: 0 every execution succeeded; 1 an execution failed; 2 bad usage, an unreadable input
file or an unusable --state-dir (the message names the file or the flag and the value received).

Read an object of the local bucket: facility-pipeline cat KEY --target local --state-dir DIR
Operating a deployment (or a --state-dir): facility-pipeline replay|status|query|history|notify-test|cat --help
`;

export interface CliOptions {
  readonly files: readonly string[];
  readonly json: boolean;
  readonly watch?: { readonly dir: string; readonly settleMs: number; readonly existing?: "process" | "skip" };
  readonly pipeline: LocalPipelineOptions;
}

/** Parses and checks the command line; throws one UsageError naming every bad value. */
export function parseCli(argv: readonly string[]): CliOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        "as-of": { type: "string" },
        "window-months": { type: "string" },
        "state-dir": { type: "string" },
        json: { type: "boolean", default: false },
        watch: { type: "string" },
        settle: { type: "string" },
        existing: { type: "string" },
        inject: { type: "string", multiple: true },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";

  const { settings, problems } = parseSettingsFlags(values);
  const injections: FaultInjection[] = [];
  for (const text of values.inject ?? []) {
    const match = /^([A-Za-z0-9_-]+)=([A-Za-z0-9_.]+)(?::(\d+))?$/.exec(text);
    if (!match) {
      problems.push(`--inject must look like STATE=ERROR or STATE=ERROR:TIMES (received "${text}")`);
    } else if (!INJECTABLE_STATES.includes(match[1])) {
      problems.push(`--inject: no state "${match[1]}" in the workflow: use one of ${INJECTABLE_STATES.join(", ")}`);
    } else {
      injections.push({
        state: match[1],
        error: match[2],
        times: match[3] === undefined ? Infinity : Number(match[3]),
      });
    }
  }

  const watchDir = values.watch;
  if (watchDir !== undefined && !(existsSync(watchDir) && statSync(watchDir).isDirectory())) {
    problems.push(`--watch: ${watchDir} is not a directory`);
  }
  if (watchDir === undefined) {
    for (const flag of ["settle", "existing"] as const) {
      if (values[flag] !== undefined) problems.push(`--${flag} applies to --watch only`);
    }
  }
  const settleSeconds = values.settle === undefined ? DEFAULT_SETTLE_MS / 1000 : Number(values.settle);
  if (!(Number.isFinite(settleSeconds) && settleSeconds >= 0 && settleSeconds <= 3600)) {
    problems.push(`--settle must be a number of seconds from 0 to 3600 (received "${values.settle}")`);
  }
  const existing = values.existing;
  if (existing !== undefined && existing !== "process" && existing !== "skip") {
    problems.push(`--existing must be process or skip (received "${existing}")`);
  }
  const files = positionals.length > 0 ? positionals : watchDir ? [] : [DEFAULT_INPUT];
  for (const file of files) {
    const problem = unreadableFile(file);
    if (problem) problems.push(problem);
  }
  if (problems.length > 0) {
    throw new UsageError(problems.length === 1 ? problems[0] : `\n  - ${problems.join("\n  - ")}`);
  }

  return {
    files,
    json: values.json ?? false,
    watch:
      watchDir === undefined
        ? undefined
        : { dir: watchDir, settleMs: settleSeconds * 1000, existing: existing as "process" | "skip" | undefined },
    pipeline: { ...settings, stateDir: values["state-dir"] && resolve(values["state-dir"]), injections },
  };
}

function unreadableFile(file: string): string | undefined {
  if (!existsSync(file)) return `${file}: no such file`;
  if (!statSync(file).isFile()) return `${file}: not a file`;
  try {
    accessSync(file, constants.R_OK);
  } catch {
    return `${file}: not readable (check its permissions)`;
  }
  return undefined;
}

/** Runs the command; returns the exit code. stdout gets the report (or only JSON with --json). */
export async function runPipeline(
  argv: readonly string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const usageError = (message: string) => {
    io.stderr.write(`facility-pipeline: ${message}\nRun with --help for usage.\n`);
    return 2;
  };
  let options: CliOptions | "help";
  try {
    options = parseCli(argv);
    if (options !== "help" && options.pipeline.stateDir) prepareStateDir(options.pipeline.stateDir);
  } catch (error) {
    if (error instanceof UsageError || error instanceof StateDirError) return usageError(error.message);
    throw error;
  }
  if (options === "help") {
    io.stdout.write(USAGE);
    return 0;
  }

  const log = (line: string) => io.stderr.write(`${line}\n`);
  // Handlers log JSON to stdout, as in Lambda; with --json, stdout carries only the result.
  // The report's own channel, taken before any redirection.
  const reportOut: NodeJS.WritableStream = { write: io.stdout.write.bind(io.stdout) } as NodeJS.WritableStream;
  const restoreStdout = options.json ? redirectStdout(io.stderr) : () => undefined;
  const pipeline = await LocalPipeline.start({ ...options.pipeline, log: options.json ? log : undefined });
  const runs: ExecutionResult[] = [];
  try {
    try {
      for (const file of options.files) runs.push(await processWithProgress(pipeline, file, log));
      if (options.watch) {
        const watch = options.watch;
        const stop = new AbortController();
        const onInterrupt = () => stop.abort();
        process.once("SIGINT", onInterrupt);
        log("Press Ctrl-C to stop watching.");
        try {
          await watchFolder({ ...watch, signal: stop.signal, log }, async (file) => {
            const run = await processWithProgress(pipeline, file, log);
            runs.push(run);
            const report = await buildReport(pipeline, [run]);
            if (options.json) reportOut.write(`${JSON.stringify(toJsonContract(report))}\n`);
            else printReport(report, reportOut);
          });
        } finally {
          process.removeListener("SIGINT", onInterrupt);
        }
      }
    } finally {
      restoreStdout();
    }
    const report = await buildReport(pipeline, runs);
    if (options.json) io.stdout.write(`${JSON.stringify(toJsonContract(report), null, 2)}\n`);
    else if (!options.watch) printReport(report, io.stdout);
  } finally {
    // Also on an error: the S3 endpoint and DuckDB would otherwise keep the process alive.
    await pipeline.stop();
  }
  return runs.some((run) => run.status === "FAILED") ? 1 : 0;
}

async function processWithProgress(
  pipeline: LocalPipeline,
  file: string,
  log: (line: string) => void,
): Promise<ExecutionResult> {
  const started = new Date();
  const timer = setInterval(
    () => log(`… ${file}: still processing (${((Date.now() - started.getTime()) / 1000).toFixed(0)} s)`),
    1000,
  );
  try {
    const result = await pipeline.processFile(file);
    // A kept state directory remembers its executions, for `facility-pipeline status --target local`.
    if (pipeline.options.stateDir) recordLocalExecution(pipeline.options.stateDir, result, { startDate: started });
    return result;
  } finally {
    clearInterval(timer);
  }
}
