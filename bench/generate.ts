/**
 * npm run generate -- --facilities N --invalid-rate R --out FILE [--repair-rate Q] [--format jsonl|array] [--gzip] [--seed S]
 *
 * Writes a synthetic facility file (see bench/lib/generator.ts) and prints a JSON summary on
 * stderr: how many records of each kind were written, the bytes, the time taken and the peak RSS.
 * Exit codes: 0 written, 2 bad usage, 1 any other failure.
 */
import type { Writable } from "node:stream";
import { parseArgs } from "node:util";
import {
  DEFAULT_SEED,
  generateFacilityFile,
  generateToStream,
  generatorOptionProblems,
  type FileOptions,
} from "./lib/generator";

export const USAGE = `Usage: npm run generate -- --facilities N --invalid-rate R --out FILE [options]

Writes N synthetic facility records, a share R of them invalid, to FILE ("-" for stdout).
The same options always give the same bytes.

Options:
  --facilities N       number of records: 2500, 100k, 1m (k = 1,000, m = 1,000,000)
  --invalid-rate R     share of invalid records, 0 to 1 (0.01 = 1%); also accepts 1%
  --repair-rate Q      share of the valid records with a quirk the pipeline repairs or warns
                       about ("310" for a number, "tx", a numeric ZIP, a UTC date-time, a null
                       address), 0 to 1 (default 0)
  --out FILE           where to write; "-" for stdout
  --format FORMAT      jsonl (one record per line, the default) or array (one JSON array)
  --gzip               gzip the output
  --seed S             whole number from 0 to 4294967295 (default ${DEFAULT_SEED})
  -h, --help           show this help
`;

export class GenerateUsageError extends Error {
  override readonly name = "GenerateUsageError";
}

export interface GenerateCommand extends FileOptions {
  readonly out: string;
}

const COUNT = /^(\d+(?:\.\d+)?)([km]?)$/i;

/** "100k" -> 100000, "1m" -> 1000000, "2_500" -> 2500; NaN when not a count. */
export function parseCount(text: string): number {
  const match = COUNT.exec(text.replaceAll("_", ""));
  if (match === null) return Number.NaN;
  const scale = { "": 1, k: 1_000, m: 1_000_000 }[match[2].toLowerCase() as "" | "k" | "m"];
  return Math.round(Number(match[1]) * scale * 1e6) / 1e6;
}

/** "0.01" -> 0.01, "1%" -> 0.01; NaN when not a number. */
export function parseRate(text: string): number {
  const percent = text.endsWith("%");
  const number = /^\d+(\.\d+)?$|^\.\d+$/.test(percent ? text.slice(0, -1) : text) ? Number(text.replace("%", "")) : NaN;
  return percent ? number / 100 : number;
}

/** Parses the command line; throws GenerateUsageError listing every problem. */
export function parseGenerateArgs(argv: readonly string[]): GenerateCommand | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        facilities: { type: "string" },
        "invalid-rate": { type: "string" },
        "repair-rate": { type: "string" },
        out: { type: "string" },
        format: { type: "string", default: "jsonl" },
        gzip: { type: "boolean", default: false },
        seed: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    throw new GenerateUsageError((error as Error).message);
  }
  if (values.help) return "help";

  const problems: string[] = [];
  const required = (name: "facilities" | "invalid-rate" | "out") => {
    if (values[name] === undefined || values[name] === "") problems.push(`--${name} is required`);
    return values[name] ?? "";
  };
  const facilitiesText = required("facilities");
  const rateText = required("invalid-rate");
  const out = required("out");
  const facilities = parseCount(facilitiesText);
  const invalidRate = parseRate(rateText);
  const repairText = values["repair-rate"] ?? "0";
  const repairRate = parseRate(repairText);
  if (!(repairRate >= 0 && repairRate <= 1)) {
    problems.push(
      `--repair-rate must be a number from 0 to 1 such as 0.05, or a percentage such as 5% (received "${repairText}")`,
    );
  }
  const seed = values.seed === undefined ? DEFAULT_SEED : /^\d+$/.test(values.seed) ? Number(values.seed) : NaN;
  if (facilitiesText !== "" && !Number.isSafeInteger(facilities)) {
    problems.push(`--facilities must be a whole number such as 2500, 100k or 1m (received "${facilitiesText}")`);
  }
  if (rateText !== "" && !(invalidRate >= 0 && invalidRate <= 1)) {
    problems.push(
      `--invalid-rate must be a number from 0 to 1 such as 0.01, or a percentage such as 1% (received "${rateText}")`,
    );
  }
  if (values.seed !== undefined && !(Number.isInteger(seed) && seed <= 0xffffffff)) {
    problems.push(`--seed must be a whole number from 0 to 4294967295 (received "${values.seed}")`);
  }
  const format = values.format;
  if (format !== "jsonl" && format !== "array") {
    problems.push(`--format must be jsonl or array (received "${format}")`);
  }
  if (problems.length > 0) throw new GenerateUsageError(problems.join("\n"));

  const command: GenerateCommand = {
    out,
    facilities,
    invalidRate,
    repairRate,
    seed,
    format: format as "jsonl" | "array",
    gzip: values.gzip,
  };
  const rest = generatorOptionProblems(command);
  if (rest.length > 0) throw new GenerateUsageError(rest.join("\n"));
  return command;
}

export async function main(
  argv: readonly string[],
  io: { stdout: Writable; stderr: Writable } = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let command: GenerateCommand | "help";
  try {
    command = parseGenerateArgs(argv);
  } catch (error) {
    if (!(error instanceof GenerateUsageError)) throw error;
    io.stderr.write(`generate: ${error.message.replaceAll("\n", "\ngenerate: ")}\nRun with --help for usage.\n`);
    return 2;
  }
  if (command === "help") {
    io.stdout.write(USAGE);
    return 0;
  }
  const started = performance.now();
  const summary =
    command.out === "-" ? await generateToStream(io.stdout, command) : await generateFacilityFile(command.out, command);
  const elapsedMs = performance.now() - started;
  const report = {
    out: command.out,
    ...summary,
    elapsedMs: Math.round(elapsedMs),
    megabytesPerSecond: Number((summary.bytes / 1e6 / (elapsedMs / 1000)).toFixed(1)),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  io.stderr.write(`${JSON.stringify(report)}\n`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`generate: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
