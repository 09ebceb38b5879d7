/**
 * Where the ingest's peak RSS goes as the file grows: the filter-expiring core as shipped, beside
 * the same core with its facility_id log removed or stored in blocks (id-log-variants.ts), each
 * run in a fresh process like bench/ingest.ts. The evidence behind the "flat RSS" finding in
 * bench/README.md.
 *
 *   npm exec -- node --import tsx bench/experiments/ingest-memory.ts [--sizes 100k,1m,3m] [--runs 3] [--data-dir DIR]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { parseCount } from "../generate";
import type { IngestCaseResult } from "../children/ingest-case";
import { bundleIngestChild } from "../ingest";
import { lastJsonLine, runChild } from "../lib/child";
import { BenchContext, facilitiesLabel, PROJECT_ROOT } from "../lib/context";
import { formatTable } from "../lib/report";
import { MB, spreadOf } from "../lib/stats";

async function bundleWithVariantLog(): Promise<string> {
  const outfile = join(PROJECT_ROOT, "build", "bench", "ingest-case-id-log-variant.cjs");
  await build({
    entryPoints: [join(PROJECT_ROOT, "bench", "children", "ingest-case.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    logLevel: "warning",
    plugins: [
      {
        name: "swap-facility-id-log",
        setup(plugin) {
          plugin.onResolve({ filter: /\/facility-id-index$/ }, () => ({
            path: join(PROJECT_ROOT, "bench", "experiments", "id-log-variants.ts"),
          }));
        },
      },
    ],
  });
  return outfile;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: "string", default: "100k,1m,3m" },
      runs: { type: "string", default: "3" },
      "data-dir": { type: "string" },
    },
  });
  const sizes = values.sizes.split(",").map(parseCount);
  const runs = Number(values.runs);
  const workDir = mkdtempSync(join(tmpdir(), "facility-bench-memory-"));
  const settings = { quick: false, runs, asOf: "2026-11-26", windowMonths: 6, invalidRate: 0.01, seed: 1 };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const context = new BenchContext(
    settings,
    workDir,
    values["data-dir"] ? resolve(values["data-dir"]) : join(workDir, "data"),
    log,
  );
  const variants = [
    { label: "as shipped", bundle: bundleIngestChild(PROJECT_ROOT), env: {} },
    { label: "id log in blocks", bundle: await bundleWithVariantLog(), env: { FACILITY_ID_LOG_VARIANT: "blocks" } },
    { label: "no id log", bundle: await bundleWithVariantLog(), env: { FACILITY_ID_LOG_VARIANT: "none" } },
  ];
  const rows: string[][] = [];
  try {
    for (const variant of variants) {
      const row = [variant.label];
      for (const facilities of sizes) {
        const data = await context.dataFile(facilities);
        const peaks: number[] = [];
        for (let run = 0; run < runs; run++) {
          const request = JSON.stringify({
            case: "filter-facilities",
            file: data.path,
            asOf: settings.asOf,
            windowMonths: 6,
          });
          const child = await runChild(process.execPath, [variant.bundle, request], {
            env: { ...process.env, ...variant.env },
          });
          peaks.push(lastJsonLine<IngestCaseResult>(child, variant.label).maxRssBytes);
        }
        const spread = spreadOf(peaks);
        row.push(
          `${(spread.median / MB).toFixed(0)} (${(spread.min / MB).toFixed(0)}-${(spread.max / MB).toFixed(0)})`,
        );
        log(`${variant.label}, ${facilitiesLabel(facilities)}: ${row[row.length - 1]} MB`);
      }
      rows.push(row);
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  process.stdout.write(
    `Peak RSS of the filter-expiring core, MB, median (min-max) of ${runs} runs\n\n${formatTable({ header: ["facility_id log", ...sizes.map(facilitiesLabel)], rows })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
