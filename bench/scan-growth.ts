/**
 * 6. Bytes Athena scans per run as history grows: the JSON pile the workflow's queries read
 * today (a Glue table over every staged upload, JSON SerDe) against the current-state Iceberg
 * table they move to (Parquet, one row per facility_id, kept by the MERGE after each upload).
 *
 * Upload 1 is a registry of generated facilities; every later upload is a 10% update of the
 * registry as it then stands (some facilities moved to another state, some renewed
 * accreditations, a few new ones). Each upload goes through the filter-expiring core, so the
 * staged bytes are the canonical JSON Lines the ingest Lambda writes, then through
 * sql/merge_current_state.sql, run verbatim in DuckDB (latest upload wins per facility_id).
 *
 * - JSON pile: the JSON SerDe has no column pruning, so each query reads every staged byte of
 *   every upload so far.
 * - Iceberg, compacted: the current table written as one Parquet file (DuckDB COPY, zstd), as
 *   OPTIMIZE leaves it; a query is billed the column chunks (total_compressed_size in
 *   parquet_metadata) of the top-level columns its SQL names, every leaf under each of them.
 * - Iceberg, uncompacted: the files a snapshot holds if OPTIMIZE never runs. Athena's MERGE on
 *   Iceberg is merge-on-read: each commit adds a data file of the rows it wrote and a position
 *   delete file (file_path, pos) of the rows those replace. A query reads the named columns of
 *   every data file and all of every delete file.
 */
import { createHash } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { daysInMonth } from "../core/calendar-date";
import { CATALOG, DATA_PREFIXES } from "../core/data-layout";
import { RECORD_COLUMNS, toDuckDbType } from "../core/facility-schema";
import { queryParameters, readQuery } from "../core/sql";
import { expiryWindow } from "../lambdas/filter-expiring/expiry-window";
import { filterFacilities, writableOutputs, type Provenance } from "../lambdas/filter-expiring/filter-facilities";
import { ATHENA_MINIMUM_BYTES, ATHENA_USD_PER_TB, billedBytes, QUERIES_PER_RUN } from "./athena-cost";
import { facilitiesLabel, type BenchContext } from "./lib/context";
import { generateRecords } from "./lib/generator";
import { benchProvenance } from "./lib/provenance";
import { mixSeeds, Random, WeightedTable } from "./lib/random";
import { STATES_AND_TERRITORIES, STREET_SUFFIXES, STREETS, type StateOrTerritory } from "./lib/reference-data";
import type { SectionResult, TargetCheck } from "./lib/report";

/** Share of the registry each upload after the first changes. */
export const UPDATE_SHARE = 0.1;
/**
 * What an update's records are: new facilities (new ids), facilities moved to another state, and
 * facilities whose earliest accreditation is renewed (a facility with none moves instead).
 */
export const UPDATE_MIX = { added: 0.02, moved: 0.4, renewed: 0.58 } as const;
/** Years a renewal adds to an accreditation's valid_until. */
const RENEWAL_YEARS = 3;
/** Target: the per-run Iceberg scan after the longest history, at most this times the scan after 1 upload. */
export const GROWTH_TARGET_FACTOR = 1.2;

/** The workflow's per-run queries over the current table, by their file in sql/. */
export const WORKFLOW_QUERIES = [
  { id: "stateCounts", label: "state counts", file: "accredited_facilities_by_state" },
  { id: "facilitySummary", label: "facility summary", file: "facility_summary" },
] as const;
export type WorkflowQueryId = (typeof WORKFLOW_QUERIES)[number]["id"];

const MERGE_QUERY = "merge_current_state";
/** Athena bills (and athena-cost.ts reports) megabytes of 2^20 bytes. */
const MIB = 2 ** 20;
const TIB = 2 ** 40;
const BATCH_BYTES = 64 * 1024;
const BUCKET = "facility-bench";
const SOURCE_KEY = `${DATA_PREFIXES.raw}registry.jsonl`;
const STATE_TABLE = new WeightedTable(STATES_AND_TERRITORIES.map((entry) => [entry, entry.weight] as const));

export interface ScanGrowthOptions {
  /** Facilities in the first upload. */
  readonly facilities: number;
  /** History lengths (uploads so far) to measure at, ascending, starting at 1. */
  readonly histories: readonly number[];
  /** @default 1 */
  readonly seed?: number;
  /** A scratch directory is made (and removed) inside it. */
  readonly workDir: string;
  /** The filter-expiring window (it decides nothing staged). @default "2026-11-26", 6 months */
  readonly asOf?: string;
  readonly windowMonths?: number;
  readonly log?: (line: string) => void;
}

