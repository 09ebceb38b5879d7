/**
 * facility-pipeline replay|status|query|history|digest|report|notify-test|cat: operate the deployed pipeline, or the local
 * mode's state directory, without one-off scripts. ./main.ts sends these subcommands here and
 * everything else to the local run command (./run.ts).
 *
 * Exit codes: 0 ok; 1 a failure was reported (a failed execution for status, a failed query or
 * replayed execution, an AWS error); 2 bad usage (flags, outputs file, unknown query, objects
 * outside raw/).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  DIGEST_LOOKBACK_DAYS,
  EXPIRY_WINDOW_MONTHS,
  describeRange,
  isWithin,
  type RunSettings,
} from "../core/settings";
import { listQueries } from "../core/sql";
import { AwsTarget } from "../aws/target";
import { MAX_ATTEMPTS } from "../aws/errors";
import { UsageError } from "../core/target";
import { explainError, listProblems } from "./errors";
import { SETTINGS_USAGE, parseSettingsFlags } from "./settings-flags";
import { cat } from "./cat";
import { history } from "./history";
import { digest } from "./digest";
import { htmlReport } from "./report-html";
import { notifyTest } from "./notify-test";
import { parseDuration, type CommandOutput, type Log } from "./output";
import { DEFAULT_QUERY_TIMEOUT, query, queryRequest } from "./query";
import { replay } from "./replay";
import { DEFAULT_OUTPUTS_FILE, resolveDeployment, type DeploymentSetting } from "../aws/stack-outputs";
import { DEFAULT_LIMIT, DEFAULT_SINCE, parseSince, status } from "./status";
import type { Target } from "../core/target";
import { SUBCOMMANDS, redirectStdout, type CliIo, type Subcommand } from "./io";

/** How long digest and report wait for the workflow by default. */
const DEFAULT_DIGEST_TIMEOUT = "15m";

export const USAGE = `Usage: facility-pipeline replay|status|query|history|digest|report|notify-test|cat [options]

Operates the deployed pipeline (--target aws, the default) or the local mode's state directory
(--target local --state-dir DIR), with the same subcommands.

  replay s3://BUCKET/raw/KEY... | raw/KEY... | --prefix raw/PREFIX/
                           start one execution per object with the input EventBridge sends for its
                           "Object Created" event. Executions are named after the object version:
                           a version replayed before is reported "already started", not run again
      --prefix PREFIX      every object under PREFIX (must start with raw/); repeatable
      --dry-run            list what would start and what already did; start nothing
      --label LABEL        new execution names (1-32 of A-Z a-z 0-9 _ -), to rerun versions on purpose
      --as-of, --window-months
                           pin the executions' as-of date and window (see below); pinned settings
                           give new execution names
  status                   recent executions: source object, status, duration, and for failed ones the
                           failing state and error. Exit code 1 if any failed
      --since WHEN         30m, 24h, 7d, 2w, or an ISO date or date-time (default: ${DEFAULT_SINCE})
      --limit N            at most N executions, newest first (default: ${DEFAULT_LIMIT})
  query NAME               run sql/NAME.sql in the pipeline's workgroup, wait, print the rows and the
                           bytes scanned. NAME: ${listQueries().join(", ")}
      --named-query ID     run an Athena named query instead (aws only)
      --timeout DURATION   stop the query after this long (default: ${DEFAULT_QUERY_TIMEOUT})
      --as-of, --window-months
                           the values of a query's as_of and window_months parameters (default:
                           today, UTC, and ${EXPIRY_WINDOW_MONTHS.default}); locally also what current_date returns
  history FACILITY_ID      every staged record of one facility, newest upload first: upload, version,
                           event time and what changed (sql/facility_history.sql over the staging table)
      --timeout DURATION   as for query
  digest                   run the expiry digest (the workflow the schedule starts weekly) on the
                           current state and wait: accreditations per horizon, each one soonest
                           first, and what was sent to the compliance topic. Exit code 1 if it failed
      --as-of, --window-months
                           the digest's date and window (default: today, UTC, and the configured window)
      --lookback-days N    also list accreditations expired up to N days before (default: ${DIGEST_LOOKBACK_DAYS.default})
      --timeout DURATION   wait this long for it (default: ${DEFAULT_DIGEST_TIMEOUT})
  report --out FILE.html   run the digest, then write it as one self-contained HTML file (no network:
                           it opens from an email attachment): the table, sortable and filterable,
                           a chart per state, a 12-month timeline and where the data comes from
      --as-of, --window-months, --lookback-days, --timeout
                           as for digest
  notify-test              publish a message marked [TEST] to the failure topic
  cat KEY | s3://BUCKET/KEY
                           write one object of the data bucket to stdout, as stored (locally, the
                           endpoint's files are not the objects: read them with this)

As-of date and window (replay, query):
${SETTINGS_USAGE}

Where the pipeline is:
  --target aws|local       (default: aws)
  --outputs FILE           the deployed stack's outputs, as written by
                           npx cdktf output --outputs-file FILE   (default: ${DEFAULT_OUTPUTS_FILE})
  --stack NAME             the stack to read when FILE holds several (e.g. facility-pipeline-prod)
  --bucket NAME  --state-machine-arn ARN  --workgroup NAME  --database NAME  --topic-arn ARN
  --digest-state-machine-arn ARN
                           give outputs directly; they win over FILE
  --region REGION          (default: the region in the ARNs, else AWS_REGION or the profile's)
  --state-dir DIR          with --target local: the directory given to npm start -- --state-dir DIR

  --json                   print one JSON document on stdout (messages go to stderr)
  -h, --help               show this help

AWS credentials come from the SDK's default chain (AWS_PROFILE, SSO, environment variables, an
instance or task role). Throttled calls are retried with backoff, up to ${MAX_ATTEMPTS} attempts.
Exit codes: 0 ok; 1 a failure was reported (failed executions for status, a failed query, an AWS
error); 2 bad usage (flags, outputs file, unknown query name, objects outside raw/).
`;

