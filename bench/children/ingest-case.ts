/**
 * One measured ingest case, run in a fresh process by bench/ingest.ts (bundled with esbuild
 * first, so no TypeScript loader runs beside it). Prints one JSON line: the counts, the time the
 * work took (process start-up excluded) and the process's peak RSS.
 *
 *   node ingest-case.cjs '{"case":"filter-facilities","file":"...","asOf":"2026-11-26","windowMonths":6}'
 *
 * Cases:
 *   filter-facilities  the filter-expiring core (filterFacilities) reading the file as a stream,
 *                      its four outputs written to sinks that count and drop the bytes
 *   parse-lines        baseline (a): read the file as a stream, JSON.parse each line, nothing else
 *   naive              baseline (b): read the whole file, split it, JSON.parse every line, filter
 *   idle               nothing: the RSS of a bare Node process, for reference
 */
import { createReadStream, readFileSync, statSync } from "node:fs";
import { Writable } from "node:stream";
import { expiryWindow, type ExpiryWindow } from "../../lambdas/filter-expiring/expiry-window";
import { filterFacilities, writableOutputs } from "../../lambdas/filter-expiring/filter-facilities";
import { benchProvenance } from "../lib/provenance";

export type IngestCaseName = "filter-facilities" | "parse-lines" | "naive" | "idle";

export interface IngestCaseRequest {
  readonly case: IngestCaseName;
  readonly file: string;
  readonly asOf: string;
  readonly windowMonths: number;
}

export interface IngestCaseResult {
  readonly case: IngestCaseName;
  readonly inputBytes: number;
  readonly records: number;
  /** Records the case kept: valid ones (filter-facilities), parsed ones (the baselines). */
  readonly kept: number;
  readonly expiring: number;
  /** Bytes of the curated output (filter-facilities only). */
  readonly curatedBytes: number;
  readonly elapsedMs: number;
  readonly maxRssBytes: number;
}

const NEWLINE = 0x0a;

/** A sink that counts what it is given and keeps none of it. */
class CountingSink extends Writable {
  bytes = 0;
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytes += chunk.length;
    callback();
  }
}

async function runFilterFacilities(request: IngestCaseRequest, window: ExpiryWindow) {
  const sinks = {
    staged: new CountingSink(),
    rejected: new CountingSink(),
    quality: new CountingSink(),
    expiring: new CountingSink(),
  };
  const summary = await filterFacilities({
    source: request.file,
    window,
    maxLineBytes: 1024 * 1024,
    maxDecompressedBytes: Number.MAX_SAFE_INTEGER,
    provenance: benchProvenance(request.file),
    openSource: () => createReadStream(request.file),
    openOutputs: () => writableOutputs(sinks),
  });
  return {
    records: summary.records,
    kept: summary.valid,
    expiring: summary.expiring,
    curatedBytes: sinks.staged.bytes,
  };
}

/** Baseline (a): the least any line-by-line JSON reader does. */
async function runParseLines(request: IngestCaseRequest) {
  let records = 0;
  let kept = 0;
  let carry: Buffer | undefined;
  const parse = (buffer: Buffer, start: number, end: number) => {
    if (end <= start) return;
    records++;
    try {
      if (typeof JSON.parse(buffer.toString("utf8", start, end)) === "object") kept++;
    } catch {
      // an invalid line costs its parse attempt, as anywhere
    }
  };
  for await (const chunk of createReadStream(request.file) as AsyncIterable<Buffer>) {
    let start = 0;
    let newline = chunk.indexOf(NEWLINE);
    if (carry !== undefined) {
      if (newline === -1) {
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
      const line = Buffer.concat([carry, chunk.subarray(0, newline)]);
      parse(line, 0, line.length);
      carry = undefined;
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    while (newline !== -1) {
      parse(chunk, start, newline);
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) carry = chunk.subarray(start);
  }
  if (carry !== undefined) parse(carry, 0, carry.length);
  return { records, kept, expiring: 0, curatedBytes: 0 };
}

interface LooseFacility {
  accreditations?: { valid_until?: string }[];
}

/** Baseline (b): what a first script does. Records that do not parse are skipped. */
async function runNaive(request: IngestCaseRequest, window: ExpiryWindow) {
  const lines = readFileSync(request.file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");
  const records: unknown[] = lines.map((line) => {
    try {
      return JSON.parse(line);
    } catch {
      return undefined;
    }
  });
  const kept = records.filter((record) => typeof record === "object" && record !== null);
  const expiring = kept.filter((record) => {
    const accreditations = (record as LooseFacility).accreditations;
    return (
      Array.isArray(accreditations) &&
      accreditations.some(
        (accreditation) =>
          typeof accreditation?.valid_until === "string" &&
          accreditation.valid_until >= window.asOf &&
          accreditation.valid_until <= window.end,
      )
    );
  });
  return { records: lines.length, kept: kept.length, expiring: expiring.length, curatedBytes: 0 };
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? "{}") as IngestCaseRequest;
  const window = expiryWindow(request.asOf, request.windowMonths);
  const started = performance.now();
  let counts;
  switch (request.case) {
    case "filter-facilities":
      counts = await runFilterFacilities(request, window);
      break;
    case "parse-lines":
      counts = await runParseLines(request);
      break;
    case "naive":
      counts = await runNaive(request, window);
      break;
    case "idle":
      counts = { records: 0, kept: 0, expiring: 0, curatedBytes: 0 };
      break;
    default:
      throw new Error(`unknown ingest case ${JSON.stringify(request.case)}`);
  }
  const elapsedMs = performance.now() - started;
  const result: IngestCaseResult = {
    case: request.case,
    inputBytes: request.case === "idle" ? 0 : statSync(request.file).size,
    ...counts,
    elapsedMs,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
