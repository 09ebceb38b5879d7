/**
 * 5. Athena cost model: what the two workflow queries would scan, and cost, per run.
 *
 * Athena's JSON SerDe reads whole objects (no column pruning, no statistics), so each query scans
 * every curated byte of the table. Bytes per curated record are measured by running the
 * filter-expiring core on generated data, then extrapolated linearly to 10k, 1M and 10M
 * facilities. Step Functions transitions are counted from the execution history of a local run.
 */
import { createReadStream } from "node:fs";
import { Writable } from "node:stream";
import { gzipSync } from "node:zlib";
import { expiryWindow } from "../lambdas/filter-expiring/expiry-window";
import { filterFacilities, writableOutputs } from "../lambdas/filter-expiring/filter-facilities";
import { runEndToEndBenchmark } from "./end-to-end";
import { facilitiesLabel, type BenchContext } from "./lib/context";
import type { SectionResult } from "./lib/report";
import { benchProvenance } from "./lib/provenance";

/** Athena (SQL queries on S3): $5 per TB scanned, rounded up to the megabyte, at least 10 MB per query. */
export const ATHENA_USD_PER_TB = 5;
export const ATHENA_MINIMUM_BYTES = 10 * 2 ** 20;
const MEGABYTE = 2 ** 20;
const TERABYTE = 2 ** 40;
/** Step Functions Standard: $0.025 per 1,000 state transitions. */
export const SFN_USD_PER_TRANSITION = 0.025 / 1000;
/** The workflow's Athena queries: CountAccreditedByState and ExtractFacilitySummary. */
export const QUERIES_PER_RUN = 2;
export const MODEL_SIZES = [10_000, 1_000_000, 10_000_000] as const;

/** What one query is billed for after scanning `bytes`. */
export function billedBytes(bytes: number): number {
  return Math.max(ATHENA_MINIMUM_BYTES, Math.ceil(bytes / MEGABYTE) * MEGABYTE);
}

export function athenaUsdPerRun(curatedBytes: number): number {
  return (QUERIES_PER_RUN * billedBytes(curatedBytes) * ATHENA_USD_PER_TB) / TERABYTE;
}

/** Curated output of one ingest, measured: bytes per valid record, plain and gzipped. */
async function measureCurated(file: string, asOf: string, windowMonths: number) {
  const chunks: Buffer[] = [];
  const keep = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  const drop = () => new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const outputs = { staged: keep, rejected: drop(), quality: drop(), expiring: drop() };
  const summary = await filterFacilities({
    source: file,
    window: expiryWindow(asOf, windowMonths),
    maxLineBytes: 1024 * 1024,
    maxDecompressedBytes: Number.MAX_SAFE_INTEGER,
    provenance: benchProvenance(file),
    openSource: () => createReadStream(file),
    openOutputs: () => writableOutputs(outputs),
  });
  const curated = Buffer.concat(chunks);
  return {
    validRecords: summary.valid,
    curatedBytes: curated.length,
    gzippedBytes: gzipSync(curated).length,
    bytesPerRecord: curated.length / summary.valid,
  };
}

const usd = (value: number) => (value >= 1 ? `$${value.toFixed(2)}` : `$${value.toPrecision(2)}`);

export async function runAthenaCostModel(
  context: BenchContext,
  sampleFacilities: number,
  transitionsFromEndToEnd: number | undefined,
): Promise<SectionResult> {
  const sample = await context.dataFile(sampleFacilities);
  context.log(`athena cost: measuring curated bytes on ${facilitiesLabel(sampleFacilities)} facilities`);
  const curated = await measureCurated(sample.path, context.settings.asOf, context.settings.windowMonths);

  let transitions = transitionsFromEndToEnd;
  if (transitions === undefined) {
    context.log("athena cost: counting state transitions with one local run");
    const run = await runEndToEndBenchmark(context, [{ facilities: sampleFacilities, runs: 1 }]);
    transitions = (run.data as { transitionsPerExecution?: number }).transitionsPerExecution;
  }
  if (transitions === undefined) throw new Error("no successful local execution to count state transitions from");
  const sfnUsd = transitions * SFN_USD_PER_TRANSITION;
  const compression = curated.gzippedBytes / curated.curatedBytes;

  const models = MODEL_SIZES.map((facilities) => {
    const bytes = facilities * curated.bytesPerRecord;
    const athena = athenaUsdPerRun(bytes);
    return {
      facilities,
      curatedBytes: Math.round(bytes),
      billedBytesPerQuery: billedBytes(bytes),
      athenaUsdPerRun: athena,
      stepFunctionsUsdPerRun: sfnUsd,
      totalUsdPerRun: athena + sfnUsd,
      athenaUsdPerRunIfGzipped: athenaUsdPerRun(bytes * compression),
    };
  });
  return {
    id: "athenaCost",
    title:
      "5. Athena cost model: per workflow run (2 queries, each scanning the whole curated table) plus Step Functions",
    tables: [
      {
        header: [
          "facilities",
          "curated MB",
          "billed MB / query",
          "Athena / run",
          "transitions",
          "Step Functions / run",
          "total / run",
          "Athena if gzipped",
        ],
        rows: models.map((model) => [
          facilitiesLabel(model.facilities),
          (model.curatedBytes / MEGABYTE).toLocaleString("en-US", { maximumFractionDigits: 1 }),
          (model.billedBytesPerQuery / MEGABYTE).toLocaleString("en-US", { maximumFractionDigits: 0 }),
          usd(model.athenaUsdPerRun),
          String(transitions),
          usd(model.stepFunctionsUsdPerRun),
          usd(model.totalUsdPerRun),
          usd(model.athenaUsdPerRunIfGzipped),
        ]),
      },
    ],
    notes: [
      `Measured, not assumed: ${curated.bytesPerRecord.toFixed(0)} bytes per curated record (the filter-expiring core on ${facilitiesLabel(sampleFacilities)} generated facilities: ${curated.validRecords.toLocaleString("en-US")} valid, ${curated.curatedBytes.toLocaleString("en-US")} bytes); larger sizes are that figure times the count.`,
      `Athena: $${ATHENA_USD_PER_TB} per TB scanned (TB = 2^40 bytes, MB = 2^20), rounded up to the MB, at least 10 MB per query; ${QUERIES_PER_RUN} queries per run, and the JSON SerDe reads every byte of every curated object.`,
      `The table spans all of curated/facilities/, so each run scans every upload so far, not just its own: N uploads of 1M facilities cost N times the 1M row per run.`,
      `Step Functions Standard: $0.025 per 1,000 transitions; ${transitions} per successful execution (states entered plus retries, counted from a local execution's history).`,
      `"Athena if gzipped": the same queries if curated objects were gzip JSON Lines (measured ratio ${(compression * 100).toFixed(0)}%); Parquet would cut further by reading only the columns used.`,
    ],
    targets: [],
    data: { sample: { facilities: sampleFacilities, ...curated, gzipRatio: compression }, transitions, models },
  };
}