/** A parsed command line. */
export interface OperationsCommand {
  readonly subcommand: Subcommand;
  readonly target: "aws" | "local";
  readonly json: boolean;
  readonly stateDir?: string;
  readonly outputsFile: string;
  readonly stack?: string;
  readonly region?: string;
  readonly deploymentFlags: { readonly [S in DeploymentSetting]?: string };
  readonly positionals: readonly string[];
  readonly prefixes: readonly string[];
  readonly dryRun: boolean;
  readonly label?: string;
  readonly since: Date;
  readonly limit: number;
  readonly namedQueryId?: string;
  readonly timeoutMs: number;
  /** --as-of and --window-months, for replay, query, digest and report. */
  readonly settings: RunSettings;
  /** --lookback-days, for digest and report. */
  readonly lookbackDays?: number;
  /** --out, for report (resolved). */
  readonly out?: string;
}

const OPTIONS = {
  target: { type: "string" },
  "state-dir": { type: "string" },
  outputs: { type: "string" },
  stack: { type: "string" },
  bucket: { type: "string" },
  "state-machine-arn": { type: "string" },
  workgroup: { type: "string" },
  database: { type: "string" },
  "topic-arn": { type: "string" },
  "digest-state-machine-arn": { type: "string" },
  region: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  prefix: { type: "string", multiple: true },
  "dry-run": { type: "boolean" },
  label: { type: "string" },
  since: { type: "string" },
  limit: { type: "string" },
  "named-query": { type: "string" },
  timeout: { type: "string" },
  "as-of": { type: "string" },
  "window-months": { type: "string" },
  "lookback-days": { type: "string" },
  out: { type: "string" },
} as const;

/** Options that belong to one subcommand. */
const SUBCOMMAND_OPTIONS: Readonly<Record<string, readonly Subcommand[]>> = {
  prefix: ["replay"],
  "dry-run": ["replay"],
  label: ["replay"],
  since: ["status"],
  limit: ["status"],
  "named-query": ["query"],
  timeout: ["query", "history", "digest", "report"],
  "as-of": ["replay", "query", "digest", "report"],
  "window-months": ["replay", "query", "digest", "report"],
  "lookback-days": ["digest", "report"],
  out: ["report"],
};
const AWS_ONLY = [
  "outputs",
  "stack",
  "bucket",
  "state-machine-arn",
  "workgroup",
  "database",
  "topic-arn",
  "digest-state-machine-arn",
  "region",
  "named-query",
];

/** What each subcommand needs to know about the deployment. */
const NEEDED: Readonly<Record<Subcommand, readonly DeploymentSetting[]>> = {
  replay: ["bucket", "stateMachineArn"],
  status: ["stateMachineArn"],
  query: ["workgroup", "database"],
  history: ["workgroup", "database"],
  digest: ["digestStateMachineArn", "bucket"],
  report: ["digestStateMachineArn", "bucket", "workgroup", "database"],
  "notify-test": ["topicArn"],
  cat: ["bucket"],
};

