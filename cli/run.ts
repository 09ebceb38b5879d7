/**
 * facility-pipeline: runs the pipeline locally on facility files, or watches a folder.
 *
 *   facility-pipeline [FILES...] [--as-of YYYY-MM-DD] [--window-months N] [--state-dir DIR]
 *                     [--json] [--watch DIR] [--inject STATE=ERROR[:TIMES]]...
 *
 * Exit codes: 0 every execution succeeded, 1 an execution failed, 2 bad usage or input file.
 */
import { accessSync, constants, existsSync, readdirSync, statSync, watch } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { isCalendarDate } from "../core/calendar-date";
import { UsageError } from "../core/target";
import { readResultRows } from "../local/athena";
import { recordLocalExecution } from "../local/target";
import { redirectStdout, type CliIo } from "./io";
import { LocalPipeline, type ExecutionResult, type FaultInjection, type LocalPipelineOptions } from "../local/pipeline";
import { MAX_REJECTED_SHOWN, printReport, type Report } from "./report";

export const DEFAULT_INPUT = resolve(__dirname, "..", "data", "extended_sample_facility_data.json");

export const USAGE = `Usage: facility-pipeline [FILES...] [options]

Runs the healthcare facility pipeline on this machine: each file is uploaded to raw/ of a local
S3 endpoint and processed by the real state machine, handlers and SQL.
With no FILES, processes data/extended_sample_facility_data.json.

Options:
  --as-of YYYY-MM-DD       date the expiry window starts from (default: today, UTC)
  --window-months N        expiry window in months, 1-60 (default: 6)
  --state-dir DIR          keep the bucket's objects in DIR between runs (default: a temporary directory)
  --json                   print only JSON on stdout (see README: "JSON output"); logs go to stderr
  --watch DIR              process every file that appears in DIR, until Ctrl-C
  --inject STATE=ERROR[:TIMES]
                           make STATE throw ERROR, TIMES times (default: always); repeatable.
                           ERROR "FAILED" on an Athena state makes its query fail
  -h, --help               show this help

Operating a deployment (or a --state-dir): facility-pipeline replay|status|query|notify-test --help
`;

export interface CliOptions {
  readonly files: readonly string[];
  readonly json: boolean;
  readonly watchDir?: string;
  readonly pipeline: LocalPipelineOptions;
}

/** Parses and checks the command line; throws UsageError with a message naming the bad value. */
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
        inject: { type: "string", multiple: true },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";

  const asOf = values["as-of"];
  if (asOf !== undefined && !isCalendarDate(asOf)) {
    throw new UsageError(`--as-of must be a calendar date written YYYY-MM-DD (received "${asOf}")`);
  }
  const windowText = values["window-months"];
  const windowMonths = windowText === undefined ? undefined : Number(windowText);
  if (windowMonths !== undefined && !(Number.isInteger(windowMonths) && windowMonths >= 1 && windowMonths <= 60)) {
    throw new UsageError(`--window-months must be a whole number from 1 to 60 (received "${windowText}")`);
  }
  const injections = (values.inject ?? []).map(parseInjection);

  const watchDir = values.watch;
  if (watchDir !== undefined && !(existsSync(watchDir) && statSync(watchDir).isDirectory())) {
    throw new UsageError(`--watch: ${watchDir} is not a directory`);
  }
  const files = positionals.length > 0 ? positionals : watchDir ? [] : [DEFAULT_INPUT];
  for (const file of files) checkReadableFile(file);

  return {
    files,
    json: values.json ?? false,
    watchDir,
    pipeline: { asOf, windowMonths, stateDir: values["state-dir"] && resolve(values["state-dir"]), injections },
  };
}

function parseInjection(text: string): FaultInjection {
  const match = /^([A-Za-z0-9_-]+)=([A-Za-z0-9_.]+)(?::(\d+))?$/.exec(text);
  if (!match) {
    throw new UsageError(`--inject must look like STATE=ERROR or STATE=ERROR:TIMES (received "${text}")`);
  }
  return { state: match[1], error: match[2], times: match[3] === undefined ? Infinity : Number(match[3]) };
}

function checkReadableFile(file: string): void {
  if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
  if (!statSync(file).isFile()) throw new UsageError(`${file}: not a file`);
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw new UsageError(`${file}: not readable (check its permissions)`);
  }
}

/** Runs the CLI; returns the exit code. stdout gets the report (or only JSON with --json). */
export async function runPipeline(
  argv: readonly string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let options: CliOptions | "help";
  try {
    options = parseCli(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`facility-pipeline: ${error.message}\nRun with --help for usage.\n`);
      return 2;
    }
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
      if (options.watchDir) await watchFolder(pipeline, options.watchDir, options, reportOut, log, runs);
    } finally {
      restoreStdout();
    }
    const report = await buildReport(pipeline, runs);
    if (options.json) io.stdout.write(`${JSON.stringify(toJsonContract(report), null, 2)}\n`);
    else if (!options.watchDir) printReport(report, io.stdout);
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