/** Compressed bytes per top-level column of one or more Parquet files. */
export type ColumnBytes = Readonly<Record<string, number>>;
export type QueryBytes = Readonly<Record<WorkflowQueryId, number>>;

export interface HistoryPoint {
  /** Uploads so far. */
  readonly uploads: number;
  /** Facilities in the registry after them (what the current table must hold). */
  readonly registryFacilities: number;
  /** Rows in the current table, and distinct facility_ids among them. */
  readonly currentRows: number;
  readonly distinctFacilityIds: number;
  /** Every facility_id's state and accreditation dates in the table are those of its latest upload. */
  readonly matchesRegistry: boolean;
  readonly pile: {
    /** Staged bytes of the latest upload, and of every upload so far (what each query reads). */
    readonly lastUploadBytes: number;
    readonly bytesPerQuery: number;
    readonly bytesPerRun: number;
    readonly billedUsdPerRun: number;
  };
  readonly compacted: {
    readonly fileBytes: number;
    readonly columns: ColumnBytes;
    /** Every column chunk: what the MERGE reads of the table at most. */
    readonly allColumnsBytes: number;
    readonly bytesPerQuery: QueryBytes;
    readonly bytesPerRun: number;
    readonly billedUsdPerRun: number;
  };
  /** The same table sorted by facility_id (a sort order the pipeline does not set): how much the row order matters. */
  readonly sortedByFacilityId: {
    readonly bytesPerQuery: QueryBytes;
    readonly bytesPerRun: number;
  };
  readonly uncompacted: {
    readonly dataFiles: number;
    readonly deleteFiles: number;
    /** Rows the position delete files mark deleted. */
    readonly deletedRows: number;
    /** Column chunks of every data file, by top-level column. */
    readonly dataColumns: ColumnBytes;
    /** Every column chunk of every delete file (each query reads them all). */
    readonly deleteBytes: number;
    readonly bytesPerQuery: QueryBytes;
    readonly bytesPerRun: number;
    readonly billedUsdPerRun: number;
  };
}

export interface ScanGrowthResult {
  readonly facilities: number;
  readonly seed: number;
  /** The top-level columns each workflow query reads, from its SQL text. */
  readonly queryColumns: Readonly<Record<WorkflowQueryId, readonly string[]>>;
  /** Staged bytes of each upload, in order. */
  readonly stagedBytesByUpload: readonly number[];
  /** What the updates did, summed over every upload after the first. */
  readonly updates: { readonly moved: number; readonly renewed: number; readonly added: number };
  readonly points: readonly HistoryPoint[];
  readonly elapsedMs: number;
}

// ---------------------------------------------------------------------------------------------
// The registry and its updates

interface Facility {
  facility_id: string;
  location: { address: string; city: string; state: string; zip: string };
  accreditations: { valid_until: string }[];
}

export interface RegistryUpdate {
  /** The upload's records (compact JSON, schema key order): changed facilities in registry order, then new ones. */
  readonly lines: readonly string[];
  readonly moved: number;
  readonly renewed: number;
  readonly added: number;
}

/** The first upload: `facilities` generated records, all valid. */
export function initialRegistry(facilities: number, seed: number): string[] {
  return Array.from(generateRecords({ facilities, seed }), (record) => record.text);
}

/**
 * Changes UPDATE_SHARE of `registry` in place (it is the latest record of every facility, in
 * registry order) and returns the upload that carries the changes. Deterministic in (seed, upload).
 */