/** Parses and checks a command line (argv[0] is the subcommand); throws UsageError naming every problem. */
export function parseOperationsCli(argv: readonly string[], now = new Date()): OperationsCommand | "help" {
  const [first, ...rest] = argv;
  if (first === "-h" || first === "--help") return "help";
  if (!SUBCOMMANDS.includes(first as Subcommand)) {
    throw new UsageError(`Unknown subcommand "${first ?? ""}": expected one of ${SUBCOMMANDS.join(", ")}`);
  }
  const subcommand = first as Subcommand;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${subcommand}: ${(error as Error).message}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";

  const problems: string[] = [];
  const given = Object.keys(values).filter((name) => values[name as keyof typeof values] !== undefined);
  for (const name of given) {
    const owners = SUBCOMMAND_OPTIONS[name];
    if (owners && !owners.includes(subcommand)) {
      problems.push(`--${name} belongs to ${owners.join(" and ")}, not ${subcommand}`);
    }
  }
  const target = values.target ?? "aws";
  if (target !== "aws" && target !== "local") problems.push(`--target must be aws or local (received "${target}")`);
  if (target === "local") {
    if (!values["state-dir"]) problems.push("--target local needs --state-dir DIR (the directory npm start used)");
    for (const name of given.filter((name) => AWS_ONLY.includes(name))) {
      problems.push(`--${name} applies to --target aws only`);
    }
  } else if (values["state-dir"]) {
    problems.push("--state-dir applies to --target local only");
  }

  if (subcommand === "cat" && positionals.length !== 1) {
    problems.push(
      `cat writes one object: cat KEY (received ${positionals.length === 0 ? "none" : positionals.join(" ")})`,
    );
  }
  if (subcommand === "history" && positionals.length !== 1) {
    problems.push(
      `history shows one facility: history FACILITY_ID (received ${positionals.length === 0 ? "none" : positionals.join(" ")})`,
    );
  }
  if (subcommand === "report" && !values.out?.endsWith(".html")) {
    problems.push(`report writes an HTML file: report --out FILE.html (received ${values.out ?? "no --out"})`);
  }
  let lookbackDays: number | undefined;
  if (values["lookback-days"] !== undefined) {
    lookbackDays = Number(values["lookback-days"]);
    if (!isWithin(DIGEST_LOOKBACK_DAYS, lookbackDays)) {
      problems.push(
        `--lookback-days must be ${describeRange(DIGEST_LOOKBACK_DAYS)} (received "${values["lookback-days"]}")`,
      );
    }
  }
  if (subcommand === "status" || subcommand === "notify-test" || subcommand === "digest" || subcommand === "report") {
    if (positionals.length > 0) problems.push(`${subcommand} takes no arguments (received ${positionals.join(" ")})`);
  }
  const { settings, problems: settingsProblems } = parseSettingsFlags(values);
  problems.push(...settingsProblems);
  if (subcommand === "query") {
    if (positionals.length > 1) {
      problems.push(`query runs one query at a time (received ${positionals.join(" ")})`);
    } else {
      try {
        queryRequest({ name: positionals[0], namedQueryId: values["named-query"], ...settings });
      } catch (error) {
        problems.push((error as Error).message.replace(/^query: /, ""));
      }
    }
  }

  let since = new Date(0);
  let limit = DEFAULT_LIMIT;
  let timeoutMs = parseDuration(
    subcommand === "digest" || subcommand === "report" ? DEFAULT_DIGEST_TIMEOUT : DEFAULT_QUERY_TIMEOUT,
  )!;
  try {
    since = parseSince(values.since ?? DEFAULT_SINCE, now);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (values.limit !== undefined) {
    limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      problems.push(`--limit must be a whole number from 1 to 10000 (received "${values.limit}")`);
    }
  }
  if (values.timeout !== undefined) {
    const parsedTimeout = parseDuration(values.timeout);
    if (parsedTimeout === undefined) {
      problems.push(`--timeout must be a duration such as 90s, 10m or 1h (received "${values.timeout}")`);
    } else {
      timeoutMs = parsedTimeout;
    }
  }
  if (problems.length > 0) throw new UsageError(`${subcommand}: ${listProblems(problems)}`);

  return {
    subcommand,
    target: target as OperationsCommand["target"],
    json: values.json ?? false,
    stateDir: values["state-dir"] && resolve(values["state-dir"]),
    outputsFile: values.outputs ?? DEFAULT_OUTPUTS_FILE,
    stack: values.stack,
    region: values.region,
    deploymentFlags: {
      bucket: values.bucket,
      stateMachineArn: values["state-machine-arn"],
      topicArn: values["topic-arn"],
      workgroup: values.workgroup,
      database: values.database,
      digestStateMachineArn: values["digest-state-machine-arn"],
    },
    positionals,
    prefixes: values.prefix ?? [],
    dryRun: values["dry-run"] ?? false,
    label: values.label,
    since,
    limit,
    namedQueryId: values["named-query"],
    timeoutMs,
    settings,
    lookbackDays,
    out: values.out && resolve(values.out),
  };
}