async function watchFolder(
  pipeline: LocalPipeline,
  dir: string,
  options: CliOptions,
  out: NodeJS.WritableStream,
  log: (line: string) => void,
  runs: ExecutionResult[],
): Promise<void> {
  const seen = new Set(readdirSync(dir));
  log(`Watching ${dir} for new files (Ctrl-C to stop)…`);
  let queue = Promise.resolve();
  const watcher = watch(dir, (_event, name) => {
    if (!name || seen.has(name)) return;
    const file = join(dir, name);
    if (!existsSync(file) || !statSync(file).isFile()) return;
    seen.add(name);
    queue = queue.then(async () => {
      await waitUntilStable(file);
      const run = await processWithProgress(pipeline, file, log);
      runs.push(run);
      if (options.json) out.write(`${JSON.stringify(toJsonContract(await buildReport(pipeline, [run])))}\n`);
      else printReport(await buildReport(pipeline, [run]), out);
    });
  });
  await new Promise<void>((done) => process.once("SIGINT", () => done()));
  watcher.close();
  await queue;
}

/** Waits until a file's size stops changing: a file being copied in is not read half-written. */
async function waitUntilStable(file: string): Promise<void> {
  let size = -1;
  while (statSync(file).size !== size) {
    size = statSync(file).size;
    await new Promise((done) => setTimeout(done, 200));
  }
}

/** Gathers what the report shows from the runs and the bucket. */
export async function buildReport(pipeline: LocalPipeline, runs: readonly ExecutionResult[]): Promise<Report> {
  const lastSucceeded = [...runs].reverse().find((run) => run.status === "SUCCEEDED");
  // The execution output names where PublishStateCounts wrote (state-machines/: SummarizeRun).
  const stateCountsKey = (lastSucceeded?.output as { analytics?: { stateCounts?: { runKey?: string } } } | undefined)
    ?.analytics?.stateCounts?.runKey;
  const stateCounts = stateCountsKey
    ? readResultRows(await pipeline.readObject(stateCountsKey)).map((row) => ({
        state: row.state ?? "",
        accredited_facility_count: Number(row.accredited_facility_count),
      }))
    : [];
  const expiringFacilities: Record<string, unknown>[] = [];
  const rejectedRecords: Record<string, unknown>[] = [];
  for (const run of runs) {
    const outputs = run.ingest?.outputs as { expiring?: string; rejected?: string } | undefined;
    if (run.status === "SUCCEEDED" && outputs?.expiring)
      // One at a time: spreading hundreds of thousands of arguments overflows the stack.
      for (const facility of await readJsonLines(pipeline, outputs.expiring)) expiringFacilities.push(facility);
    const wanted = MAX_REJECTED_SHOWN - rejectedRecords.length;
    if (outputs?.rejected && (run.ingest?.rejected ?? 0) > 0 && wanted > 0) {
      // Only the first lines are shown: read the head of the object, not all of it.
      for (const line of await readJsonLines(pipeline, outputs.rejected, REJECTED_HEAD_BYTES, wanted)) {
        rejectedRecords.push({ source: run.source, ...line });
      }
    }
  }
  return {
    bucket: pipeline.bucket,
    stateDir: pipeline.stateDir,
    outbox: pipeline.outboxFile,
    options: pipeline.options,
    runs,
    stateCounts,
    expiringFacilities,
    rejectedRecords,
    rejectedTotal: runs.reduce((total, run) => total + (run.ingest?.rejected ?? 0), 0),
    objects: await pipeline.listKeys(),
  };
}

/** Bytes read from a rejected output for the report: enough for its first lines. */
const REJECTED_HEAD_BYTES = 256 * 1024;

/**
 * The JSON lines of an object. With `firstBytes`, only whole lines within that many bytes, at most
 * `maxLines` of them.
 */
async function readJsonLines(
  pipeline: LocalPipeline,
  key: string,
  firstBytes?: number,
  maxLines = Infinity,
): Promise<Record<string, unknown>[]> {
  const text = await pipeline.readObject(key, { firstBytes }).catch(() => "");
  const lines = text.split("\n");
  if (firstBytes !== undefined && Buffer.byteLength(text) >= firstBytes) lines.pop(); // possibly cut short
  return lines
    .filter((line) => line.trim() !== "")
    .slice(0, maxLines)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The documented --json contract (README "JSON output"). */
export function toJsonContract(report: Report): Record<string, unknown> {
  return {
    runs: report.runs.map((run) => ({
      source: run.source,
      status: run.status,
      ingest: run.ingest && {
        records: run.ingest.records,
        valid: run.ingest.valid,
        rejected: run.ingest.rejected,
        expiring: run.ingest.expiring,
        expired: run.ingest.expired,
      },
      error: run.error,
    })),
    stateCounts: report.stateCounts,
    expiringFacilities: report.expiringFacilities,
    notifications: report.runs.flatMap((run) => run.notifications),
  };
}
