/**
 * 3. Cold start: each Lambda bundle as modules/lambda-bundle.ts builds it for deployment (size of
 * the minified index.mjs and of the zip), and the time a fresh Node process takes to import it,
 * with the environment the function gets in AWS. Lambda's own init (runtime start, downloading
 * the zip) comes on top and is not measured here.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { unzipSync } from "fflate";
import { bundleLambda } from "../modules/lambda-bundle";
import { lastJsonLine, runChild } from "./lib/child";
import type { BenchContext } from "./lib/context";
import type { SectionResult, TargetCheck } from "./lib/report";
import { formatSpread, MB, spreadOf } from "./lib/stats";

export const BUNDLE_TARGET_BYTES = 700_000;
export const IMPORT_TARGET_MS = 120;

/** Imports the bundle and reports how long that took, and since when the process runs. */
const IMPORT_SCRIPT = `
const started = performance.now();
await import(process.env.FACILITY_BENCH_BUNDLE_URL);
const importMs = performance.now() - started;
console.log(JSON.stringify({ importMs, sinceProcessStartMs: performance.now(), maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
`;

/** The handlers: every lambdas/<name>/handler.ts. */
export function lambdaNames(root: string): string[] {
  const dir = join(root, "lambdas");
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, "handler.ts")) && statSync(join(dir, name)).isDirectory())
    .sort();
}

export async function runColdStartBenchmark(context: BenchContext): Promise<SectionResult> {
  const { runs, quick } = context.settings;
  const rows: string[][] = [];
  const targets: TargetCheck[] = [];
  const data: Record<string, unknown> = {};
  for (const name of lambdaNames(context.root)) {
    context.log(`cold start: bundling ${name}`);
    const bundle = bundleLambda(name, { root: context.root });
    const zipBytes = statSync(bundle.zipPath).size;
    const dir = join(context.workDir, "cold-start", name);
    mkdirSync(dir, { recursive: true });
    for (const [file, contents] of Object.entries(unzipSync(readFileSync(bundle.zipPath))))
      writeFileSync(join(dir, file), contents);
    const env = {
      PATH: process.env.PATH,
      AWS_REGION: "us-east-1",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_LAMBDA_FUNCTION_NAME: `bench-${name}`,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "1024",
      AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
      DATA_BUCKET: "bench-facility-data",
      POWERTOOLS_SERVICE_NAME: name,
      POWERTOOLS_LOG_LEVEL: "WARN",
      FACILITY_BENCH_BUNDLE_URL: pathToFileURL(join(dir, "index.mjs")).href,
    };
    const measured: { importMs: number; sinceProcessStartMs: number; maxRssBytes: number }[] = [];
    for (let run = 1; run <= runs; run++) {
      const args = [...context.profileFlags(`cold-start-${name}-${run}`), "--input-type=module", "-e", IMPORT_SCRIPT];
      measured.push(lastJsonLine(await runChild(context.node, args, { cwd: dir, env }), `importing ${name}`));
    }
    const importMs = spreadOf(measured.map((m) => m.importMs));
    const sinceStart = spreadOf(measured.map((m) => m.sinceProcessStartMs));
    const rss = spreadOf(measured.map((m) => m.maxRssBytes));
    rows.push([
      name,
      (bundle.bundleBytes / 1000).toFixed(0),
      (zipBytes / 1000).toFixed(0),
      formatSpread(importMs, 1),
      formatSpread(sinceStart, 1),
      formatSpread(rss, 0, 1 / MB),
    ]);
    targets.push(
      {
        target: `${name} bundle < ${BUNDLE_TARGET_BYTES / 1000} KB`,
        measured: `${(bundle.bundleBytes / 1000).toFixed(0)} KB (zip ${(zipBytes / 1000).toFixed(0)} KB)`,
        met: bundle.bundleBytes < BUNDLE_TARGET_BYTES,
      },
      {
        target: `${name} import < ${IMPORT_TARGET_MS} ms`,
        measured: `${importMs.median.toFixed(1)} ms median, ${importMs.max.toFixed(1)} ms worst`,
        met: quick ? undefined : importMs.median < IMPORT_TARGET_MS,
      },
    );
    data[name] = {
      bundleBytes: bundle.bundleBytes,
      zipBytes,
      importMs,
      sinceProcessStartMs: sinceStart,
      peakRssBytes: rss,
    };
  }
  return {
    id: "coldStart",
    title: `3. Cold start: Lambda bundles and their import time in a fresh Node ${process.version} process (${runs} run${runs > 1 ? "s" : ""}, median (min-max))`,
    tables: [
      {
        header: ["function", "bundle KB", "zip KB", "import ms", "process start to imported ms", "peak RSS MB"],
        rows,
      },
    ],
    notes: [
      "bundle = the minified index.mjs (the AWS SDK is bundled, not taken from the runtime); KB = 1,000 bytes.",
      "import ms = await import(index.mjs) in a fresh process with the function's environment; module-scope code (the logger) runs here; the S3 client is created on first use.",
      `This machine is ${process.arch}; Lambda runs arm64 with CPU in proportion to memory, so AWS figures differ.`,
    ],
    targets,
    data,
  };
}