/** The target a command runs against: the deployed stack, or the local state directory. */
export async function createTarget(command: OperationsCommand): Promise<Target> {
  if (command.target === "local") {
    // Loaded only for --target local: it brings DuckDB and the local workflow, dev dependencies
    // that an installation for operating AWS need not have.
    const { LocalTarget } = await import("../local/target");
    return new LocalTarget(command.stateDir!);
  }
  // A named query carries its own database and workgroup.
  const needed = command.subcommand === "query" && command.namedQueryId ? [] : NEEDED[command.subcommand];
  const deployment = resolveDeployment({
    needed,
    flags: command.deploymentFlags,
    outputsFile: command.outputsFile,
    stack: command.stack,
  });
  return new AwsTarget({ deployment, region: command.region });
}

/** Runs one parsed command against a target. */
export function runCommand(command: OperationsCommand, target: Target, log: Log): Promise<CommandOutput> {
  switch (command.subcommand) {
    case "replay":
      return replay(
        target,
        {
          objects: command.positionals,
          prefixes: command.prefixes,
          dryRun: command.dryRun,
          label: command.label,
          settings: command.settings,
        },
        log,
      );
    case "status":
      return status(target, { since: command.since, limit: command.limit });
    case "query":
      return query(target, {
        name: command.positionals[0],
        namedQueryId: command.namedQueryId,
        timeoutMs: command.timeoutMs,
        ...command.settings,
      });
    case "history":
      return history(target, { facilityId: command.positionals[0], timeoutMs: command.timeoutMs });
    case "digest":
      return digest(target, { ...command.settings, lookbackDays: command.lookbackDays, timeoutMs: command.timeoutMs });
    case "report":
      return htmlReport(target, {
        ...command.settings,
        lookbackDays: command.lookbackDays,
        timeoutMs: command.timeoutMs,
        out: command.out!,
      });
    case "notify-test":
      return notifyTest(target);
    case "cat":
      return cat(target, command.positionals[0]);
  }
}

/** Runs the CLI; returns the exit code. stdout gets the result (only JSON with --json), stderr the rest. */
export async function runOperations(
  argv: readonly string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let command: OperationsCommand | "help";
  try {
    command = parseOperationsCli(argv);
  } catch (error) {
    io.stderr.write(`facility-pipeline: ${explainError(error).message}\n`);
    return 2;
  }
  if (command === "help") {
    io.stdout.write(USAGE);
    return 0;
  }

  const log: Log = (line) => io.stderr.write(`${line}\n`);
  // The local workflow's handlers log to stdout, as in Lambda; here stdout carries only the result.
  const restoreStdout = command.target === "local" ? redirectStdout(io.stderr) : () => undefined;
  let target: Target | undefined;
  let output: CommandOutput;
  try {
    target = await createTarget(command);
    output = await runCommand(command, target, log);
    restoreStdout();
    // An object's bytes are read while the target (the local endpoint) still runs.
    if (output.body) await writeAll(output.body, io.stdout);
  } catch (error) {
    restoreStdout();
    const report = explainError(error);
    io.stderr.write(`facility-pipeline ${command.subcommand}: ${report.message}\n`);
    return report.exitCode;
  } finally {
    await target?.close().catch(() => undefined);
    restoreStdout();
  }
  if (!output.body) io.stdout.write(command.json ? `${JSON.stringify(output.json, null, 2)}\n` : output.text);
  return output.exitCode;
}

/** Writes every chunk, waiting for the stream to drain when it asks to. */
async function writeAll(body: AsyncIterable<Uint8Array>, out: NodeJS.WritableStream): Promise<void> {
  for await (const chunk of body) {
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
}