export function updateRegistry(registry: string[], upload: number, seed: number): RegistryUpdate {
  const random = new Random(mixSeeds(mixSeeds(seed, 0x75706474), upload));
  const changes = Math.round(registry.length * UPDATE_SHARE);
  const added = Math.round(changes * UPDATE_MIX.added);
  const picked = new Set<number>();
  while (picked.size < Math.min(changes - added, registry.length)) picked.add(random.int(0, registry.length - 1));
  const moveShare = UPDATE_MIX.moved / (UPDATE_MIX.moved + UPDATE_MIX.renewed);
  let moved = 0;
  let renewed = 0;
  const lines: string[] = [];
  for (const index of [...picked].sort((a, b) => a - b)) {
    const facility = JSON.parse(registry[index]) as Facility;
    if (random.fraction() >= moveShare && facility.accreditations.length > 0) {
      renew(facility);
      renewed++;
    } else {
      move(facility, random);
      moved++;
    }
    registry[index] = JSON.stringify(facility);
    lines.push(registry[index]);
  }
  for (const record of generateRecords({ facilities: added, seed: mixSeeds(mixSeeds(seed, 0x6e657700), upload) })) {
    const facility = JSON.parse(record.text) as Facility;
    // The generator numbers from 0; a new facility takes the next index of the registry.
    facility.facility_id = `FAC-${facility.location.state}-${String(registry.length).padStart(8, "0")}`;
    registry.push(JSON.stringify(facility));
    lines.push(registry[registry.length - 1]);
  }
  return { lines, moved, renewed, added };
}

/** A new address in another state (the facility_id, an opaque key, stays). */
function move(facility: Facility, random: Random): void {
  let where: StateOrTerritory;
  do where = random.weighted(STATE_TABLE);
  while (where.code === facility.location.state);
  const { city, zip3 } = random.pick(where.places);
  facility.location = {
    address: `${random.int(1, 9999)} ${random.pick(STREETS)} ${random.pick(STREET_SUFFIXES)}`,
    city,
    state: where.code,
    zip: `${zip3}${String(random.int(0, 99)).padStart(2, "0")}`,
  };
}

