/**
 * npm run bench [-- --quick] [--runs N] [--only SECTIONS] [--results FILE] [--data-dir DIR] [--cpu-prof-dir DIR]
 *
 * Runs the five benchmarks one after another (the machine's cores are not shared between
 * measurements), prints their tables and the targets, and, after a complete full run, writes
 * bench/results.json and the results block of bench/README.md. See bench/README.md.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import * as prettier from "prettier";
import { runAthenaCostModel } from "./athena-cost";
import { runColdStartBenchmark } from "./cold-start";
import { runEndToEndBenchmark } from "./end-to-end";
import { runIngestBenchmark } from "./ingest";
import { runScanGrowthBenchmark } from "./scan-growth";
import { BenchContext, facilitiesLabel, PROJECT_ROOT, type BenchSettings, type DataFile } from "./lib/context";
import { describeMachine, machineInfo } from "./lib/machine";
import { formatSection, formatTable, verdict, type SectionResult, type TargetCheck } from "./lib/report";
import { MB } from "./lib/stats";
import { runSynthBenchmark } from "./synth";

export const SECTIONS = ["ingest", "synth", "cold-start", "end-to-end", "athena-cost", "scan-growth"] as const;
type SectionName = (typeof SECTIONS)[number];

export const USAGE = `Usage: npm run bench -- [options]

Options:
  --quick              tiny sizes, one run each: a smoke test of the whole suite (seconds)
  --runs N             runs per measured case (default 5; 1 with --quick)
  --only LIST          comma-separated subset of: ${SECTIONS.join(", ")}
                       (default: all of them)
  --results FILE       where to write the results JSON (default: bench/results.json for a
                       complete full run, otherwise a file in the temporary directory)
  --data-dir DIR       keep generated data files in DIR and reuse them in later runs
                       (default: a temporary directory, removed at the end)
  --cpu-prof-dir DIR   write a V8 CPU profile of every measured child process to DIR
  -h, --help           show this help
`;

/**
 * Full-mode sizes: ingest at 100k and 1M; end to end at 100k (every run) and 1M (fewer runs);
 * scan growth over 1, 10 and 30 uploads of a 100k registry.
 */
const FULL = {
  ingestSizes: [100_000, 1_000_000],
  endToEnd: (runs: number) => [
    { facilities: 100_000, runs },
    { facilities: 1_000_000, runs: Math.min(runs, 3) },
  ],
  athenaSample: 10_000,
  scanGrowth: { facilities: 100_000, histories: [1, 10, 30] },
};
const QUICK = {
  ingestSizes: [1_000, 2_000],
  endToEnd: () => [{ facilities: 2_000, runs: 1 }],
  athenaSample: 2_000,
  scanGrowth: { facilities: 2_000, histories: [1, 3] },
};

const RESULTS_START = "<!-- bench:results:start -->";
const RESULTS_END = "<!-- bench:results:end -->";

interface Options {
  readonly quick: boolean;
  readonly runs: number;
  readonly only: readonly SectionName[];
  readonly results?: string;
  readonly dataDir?: string;
  readonly cpuProfDir?: string;
}

class BenchUsageError extends Error {
  override readonly name = "BenchUsageError";
}

export function parseBenchArgs(argv: readonly string[]): Options | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: "boolean", default: false },
        runs: { type: "string" },
        only: { type: "string" },
        results: { type: "string" },
        "data-dir": { type: "string" },
        "cpu-prof-dir": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    throw new BenchUsageError((error as Error).message);
  }
  if (values.help) return "help";
  const problems: string[] = [];
  const runs = values.runs === undefined ? (values.quick ? 1 : 5) : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) {
    problems.push(`--runs must be a whole number from 1 to 50 (received "${values.runs}")`);
  }
  const only = (values.only?.split(",").map((name) => name.trim()) ?? [...SECTIONS]) as SectionName[];
  const unknown = only.filter((name) => !(SECTIONS as readonly string[]).includes(name));
  if (unknown.length > 0)
    problems.push(`--only: unknown section(s) ${unknown.join(", ")}; choose from ${SECTIONS.join(", ")}`);
  if (problems.length > 0) throw new BenchUsageError(problems.join("\n"));
  return {
    quick: values.quick ?? false,
    runs,
    only,
    results: values.results && resolve(values.results),
    dataDir: values["data-dir"] && resolve(values["data-dir"]),
    cpuProfDir: values["cpu-prof-dir"] && resolve(values["cpu-prof-dir"]),
  };
}

function dataTable(files: readonly DataFile[]): string {
  return formatTable({
    header: ["facilities", "invalid", "file MB", "bytes / record", "generated in s", "generator peak RSS MB"],
    rows: files.map((file) => [
      facilitiesLabel(file.facilities),
      file.generation.invalid.toLocaleString("en-US"),
      (file.bytes / MB).toFixed(1),
      (file.bytes / file.facilities).toFixed(0),
      `${(file.generation.elapsedMs / 1000).toFixed(1)}${file.reused ? " (earlier run)" : ""}`,
      (file.generation.peakRssBytes / MB).toFixed(0),
    ]),
  });
}

function targetsTable(targets: readonly TargetCheck[]): string {
  return formatTable({
    header: ["target", "measured", "result"],
    rows: targets.map((check) => [check.target, check.measured, verdict(check)]),
    rightAligned: [],
  });
}

