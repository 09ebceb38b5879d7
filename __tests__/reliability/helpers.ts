/**
 * Shared by the reliability tests: a local pipeline per test, what it published, and the
 * handler settings a test lowers.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { readResultRows, type ResultRow } from "../../local/athena";
import { LocalPipeline, type LocalPipelineOptions } from "../../local/pipeline";

// The handlers' loggers read this when the pipeline imports them; failures are expected here.
process.env.POWERTOOLS_LOG_LEVEL = "SILENT";

export const AS_OF = "2026-11-26";
export const DATA_DIR = join(__dirname, "..", "..", "data");
export const EXTENDED = join(DATA_DIR, "extended_sample_facility_data.json");
export const SAMPLE = join(DATA_DIR, "sample_facility_data.json");

/**
 * The prefixes the pipeline publishes to. athena-results/ is not one: Athena adds a result per
 * query. The current table is not in the bucket locally (a DuckDB file): see currentState.
 */
export const PUBLISHED_PREFIXES = ["staging/", "rejected/", "transformed/", "analytics/"] as const;

/** Starts a pipeline pinned to AS_OF with 1 ms retry waits, runs `use`, and always stops it. */
export async function withPipeline<T>(
  options: LocalPipelineOptions,
  use: (pipeline: LocalPipeline) => Promise<T>,
): Promise<T> {
  const pipeline = await LocalPipeline.start({ asOf: AS_OF, retryIntervalMs: 1, ...options });
  try {
    return await use(pipeline);
  } finally {
    await pipeline.stop();
  }
}

/**
 * Every published object (key -> text), keys sorted. Two uploads of the same bytes differ only in
 * the upload's event time and sequencer, which every staged record carries: those are masked.
 */
export async function publishedObjects(pipeline: LocalPipeline): Promise<Record<string, string>> {
  const objects: Record<string, string> = {};
  for (const prefix of PUBLISHED_PREFIXES) Object.assign(objects, await objectsUnder(pipeline, prefix));
  return objects;
}

/** The objects under a prefix, key -> text (the upload's event time and sequencer masked). */
export async function objectsUnder(pipeline: LocalPipeline, prefix: string): Promise<Record<string, string>> {
  const objects: Record<string, string> = {};
  for (const key of await pipeline.listKeys(prefix)) objects[key] = maskUploadEvent(await pipeline.readObject(key));
  return objects;
}

/** Replaces each staged record's event_time and sequencer (the upload event's) with a placeholder. */
export function maskUploadEvent(text: string): string {
  return text.replace(/"event_time":"[^"]*","sequencer":"[0-9A-F]*"/g, '"event_time":"…","sequencer":"…"');
}

/** The current table, one row per facility, as the facility summary sees it. */
export async function currentState(pipeline: LocalPipeline): Promise<ResultRow[]> {
  return pipeline.querySql("facility_summary", { as_of: AS_OF });
}

/** The published accredited-facility count per state. */
export async function stateCounts(pipeline: LocalPipeline): Promise<ResultRow[]> {
  return readResultRows(await pipeline.readObject("analytics/state_counts/latest.csv"));
}

/** Sets environment variables for the duration of `use` (the handlers read theirs on every invocation). */
export async function withEnv<T>(variables: Readonly<Record<string, string>>, use: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  Object.assign(process.env, variables);
  try {
    return await use();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** Files under a directory, recursively (s3rver keeps multipart parts on disk). */
export function filesUnder(directory: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(directory);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(directory, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}