/** The earliest accreditation's valid_until moves RENEWAL_YEARS on (Feb 29 becomes Feb 28). */
function renew(facility: Facility): void {
  const earliest = facility.accreditations.reduce((a, b) => (b.valid_until < a.valid_until ? b : a));
  const year = Number(earliest.valid_until.slice(0, 4)) + RENEWAL_YEARS;
  const month = Number(earliest.valid_until.slice(5, 7));
  const day = Math.min(Number(earliest.valid_until.slice(8, 10)), daysInMonth(year, month));
  earliest.valid_until = `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** facility_id, state and accreditation dates of every facility, sorted by id, hashed: what the table must hold. */
function registryDigest(registry: readonly string[]): string {
  const entries = registry.map((text) => {
    const facility = JSON.parse(text) as Facility;
    const dates = facility.accreditations.map((a) => a.valid_until).join(",");
    return [facility.facility_id, `${facility.facility_id}|${facility.location.state}|${dates}`] as const;
  });
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash("md5")
    .update(entries.map(([, entry]) => entry).join("\n"))
    .digest("hex");
}

// ---------------------------------------------------------------------------------------------
// Queries and Parquet files

/**
 * The top-level table columns a query's SQL names (comments and string literals left out), in
 * table order. Athena reads those columns and no others from Parquet.
 */
export function columnsReadBy(sql: string): string[] {
  const code = sql
    .split("\n")
    .map((line) => line.replace(/--.*$/, ""))
    .join("\n")
    .replace(/'(?:[^']|'')*'/g, "''");
  return RECORD_COLUMNS.map((column) => column.name).filter((name) => new RegExp(`\\b${name}\\b`).test(code));
}

const identifier = (name: string) => `"${name.replaceAll('"', '""')}"`;
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

async function rows(connection: DuckDBConnection, sql: string, values?: string[]) {
  const reader = await connection.runAndReadAll(sql, values);
  return reader.getRowObjects();
}

interface ParquetFigures {
  readonly fileBytes: number;
  readonly columns: Record<string, number>;
}

/** Writes `select` to `file` as Athena would store it (zstd Parquet) and reads its column-chunk sizes. */
async function writeParquet(connection: DuckDBConnection, select: string, file: string): Promise<ParquetFigures> {
  await connection.run(`COPY (${select}) TO ${literal(file)} (FORMAT parquet, COMPRESSION zstd)`);
  const columns: Record<string, number> = {};
  for (const row of await rows(
    connection,
    `SELECT path_in_schema, total_compressed_size FROM parquet_metadata(${literal(file)})`,
  )) {
    // "location, state" and "accreditations, list, element, valid_until": the first part is the column.
    const column = String(row.path_in_schema).split(", ")[0];
    columns[column] = (columns[column] ?? 0) + Number(row.total_compressed_size);
  }
  const fileBytes = statSync(file).size;
  rmSync(file);
  return { fileBytes, columns };
}

const sum = (values: Iterable<number>) => [...values].reduce((total, value) => total + value, 0);

function addColumns(into: Record<string, number>, add: ColumnBytes): void {
  for (const [column, bytes] of Object.entries(add)) into[column] = (into[column] ?? 0) + bytes;
}

function perQuery(columns: ColumnBytes, queryColumns: ScanGrowthResult["queryColumns"], extraPerQuery = 0): QueryBytes {
  const bytes = (id: WorkflowQueryId) => sum(queryColumns[id].map((column) => columns[column] ?? 0)) + extraPerQuery;
  return { stateCounts: bytes("stateCounts"), facilitySummary: bytes("facilitySummary") };
}

const usdOfBilled = (bytes: number) => (bytes * ATHENA_USD_PER_TB) / TIB;
const billedUsd = (query: QueryBytes) => usdOfBilled(sum(Object.values(query).map(billedBytes)));

// ---------------------------------------------------------------------------------------------
// Staging and the MERGE

/** The provenance of upload `upload`: one more version of the same key, each a day later. */
function uploadProvenance(upload: number): Provenance {
  const base = benchProvenance(SOURCE_KEY);
  return {
    ...base,
    source_version: createHash("md5").update(`version ${upload}`).digest("hex"),
    event_time: new Date(Date.parse(base.event_time) + (upload - 1) * 86_400_000).toISOString(),
    sequencer: (BigInt(`0x${base.sequencer}`) + BigInt(upload)).toString(16).toUpperCase().padStart(32, "0"),
  };
}

function* bytesOf(lines: readonly string[]): Generator<Buffer, void, undefined> {
  let batch = "";
  for (const line of lines) {
    batch += `${line}\n`;
    if (batch.length >= BATCH_BYTES) {
      yield Buffer.from(batch, "utf8");
      batch = "";
    }
  }
  if (batch.length > 0) yield Buffer.from(batch, "utf8");
}

/** Runs the filter-expiring core over an upload, its staged output to `file`; returns the staged bytes. */
async function stage(
  lines: readonly string[],
  provenance: Provenance,
  file: string,
  window: ReturnType<typeof expiryWindow>,
): Promise<number> {
  const drop = () => new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const summary = await filterFacilities({
    source: provenance.source_key,
    window,
    maxLineBytes: 1024 * 1024,
    maxDecompressedBytes: Number.MAX_SAFE_INTEGER,
    provenance,
    openSource: () => Readable.from(bytesOf(lines)),
    openOutputs: () =>
      writableOutputs({ staged: createWriteStream(file), rejected: drop(), quality: drop(), expiring: drop() }),
  });
  if (summary.valid !== lines.length || summary.rejected !== 0) {
    throw new Error(
      `upload of ${lines.length} records staged ${summary.valid} and rejected ${summary.rejected}` +
        (summary.firstRejection ? ` (line ${summary.firstRejection.line}: ${summary.firstRejection.message})` : ""),
    );
  }
  return statSync(file).size;
}

/**
 * Replays `histories.at(-1)` uploads through staging and the MERGE, measuring at each history
 * length in `histories`. Memory: the registry as JSON text (about 0.5 KB per facility) and
 * DuckDB's table of the current state.
 */
export async function measureScanGrowth(options: ScanGrowthOptions): Promise<ScanGrowthResult> {
  const started = performance.now();
  const { facilities, histories } = options;
  const seed = options.seed ?? 1;
  const log = options.log ?? (() => undefined);
  if (!Number.isSafeInteger(facilities) || facilities < 1)
    throw new RangeError(`facilities must be 1 or more (received ${facilities})`);
  if (histories[0] !== 1 || histories.some((n, i) => !Number.isInteger(n) || (i > 0 && n <= histories[i - 1]))) {
    throw new RangeError(
      `histories must be whole numbers, ascending, starting at 1 (received ${histories.join(", ")})`,
    );
  }
  const mergeParameters = queryParameters(MERGE_QUERY);
  if (mergeParameters.length !== 1 || mergeParameters[0].type !== "string") {
    throw new Error(
      `sql/${MERGE_QUERY}.sql no longer takes one string parameter (the staged object): update bench/scan-growth.ts`,
    );
  }
  const merge = readQuery(MERGE_QUERY);
  const queryColumns = Object.fromEntries(
    WORKFLOW_QUERIES.map((query) => [query.id, columnsReadBy(readQuery(query.file))]),
  ) as Record<WorkflowQueryId, string[]>;
  const window = expiryWindow(options.asOf ?? "2026-11-26", options.windowMonths ?? 6);

  const dir = mkdtempSync(join(options.workDir, "scan-growth-"));
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const columns = RECORD_COLUMNS.map((c) => `${identifier(c.name)} ${toDuckDbType(c.type)}`).join(", ");
    const jsonColumns = RECORD_COLUMNS.map((c) => `${literal(c.name)}: ${literal(toDuckDbType(c.type))}`).join(", ");
    const table = identifier(CATALOG.currentTable);
    const staging = identifier(CATALOG.stagingTable);
    for (const statement of [
      "SET memory_limit = '256MB'",
      `SET temp_directory = ${literal(join(dir, "duckdb.tmp"))}`,
      `CREATE TABLE ${table} (${columns})`,
      // Where each current row sits in the uncompacted layout: data file and position.
      "CREATE TABLE layout (facility_id VARCHAR PRIMARY KEY, file_no INTEGER, pos BIGINT)",
    ]) {
      await connection.run(statement);
    }

    const registry = initialRegistry(facilities, seed);
    const stagedBytesByUpload: number[] = [];
    const updates = { moved: 0, renewed: 0, added: 0 };
    const dataColumns: Record<string, number> = {};
    let dataFiles = 0;
    let deleteFiles = 0;
    let deleteBytes = 0;
    let deletedRows = 0;
    const points: HistoryPoint[] = [];

    for (let upload = 1; upload <= histories[histories.length - 1]; upload++) {
      let lines: readonly string[] = registry;
      if (upload > 1) {
        const update = updateRegistry(registry, upload, seed);
        lines = update.lines;
        updates.moved += update.moved;
        updates.renewed += update.renewed;
        updates.added += update.added;
      }
      const provenance = uploadProvenance(upload);
      const stagedFile = join(dir, `staged-${upload}.jsonl`);
      stagedBytesByUpload.push(await stage(lines, provenance, stagedFile, window));
      // What the state machine passes: the staged object's s3:// URI, the staging table's "$path".
      // The staging table is a view of this one object (the MERGE reads no other), not a copy.
      const path = `s3://${BUCKET}/${DATA_PREFIXES.staging}${provenance.source_key}/${provenance.source_version}.jsonl`;
      await connection.run(
        `CREATE OR REPLACE VIEW ${staging} AS SELECT *, ${literal(path)} AS "$path" FROM read_json([${literal(stagedFile)}], ` +
          `format = 'newline_delimited', columns = {${jsonColumns}}, hive_partitioning = false)`,
      );
      await connection.run(merge, [path]);
      await connection.run(`DROP VIEW ${staging}`);
      rmSync(stagedFile);

      // The rows this commit wrote, in the order of the upload: its data file.
      await connection.run(
        `CREATE OR REPLACE TEMP TABLE written AS SELECT facility_id, row_number() OVER (ORDER BY source_line) - 1 AS pos ` +
          `FROM ${table} WHERE source_version = ${literal(provenance.source_version)}`,
      );
      const [{ count: writtenRows }] = await rows(connection, "SELECT count(*) AS count FROM written");
      if (Number(writtenRows) !== lines.length) {
        throw new Error(`the MERGE of upload ${upload} wrote ${writtenRows} rows, expected ${lines.length}`);
      }
      const [{ count: replaced }] = await rows(
        connection,
        "SELECT count(*) AS count FROM layout JOIN written USING (facility_id)",
      );
      if (Number(replaced) > 0) {
        const deletes = await writeParquet(
          connection,
          `SELECT ${literal(`s3://${BUCKET}/${DATA_PREFIXES.current}data/`)} || printf('%05d', l.file_no) || ` +
            `'-0-5f0c8e1a-93a4-4d2e-bb54-7c1e2a9d3f60-00001.parquet' AS file_path, l.pos ` +
            `FROM layout AS l JOIN written AS w USING (facility_id) ORDER BY file_path, l.pos`,
          join(dir, `deletes-${upload}.parquet`),
        );
        deleteFiles++;
        deleteBytes += sum(Object.values(deletes.columns));
        deletedRows += Number(replaced);
      }
      const data = await writeParquet(
        connection,
        `SELECT * FROM ${table} WHERE source_version = ${literal(provenance.source_version)} ORDER BY source_line`,
        join(dir, `data-${upload}.parquet`),
      );
      dataFiles++;
      addColumns(dataColumns, data.columns);
      await connection.run(`INSERT OR REPLACE INTO layout SELECT facility_id, ${upload} AS file_no, pos FROM written`);

      if (!histories.includes(upload)) continue;
      // Compacted: the whole current table in one file, rows in the order the commits wrote them.
      const current = await writeParquet(
        connection,
        `SELECT * FROM ${table} ORDER BY event_time, sequencer, source_line`,
        join(dir, `current-${upload}.parquet`),
      );
      const sorted = await writeParquet(
        connection,
        `SELECT * FROM ${table} ORDER BY facility_id`,
        join(dir, `sorted-${upload}.parquet`),
      );
      const sortedQueries = perQuery(sorted.columns, queryColumns);
      const [check] = await rows(
        connection,
        `SELECT count(*) AS row_count, count(DISTINCT facility_id) AS ids, md5(string_agg(facility_id || '|' || ` +
          `location.state || '|' || array_to_string(list_transform(accreditations, lambda a: a.valid_until), ','), ` +
          `chr(10) ORDER BY facility_id)) AS digest FROM ${table}`,
      );
      const pileBytes = sum(stagedBytesByUpload);
      const compactedQueries = perQuery(current.columns, queryColumns);
      const uncompactedQueries = perQuery(dataColumns, queryColumns, deleteBytes);
      const point: HistoryPoint = {
        uploads: upload,
        registryFacilities: registry.length,
        currentRows: Number(check.row_count),
        distinctFacilityIds: Number(check.ids),
        matchesRegistry: check.digest === registryDigest(registry),
        pile: {
          lastUploadBytes: stagedBytesByUpload[upload - 1],
          bytesPerQuery: pileBytes,
          bytesPerRun: QUERIES_PER_RUN * pileBytes,
          billedUsdPerRun: usdOfBilled(QUERIES_PER_RUN * billedBytes(pileBytes)),
        },
        compacted: {
          fileBytes: current.fileBytes,
          columns: current.columns,
          allColumnsBytes: sum(Object.values(current.columns)),
          bytesPerQuery: compactedQueries,
          bytesPerRun: sum(Object.values(compactedQueries)),
          billedUsdPerRun: billedUsd(compactedQueries),
        },
        sortedByFacilityId: { bytesPerQuery: sortedQueries, bytesPerRun: sum(Object.values(sortedQueries)) },
        uncompacted: {
          dataFiles,
          deleteFiles,
          deletedRows,
          dataColumns: { ...dataColumns },
          deleteBytes,
          bytesPerQuery: uncompactedQueries,
          bytesPerRun: sum(Object.values(uncompactedQueries)),
          billedUsdPerRun: billedUsd(uncompactedQueries),
        },
      };
      points.push(point);
      log(
        `scan growth: ${upload} upload(s), ${point.currentRows.toLocaleString("en-US")} facilities: pile ` +
          `${(point.pile.bytesPerRun / MIB).toFixed(1)} MB, Iceberg ${(point.compacted.bytesPerRun / MIB).toFixed(2)} MB ` +
          `(uncompacted ${(point.uncompacted.bytesPerRun / MIB).toFixed(2)} MB) per run`,
      );
    }
    return {
      facilities,
      seed,
      queryColumns,
      stagedBytesByUpload,
      updates,
      points,
      elapsedMs: performance.now() - started,
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The section

const mb = (bytes: number, digits = 1) =>
  (bytes / MIB).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const times = (value: number, base: number) => `x${(value / base).toFixed(2)}`;
const usd = (value: number) => (value >= 1 ? `$${value.toFixed(2)}` : `$${value.toPrecision(2)}`);

export interface ScanGrowthSizes {
  readonly facilities: number;
  readonly histories: readonly number[];
}

export async function runScanGrowthBenchmark(context: BenchContext, sizes: ScanGrowthSizes): Promise<SectionResult> {
  const { facilities, histories } = sizes;
  context.log(
    `scan growth: ${histories[histories.length - 1]} uploads of ${facilitiesLabel(facilities)} facilities through staging and the MERGE`,
  );
  const result = await measureScanGrowth({
    facilities,
    histories,
    seed: context.settings.seed,
    workDir: context.workDir,
    asOf: context.settings.asOf,
    windowMonths: context.settings.windowMonths,
    log: context.log,
  });
  const { points, queryColumns } = result;
  const first = points[0];
  const last = points[points.length - 1];
  const broken = points.filter(
    (p) => !p.matchesRegistry || p.currentRows !== p.registryFacilities || p.distinctFacilityIds !== p.currentRows,
  );
  if (broken.length > 0) {
    throw new Error(
      `the current table does not hold the latest record of each facility after ${broken.map((p) => p.uploads).join(", ")} upload(s)`,
    );
  }

  const growth = last.compacted.bytesPerRun / first.compacted.bytesPerRun;
  const perFacility = (p: HistoryPoint) => p.compacted.bytesPerRun / p.currentRows;
  const target: TargetCheck = {
    target: `Iceberg scan per run after ${last.uploads} uploads <= ${GROWTH_TARGET_FACTOR}x after 1 (compacted)`,
    measured:
      `x${growth.toFixed(2)} (${mb(first.compacted.bytesPerRun, 2)} -> ${mb(last.compacted.bytesPerRun, 2)} MB; ` +
      `per facility x${(perFacility(last) / perFacility(first)).toFixed(2)}); JSON pile x${(last.pile.bytesPerRun / first.pile.bytesPerRun).toFixed(2)}`,
    met: context.settings.quick ? undefined : growth <= GROWTH_TARGET_FACTOR,
    cause:
      growth > GROWTH_TARGET_FACTOR
        ? `the registry grew from ${first.currentRows.toLocaleString("en-US")} to ${last.currentRows.toLocaleString("en-US")} facilities; per facility the scan grew x${(perFacility(last) / perFacility(first)).toFixed(2)}`
        : undefined,
  };
  const columnList = (id: WorkflowQueryId) => queryColumns[id].join(", ");
  const idBytesPerRow = (p: HistoryPoint) => (p.compacted.columns.facility_id ?? 0) / p.currentRows;
  const grown = last.compacted.bytesPerRun - first.compacted.bytesPerRun;
  const idReaders = WORKFLOW_QUERIES.filter((query) => queryColumns[query.id].includes("facility_id")).length;
  const idGrown = idReaders * ((last.compacted.columns.facility_id ?? 0) - (first.compacted.columns.facility_id ?? 0));
  const idShare = grown > 0 ? `${Math.round((100 * idGrown) / grown)}%` : "none";
  const floor = points.every((p) => Object.values(p.compacted.bytesPerQuery).every((b) => b < ATHENA_MINIMUM_BYTES));
  const { moved, renewed, added } = result.updates;

  return {
    id: "scanGrowth",
    title: `6. Bytes Athena scans per run as history grows: ${facilitiesLabel(facilities)} facilities, each upload after the first a ${UPDATE_SHARE * 100}% update (2 queries per run)`,
    tables: [
      {
        header: [
          "uploads",
          "facilities",
          "JSON pile MB / run",
          "vs 1",
          "Iceberg MB / run",
          "vs 1",
          "uncompacted MB / run",
          "vs 1",
          "billed / run: pile",
          "Iceberg",
          "uncompacted",
        ],
        rows: points.map((p) => [
          String(p.uploads),
          p.currentRows.toLocaleString("en-US"),
          mb(p.pile.bytesPerRun),
          times(p.pile.bytesPerRun, first.pile.bytesPerRun),
          mb(p.compacted.bytesPerRun, 2),
          times(p.compacted.bytesPerRun, first.compacted.bytesPerRun),
          mb(p.uncompacted.bytesPerRun, 2),
          times(p.uncompacted.bytesPerRun, first.uncompacted.bytesPerRun),
          usd(p.pile.billedUsdPerRun),
          usd(p.compacted.billedUsdPerRun),
          usd(p.uncompacted.billedUsdPerRun),
        ]),
      },
      {
        header: [
          "uploads",
          "Iceberg (compacted): state counts MB",
          "facility summary MB",
          "sum MB / run",
          "whole table MB",
          "sorted by facility_id MB / run",
          "staged upload MB",
        ],
        rows: points.map((p) => [
          String(p.uploads),
          mb(p.compacted.bytesPerQuery.stateCounts, 2),
          mb(p.compacted.bytesPerQuery.facilitySummary, 2),
          mb(p.compacted.bytesPerRun, 2),
          mb(p.compacted.allColumnsBytes, 2),
          mb(p.sortedByFacilityId.bytesPerRun, 2),
          mb(p.pile.lastUploadBytes, 2),
        ]),
      },
      {
        header: [
          "uploads",
          "uncompacted: data files",
          "delete files",
          "rows deleted",
          "delete files MB",
          "state counts MB",
          "facility summary MB",
          "sum MB / run",
        ],
        rows: points.map((p) => [
          String(p.uploads),
          String(p.uncompacted.dataFiles),
          String(p.uncompacted.deleteFiles),
          p.uncompacted.deletedRows.toLocaleString("en-US"),
          mb(p.uncompacted.deleteBytes, 2),
          mb(p.uncompacted.bytesPerQuery.stateCounts, 2),
          mb(p.uncompacted.bytesPerQuery.facilitySummary, 2),
          mb(p.uncompacted.bytesPerRun, 2),
        ]),
      },
    ],
    notes: [
      `Uploads: the first is ${facilitiesLabel(facilities)} generated facilities (bench/lib/generator.ts, seed ${result.seed}, all valid); each later one carries ${UPDATE_SHARE * 100}% of the registry as it stands: ${UPDATE_MIX.added * 100}% of its records new facilities (new ids), the rest moved to another state or with their earliest accreditation renewed by ${RENEWAL_YEARS} years (over ${last.uploads - 1} updates: ${moved.toLocaleString("en-US")} moves, ${renewed.toLocaleString("en-US")} renewals, ${added.toLocaleString("en-US")} new).`,
      `JSON pile: each upload staged by the filter-expiring core (canonical JSON Lines with provenance, the bytes the Lambda writes); the JSON SerDe reads every byte of every upload, so a query scans their sum and a run ${QUERIES_PER_RUN} times that.`,
      `Iceberg: the current table kept by sql/${MERGE_QUERY}.sql run verbatim in DuckDB (latest upload wins per facility_id; checked after each measured history: one row per facility_id, each with its latest state and accreditation dates), written by DuckDB COPY (FORMAT parquet, COMPRESSION zstd). A query is billed sum(total_compressed_size) over parquet_metadata's column chunks of the top-level columns its SQL names: state counts ${columnList("stateCounts")}; facility summary ${columnList("facilitySummary")}.`,
      "Nested columns: every leaf under a named top-level column counts (location.* for location.state; all three accreditation fields): an upper bound, as Trino can also prune struct fields. Parquet footers and Iceberg metadata (manifests) are not counted; they are KBs.",
      `Compacted: the current table as one file, as OPTIMIZE (run on a schedule) leaves it, rows in commit order (roughly what bin-packing the commits' files gives). Uncompacted: if OPTIMIZE never runs, Athena's MERGE (merge-on-read) adds per commit a data file of the rows it wrote and a position delete file (file_path, pos) of the rows they replace; a query reads the named columns of every data file and all of every delete file. After ${last.uploads} uploads: ${last.uncompacted.dataFiles} data files, ${last.uncompacted.deleteFiles} delete files (${mb(last.uncompacted.deleteBytes, 2)} MB), x${(last.uncompacted.bytesPerRun / last.compacted.bytesPerRun).toFixed(2)} the compacted scan.`,
      `Growth of the compacted scan, x${growth.toFixed(2)}: the registry grew x${(last.currentRows / first.currentRows).toFixed(2)} (new ids), and per facility x${(perFacility(last) / perFacility(first)).toFixed(2)}; facility_id (read by ${idReaders} of the queries) accounts for ${idShare} of the growth: ${idBytesPerRow(first).toFixed(1)} -> ${idBytesPerRow(last).toFixed(1)} bytes per row, as commits move updated rows out of id order. Sorted by facility_id (as a table sort order would write it; nothing in the pipeline sets one) the growth is x${(last.sortedByFacilityId.bytesPerRun / first.sortedByFacilityId.bytesPerRun).toFixed(2)}.`,
      `Billed: each query rounded up to the MB with Athena's 10 MB minimum, $${ATHENA_USD_PER_TB} per TB (athena-cost.ts)${floor ? "; every compacted Iceberg query here is under the minimum, so its bill is the floor" : ""}. MB = 2^20 bytes.`,
      `Not in the table: the MERGE itself reads the upload's staged object (${mb(last.pile.lastUploadBytes, 2)} MB for a ${UPDATE_SHARE * 100}% update) and at most the whole current table (${mb(last.compacted.allColumnsBytes, 2)} MB compacted); that is flat in history as well.`,
      `DuckDB's Parquet writer stands in for Athena's (Trino's): encodings and row groups differ, so the absolute Parquet bytes are indicative and the ratios are the point. Measured in ${(result.elapsedMs / 1000).toFixed(1)} s.`,
    ],
    targets: [target],
    data: result,
  };
}