/** Writes a file the way `npm run format` would leave it, so formatting never rewrites results. */
async function writeFormatted(file: string, text: string): Promise<void> {
  const options = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(text, { ...options, filepath: file }));
}

/** Six significant digits are plenty for timings and rates, and keep results.json readable. */
function roundNumbers(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isInteger(value) ? Number(value.toPrecision(6)) : value;
}

async function updateReadme(text: string, header: string): Promise<void> {
  const readme = join(PROJECT_ROOT, "bench", "README.md");
  if (!existsSync(readme)) return;
  const current = readFileSync(readme, "utf8");
  const start = current.indexOf(RESULTS_START);
  const end = current.indexOf(RESULTS_END);
  if (start < 0 || end < start) return;
  const block = `${RESULTS_START}\n\n${header}\n\n\`\`\`text\n${text.trimEnd()}\n\`\`\`\n\n${RESULTS_END}`;
  await writeFormatted(readme, current.slice(0, start) + block + current.slice(end + RESULTS_END.length));
}

export async function main(argv: readonly string[]): Promise<number> {
  let options: Options | "help";
  try {
    options = parseBenchArgs(argv);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`bench: ${error.message.replaceAll("\n", "\nbench: ")}\nRun with --help for usage.\n`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  const started = performance.now();
  const sizes = options.quick ? QUICK : FULL;
  const settings: BenchSettings = {
    quick: options.quick,
    runs: options.runs,
    asOf: "2026-11-26",
    windowMonths: 6,
    invalidRate: 0.01,
    seed: 1,
    cpuProfDir: options.cpuProfDir,
  };
  if (options.cpuProfDir) mkdirSync(options.cpuProfDir, { recursive: true });
  const workDir = mkdtempSync(join(tmpdir(), "facility-bench-"));
  const log = (line: string) =>
    process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
  const context = new BenchContext(settings, workDir, options.dataDir ?? join(workDir, "data"), log);
  const machine = machineInfo();

  const sections: SectionResult[] = [];
  const failures: string[] = [];
  const attempt = async (name: SectionName, run: () => Promise<SectionResult>) => {
    if (!options.only.includes(name)) return undefined;
    try {
      const section = await run();
      sections.push(section);
      return section;
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message}`);
      log(`${name} FAILED: ${(error as Error).stack ?? String(error)}`);
      return undefined;
    }
  };
  try {
    await attempt("ingest", () => runIngestBenchmark(context, sizes.ingestSizes));
    await attempt("synth", () => runSynthBenchmark(context));
    await attempt("cold-start", () => runColdStartBenchmark(context));
    const endToEnd = await attempt("end-to-end", () => runEndToEndBenchmark(context, sizes.endToEnd(settings.runs)));
    const transitions = (endToEnd?.data as { transitionsPerExecution?: number } | undefined)?.transitionsPerExecution;
    await attempt("athena-cost", () => runAthenaCostModel(context, sizes.athenaSample, transitions));
    await attempt("scan-growth", () => runScanGrowthBenchmark(context, sizes.scanGrowth));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }

  const durationMs = performance.now() - started;
  const sizesGenerated = context.generatedSizes().sort((a, b) => a - b);
  const files = await Promise.all(sizesGenerated.map((size) => context.dataFile(size)));
  const targets = sections.flatMap((section) => section.targets);
  const mode = options.quick ? "--quick (tiny sizes: the figures say nothing about the targets)" : "full";
  const text = [
    `Facility pipeline benchmarks, ${new Date().toISOString().slice(0, 10)}, mode ${mode}`,
    `Machine: ${describeMachine(machine)}`,
    "",
    "Data (npm run generate, JSON Lines, 1% invalid, seed 1)",
    "",
    dataTable(files),
    "",
    ...sections.flatMap((section) => [formatSection(section), ""]),
    "Targets",
    "",
    targetsTable(targets),
    ...targets
      .filter((check) => check.met === false && check.cause !== undefined)
      .map((check) => `  * ${check.target}: ${check.cause}`),
    ...(failures.length > 0
      ? ["", "Benchmarks that could not run:", ...failures.map((failure) => `  ${failure}`)]
      : []),
    "",
    `Total time: ${(durationMs / 1000).toFixed(0)} s`,
  ].join("\n");
  process.stdout.write(`${text}\n`);

  const complete = !options.quick && options.only.length === SECTIONS.length && failures.length === 0;
  const resultsFile =
    options.results ??
    (complete ? join(PROJECT_ROOT, "bench", "results.json") : join(tmpdir(), "facility-bench-results.json"));
  const results = {
    generatedAt: new Date().toISOString(),
    mode: options.quick ? "quick" : "full",
    durationMs: Math.round(durationMs),
    machine,
    settings,
    data: files.map(({ facilities, bytes, generation }) => ({ facilities, bytes, generation })),
    sections: Object.fromEntries(
      sections.map((section) => [section.id, { title: section.title, targets: section.targets, data: section.data }]),
    ),
    targets,
    failures,
  };
  await writeFormatted(resultsFile, `${JSON.stringify(results, roundNumbers, 2)}\n`);
  log(`results written to ${resultsFile}`);
  if (complete && options.results === undefined) {
    await updateReadme(
      text,
      `Latest full run: ${results.generatedAt.slice(0, 10)}, ${describeMachine(machine)}; \`npm run bench\` took ${(durationMs / 60000).toFixed(1)} min.`,
    );
    log("bench/README.md results block updated");
  }
  return failures.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
