/**
 * The local stand-in for Athena: runs the query text an Athena task sends, in DuckDB, and answers
 * as `athena:startQueryExecution.sync` does.
 *
 * Faithful where the pipeline can tell the difference:
 * - `<database>.facility_uploads`, the staging table, has the Glue table's columns (RECORD_COLUMNS
 *   from core/facility-schema.ts, never inferred) and holds every object under staging/facilities/
 *   in the (local) S3 bucket, brought up to date before each query that reads it. Shim: Athena's
 *   hidden column `"$path"` (the object's s3:// URI) is a real column here, so the same SQL text
 *   filters on it (DuckDB's read_json(filename = true) would give a local file name instead).
 * - `<database>.facilities`, the current-state table (an Iceberg table in AWS), is a DuckDB table
 *   in `catalogFile`, so it persists across runs with --state-dir; the MERGE text runs verbatim
 *   (DuckDB 1.5 has MERGE INTO), in a transaction: `commitConflict` rolls it back and fails it with
 *   ICEBERG_COMMIT_ERROR, as a concurrent commit makes Athena fail it.
 * - the result is written to the workgroup's output location as `<QueryExecutionId>.csv` in
 *   Athena's CSV format; a query that fails returns Status.State "FAILED" with a Trino-style
 *   reason instead of throwing. Trino's functions and syntax that DuckDB reads differently are
 *   bridged in ./duckdb-trino.ts.
 */
import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { crc32 } from "node:zlib";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { DuckDBInstance, type DuckDBConnection, type DuckDBResult } from "@duckdb/node-api";
import { CATALOG, DATA_PREFIXES } from "../core/data-layout";
import { isCalendarDate } from "../core/calendar-date";
import { RECORD_COLUMNS, toDuckDbType } from "../core/facility-schema";
export { readResultRows } from "../core/athena-csv";
import {
  TRINO_MACROS,
  TrinoQueryError,
  currentDateMacro,
  prepareTrinoQuery,
  renderTrinoValue,
  toTrinoError,
} from "./duckdb-trino";

export interface LocalAthenaOptions {
  /** Talks to the local S3 endpoint (s3rver) or any S3 API. */
  readonly s3: S3Client;
  /** The data bucket: the staging table reads `s3://<bucket>/staging/facilities/`. */
  readonly bucket: string;
  /** The only workgroup that exists locally; a query naming another one fails. */
  readonly workgroup: string;
  /** The Glue database holding the `facilities` and `facility_uploads` tables. */
  readonly database: string;
  /**
   * The DuckDB file holding the catalog (the current-state table), kept between runs.
   * @default - in memory, gone when closed
   */
  readonly catalogFile?: string;
  /** The workgroup's enforced result location, `s3://<bucket>/athena-results/`. */
  readonly outputLocation: string;
  /**
   * Scratch directory for each downloaded staged object (until it is loaded) and each result CSV
   * (until it is uploaded); the only directory SQL may read.
   */
  readonly workDir: string;
  /**
   * What `current_date` returns, YYYY-MM-DD: a fixed as-of date, or a function asked at the start
   * of each query.
   * @default - the UTC date when the query starts, as in Athena
   */
  readonly currentDate?: string | (() => string);
  /**
   * How long a ClientRequestToken returns the QueryExecution of its first request instead of
   * running the query again. Athena does not publish its window.
   * @default 900_000 (15 minutes)
   */
  readonly idempotencyWindowMillis?: number;
}

/** The Parameters of an `arn:aws:states:::athena:startQueryExecution.sync` task. */
export interface StartQueryExecutionInput {
  readonly QueryString: string;
  readonly QueryExecutionContext?: { readonly Database?: string; readonly Catalog?: string };
  readonly WorkGroup?: string;
  /** 32 to 128 characters; the same token returns the same QueryExecution. */
  readonly ClientRequestToken?: string;
  /** Ignored: the workgroup enforces its output location, as the deployed workgroup does. */
  readonly ResultConfiguration?: { readonly OutputLocation?: string };
  /**
   * Values for the query's `?` placeholders, in order, written as SQL literals as Athena takes
   * them: `'2026-11-26'` (a string), `6` (a number). Bound as a DuckDB prepared statement's values.
   */
  readonly ExecutionParameters?: readonly string[];
}

/** What a caller pins for one query, beyond what Athena's request carries. */
export interface LocalQueryOptions {
  /** What `current_date` returns (YYYY-MM-DD). @default - the `currentDate` option of LocalAthena */
  readonly currentDate?: string;
  /**
   * Fail a statement that writes (MERGE) at its commit, as Iceberg fails the loser of two
   * concurrent commits: the changes are rolled back and the query FAILS with ICEBERG_COMMIT_ERROR.
   * @default false
   */
  readonly commitConflict?: boolean;
}

/**
 * Athena's QueryExecution (GetQueryExecution), as the Step Functions .sync integration returns it:
 * timestamps are epoch milliseconds.
 */
export interface QueryExecution {
  readonly QueryExecutionId: string;
  readonly Query: string;
  readonly StatementType: "DML";
  /** SELECT, or MERGE for a MERGE INTO. */
  readonly SubstatementType: "SELECT" | "MERGE" | "OPTIMIZE" | "VACUUM";
  readonly ResultConfiguration: { readonly OutputLocation: string };
  readonly QueryExecutionContext: { readonly Database: string; readonly Catalog: string };
  readonly Status: {
    readonly State: "SUCCEEDED" | "FAILED";
    readonly SubmissionDateTime: number;
    readonly CompletionDateTime: number;
    readonly StateChangeReason?: string;
    readonly AthenaError?: {
      /** 1 system, 2 user, 3 other. */
      readonly ErrorCategory: number;
      /** 1000 user error, 1001 data error (Athena's error catalog). */
      readonly ErrorType: number;
      readonly Retryable: boolean;
      readonly ErrorMessage: string;
    };
  };
  readonly Statistics: {
    readonly EngineExecutionTimeInMillis: number;
    /**
     * The sizes of the staged objects read (only the one a `"$path" = '...'` filter names); the
     * current table is not counted (it is Parquet in AWS: see the scan-growth benchmark).
     */
    readonly DataScannedInBytes: number;
    readonly TotalExecutionTimeInMillis: number;
    readonly QueryQueueTimeInMillis: number;
    readonly ServiceProcessingTimeInMillis: number;
    readonly ResultReuseInformation: { readonly ReusedPreviousResult: boolean };
  };
  readonly WorkGroup: string;
  readonly EngineVersion: { readonly SelectedEngineVersion: string; readonly EffectiveEngineVersion: string };
}

/**
 * One of Athena's ExecutionParameters, a SQL literal, as the value DuckDB binds: `'it''s'` is the
 * string it's, `6` and `-1.5` are numbers. Anything else fails the query, as Athena fails it.
 */
export function parseExecutionParameter(literal: string): string | number {
  const text = literal.trim();
  const quoted = /^'((?:[^']|'')*)'$/.exec(text);
  if (quoted) return quoted[1].replaceAll("''", "'");
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  throw new TrinoQueryError(
    "INVALID_PARAMETER_USAGE",
    `Execution parameter ${JSON.stringify(literal)} is not a SQL literal: quote a string ('2026-11-26') or write a number (6)`,
  );
}

/** A row of a query result: column name to value, null for SQL NULL. */
export type { ResultRow } from "../core/athena-csv";

export class LocalAthenaConfigError extends Error {
  override readonly name = "LocalAthenaConfigError";
}

const ENGINE_VERSION = "Athena engine version 3";
/** The catalog Athena's Glue tables live in, attached in DuckDB under this name. */
const CATALOG_NAME = "awsdatacatalog";
const DEFAULT_IDEMPOTENCY_WINDOW_MILLIS = 15 * 60 * 1000;

interface Engine {
  readonly instance: DuckDBInstance;
  readonly connection: DuckDBConnection;
}

interface StagedObject {
  readonly key: string;
  readonly etag: string;
  readonly size: number;
}

interface TokenEntry {
  readonly request: string;
  readonly at: number;
  readonly execution: Promise<QueryExecution>;
}

/**
 * Athena on this machine. One DuckDB database in memory; queries run one at a time (a Parallel
 * state's two queries queue, and QueryQueueTimeInMillis says for how long).
 */
export class LocalAthena {
  private readonly output: { readonly bucket: string; readonly prefix: string };
  private readonly workDir: string;
  private readonly database: string;
  private engineStarted?: Promise<Engine>;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly tokens = new Map<string, TokenEntry>();
  /** The staged objects loaded into the staging table, by key. */
  private loaded = new Map<string, StagedObject>();
  private closed = false;

  constructor(private readonly options: LocalAthenaOptions) {
    const problems: string[] = [];
    const output = /^s3:\/\/([^/]+)\/(.*)$/.exec(options.outputLocation);
    if (!output) problems.push(`outputLocation must be s3://<bucket>/<prefix>/ (received "${options.outputLocation}")`);
    for (const name of ["bucket", "workgroup", "database", "workDir"] as const) {
      if (!options[name]) problems.push(`${name} must not be empty`);
    }
    if (typeof options.currentDate === "string" && !isCalendarDate(options.currentDate)) {
      problems.push(`currentDate must be a date written YYYY-MM-DD (received "${options.currentDate}")`);
    }
    if (problems.length > 0)
      throw new LocalAthenaConfigError(`Invalid LocalAthena options:\n  - ${problems.join("\n  - ")}`);
    const prefix = output![2];
    this.output = { bucket: output![1], prefix: prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/` };
    this.workDir = resolve(options.workDir);
    this.database = options.database.toLowerCase();
  }

  /**
   * Runs a query to completion and returns what the `.sync` integration returns. A query that
   * fails (syntax, unknown column or table, unknown workgroup or database, bad data, a
   * ClientRequestToken reused for another query) returns State "FAILED"; only infrastructure
   * errors (S3 unreachable, the scratch directory unwritable) throw.
   */
  async startQueryExecutionSync(
    input: StartQueryExecutionInput,
    options: LocalQueryOptions = {},
  ): Promise<{ QueryExecution: QueryExecution }> {
    if (this.closed) throw new Error("LocalAthena is closed");
    const submitted = Date.now();
    if (typeof input.QueryString !== "string" || input.QueryString.trim() === "") {
      return {
        QueryExecution: this.failed(
          { ...input, QueryString: input.QueryString ?? "" },
          randomUUID(),
          submitted,
          "InvalidRequestException: QueryString must be a non-empty string",
        ),
      };
    }
    const token = input.ClientRequestToken;
    if (token === undefined) return { QueryExecution: await this.enqueue(input, submitted, options) };

    if (token.length < 32 || token.length > 128) {
      return {
        QueryExecution: this.failed(
          input,
          randomUUID(),
          submitted,
          `InvalidRequestException: ClientRequestToken must be 32 to 128 characters long (received ${token.length})`,
        ),
      };
    }
    const request = JSON.stringify([
      input.QueryString,
      input.QueryExecutionContext?.Database,
      input.WorkGroup,
      input.ExecutionParameters ?? [],
    ]);
    const window = this.options.idempotencyWindowMillis ?? DEFAULT_IDEMPOTENCY_WINDOW_MILLIS;
    for (const [known, entry] of this.tokens) {
      if (submitted - entry.at >= window) this.tokens.delete(known);
    }
    const previous = this.tokens.get(token);
    if (previous) {
      if (previous.request !== request) {
        return {
          QueryExecution: this.failed(
            input,
            randomUUID(),
            submitted,
            "InvalidRequestException: Idempotent parameters do not match: the ClientRequestToken was used for another query",
          ),
        };
      }
      return { QueryExecution: structuredClone(await previous.execution) };
    }
    const execution = this.enqueue(input, submitted, options);
    this.tokens.set(token, { request, at: submitted, execution });
    // A request that never reached the engine (S3 unreachable) does not use up its token.
    execution.catch(() => this.tokens.get(token)?.execution === execution && this.tokens.delete(token));
    return { QueryExecution: structuredClone(await execution) };
  }

  /** Waits for the queries under way, then releases DuckDB. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => undefined);
    if (this.engineStarted) {
      const engine = await this.engineStarted.catch(() => undefined);
      engine?.connection.closeSync();
      engine?.instance.closeSync();
    }
  }

  private enqueue(
    input: StartQueryExecutionInput,
    submitted: number,
    options: LocalQueryOptions,
  ): Promise<QueryExecution> {
    const run = this.queue.then(() => this.execute(input, submitted, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async execute(
    input: StartQueryExecutionInput,
    submitted: number,
    options: LocalQueryOptions,
  ): Promise<QueryExecution> {
    const id = randomUUID();
    const started = Date.now();
    const workgroup = input.WorkGroup ?? "primary";
    if (workgroup !== this.options.workgroup) {
      return this.failed(input, id, submitted, `InvalidRequestException: WorkGroup ${workgroup} is not found.`);
    }
    const database = (input.QueryExecutionContext?.Database ?? "default").toLowerCase();
    const today = this.currentDate(options.currentDate);
    let parameters: (string | number)[];
    try {
      parameters = (input.ExecutionParameters ?? []).map(parseExecutionParameter);
    } catch (error) {
      return this.failed(input, id, submitted, toTrinoError(error).reason, started);
    }
    const { connection } = await this.engine();
    const resultFile = join(this.workDir, "results", `${id}.csv`);
    try {
      let written: { scanned: number; checksum: number };
      try {
        written = await this.runToFile(
          connection,
          input.QueryString,
          parameters,
          database,
          today,
          resultFile,
          options.commitConflict === true,
        );
      } catch (error) {
        if (isInfrastructureError(error)) throw error;
        return this.failed(input, id, submitted, toTrinoError(error).reason, started);
      }
      const engineFinished = Date.now();
      await this.uploadResult(resultFile, `${this.output.prefix}${id}.csv`, written.checksum);
      return this.queryExecution(input, id, submitted, started, {
        State: "SUCCEEDED",
        engineMillis: engineFinished - started,
        scanned: written.scanned,
      });
    } finally {
      await rm(resultFile, { force: true });
    }
  }

  /** Runs a query in DuckDB and writes its result CSV to `file`; returns the bytes scanned and the file's CRC32. */
  private async runToFile(
    connection: DuckDBConnection,
    query: string,
    parameters: readonly (string | number)[],
    database: string,
    today: string,
    file: string,
    commitConflict: boolean,
  ): Promise<{ scanned: number; checksum: number }> {
    const upkeep = upkeepStatementOf(query);
    if (upkeep !== undefined) return this.runUpkeep(connection, upkeep, database, file);
    const merge = isMerge(query);
    // DuckDB's parser serializes only SELECT statements: a MERGE runs verbatim (it needs no rewrite).
    const prepared = merge ? { sql: query, tables: mergeTables(query) } : await prepareTrinoQuery(connection, query);
    const stagingNames = this.tableNames(CATALOG.stagingTable, database);
    const readsStaging = prepared.tables.some((table) => stagingNames.has(table));
    // A query that names one staged object by "$path" reads that object only, as Athena does.
    const onlyPath = readsStaging ? stagedPathOf(query, this.options.bucket) : undefined;
    const staged = readsStaging ? await this.refreshStaging(connection, onlyPath) : new Map<string, StagedObject>();
    try {
      await connection.run(`USE ${CATALOG_NAME}.${identifier(database)}`);
    } catch {
      throw new TrinoQueryError("SCHEMA_NOT_FOUND", `Schema '${database}' does not exist`);
    }
    await connection.run(currentDateMacro(today));
    const run = () =>
      parameters.length > 0 ? connection.run(prepared.sql, [...parameters]) : connection.run(prepared.sql);
    // Materialized in DuckDB (compact, native), then read out a chunk at a time: a streaming result
    // (connection.stream) that fails halfway ends as an exhausted one does (duckdb_fetch_chunk returns
    // NULL for both, and @duckdb/node-api does not expose duckdb_result_error), so a query failing
    // on row 50,000 would become a SUCCEEDED result of the rows before it.
    let rows: DuckDBResult;
    if (merge) {
      await connection.run("BEGIN TRANSACTION");
      try {
        rows = await run();
        if (commitConflict) {
          throw new TrinoQueryError(
            "ICEBERG_COMMIT_ERROR",
            `Failed to commit Iceberg update to table: ${database}.${CATALOG.currentTable}: ` +
              "Cannot commit: the table was updated by another commit (injected locally)",
          );
        }
        await connection.run("COMMIT");
      } catch (error) {
        await connection.run("ROLLBACK");
        throw error;
      }
    } else {
      rows = await run();
    }
    await mkdir(dirname(file), { recursive: true });
    const scannedObjects =
      onlyPath === undefined ? [...staged.values()] : [onlyPath === null ? undefined : staged.get(onlyPath)];
    const scanned = scannedObjects.reduce((sum, object) => sum + (object?.size ?? 0), 0);
    return { scanned, checksum: await writeAthenaCsv(rows, file) };
  }

  /**
   * Shim: Athena's Iceberg upkeep (OPTIMIZE ... REWRITE DATA USING BIN_PACK, VACUUM) has nothing
   * to compact or expire in a DuckDB table. The table must exist, as in Athena; OPTIMIZE then
   * checkpoints the catalog file (DuckDB's own compaction of its write-ahead log), VACUUM does
   * nothing. Both succeed with an empty result, as Athena's do.
   */
  private async runUpkeep(
    connection: DuckDBConnection,
    upkeep: { readonly statement: "OPTIMIZE" | "VACUUM"; readonly table: string },
    database: string,
    file: string,
  ): Promise<{ scanned: number; checksum: number }> {
    if (!this.tableNames(CATALOG.currentTable, database).has(upkeep.table)) {
      throw new TrinoQueryError(
        "TABLE_NOT_FOUND",
        `Table '${database}.${upkeep.table}' does not exist or is not an Iceberg table`,
      );
    }
    if (upkeep.statement === "OPTIMIZE") await connection.run(`CHECKPOINT ${CATALOG_NAME}`);
    await mkdir(dirname(file), { recursive: true });
    await pipeline([], createWriteStream(file));
    return { scanned: 0, checksum: 0 };
  }

  /** How a query may name a table of this catalog: `t`, `db.t` and `awsdatacatalog.db.t`. */
  private tableNames(table: string, database: string): Set<string> {
    return new Set([
      `${this.database}.${table}`,
      `${CATALOG_NAME}.${this.database}.${table}`,
      ...(database === this.database ? [table] : []),
    ]);
  }

  /**
   * PutObject of a result file, streamed from disk with its length and CRC32 given. With its
   * checksum supplied, the SDK sends the bytes as they are, never in aws-chunked framing (which
   * s3rver would store verbatim), whatever the client's requestChecksumCalculation. The SDK does
   * not retry a streamed body; a failed upload throws, as S3 being unreachable does.
   */
  private async uploadResult(file: string, key: string, checksum: number): Promise<void> {
    const { size } = await stat(file);
    const body = createReadStream(file);
    try {
      await this.options.s3.send(
        new PutObjectCommand({
          Bucket: this.output.bucket,
          Key: key,
          Body: body,
          ContentLength: size,
          ContentType: "text/csv",
          ChecksumCRC32: crc32Base64(checksum),
        }),
      );
    } finally {
      body.destroy();
    }
  }

  private currentDate(pinned?: string): string {
    const configured = pinned ?? this.options.currentDate;
    const date =
      (typeof configured === "function" ? configured() : configured) ?? new Date().toISOString().slice(0, 10);
    if (!isCalendarDate(date)) {
      throw new LocalAthenaConfigError(`currentDate must return a date written YYYY-MM-DD (received "${date}")`);
    }
    return date;
  }

  /**
   * Makes the staging table match the staged objects now in S3: loads each new or changed object
   * (by ETag) and drops the rows of objects no longer there. Staged objects are immutable (one per
   * source object version), so a query usually loads only the upload just staged. With `onlyKey`
   * (a query filtered on one "$path"), only that object is loaded, if it exists (null: none is).
   * Returns what is staged, by key.
   */
  private async refreshStaging(
    connection: DuckDBConnection,
    onlyKey?: string | null,
  ): Promise<Map<string, StagedObject>> {
    const listed = await this.listStagedObjects();
    const table = `${CATALOG_NAME}.${identifier(this.database)}.${identifier(CATALOG.stagingTable)}`;
    const path = identifier(STAGED_PATH_COLUMN);
    for (const [key, object] of this.loaded) {
      if (listed.get(key)?.etag !== object.etag) {
        await connection.run(`DELETE FROM ${table} WHERE ${path} = ${literal(this.uriOf(key))}`);
        this.loaded.delete(key);
      }
    }
    const objectsDir = join(this.workDir, "staging");
    for (const object of listed.values()) {
      if (this.loaded.has(object.key) || (onlyKey !== undefined && object.key !== onlyKey)) continue;
      await mkdir(objectsDir, { recursive: true });
      const file = join(objectsDir, `${randomUUID()}.jsonl`);
      try {
        const body = await this.options.s3.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: object.key }));
        await pipeline(body.Body as Readable, createWriteStream(file));
        const columns = RECORD_COLUMNS.map((c) => `${literal(c.name)}: ${literal(toDuckDbType(c.type))}`).join(", ");
        try {
          await connection.run(
            `INSERT INTO ${table} SELECT *, ${literal(this.uriOf(object.key))} FROM read_json([${literal(file)}], ` +
              `format = 'newline_delimited', columns = {${columns}}, hive_partitioning = false)`,
          );
        } catch (error) {
          // Name the S3 object, not the scratch file, as Athena would.
          const message = toTrinoError(error).message.replaceAll(file, this.uriOf(object.key));
          throw new TrinoQueryError("HIVE_BAD_DATA", message);
        }
      } finally {
        await rm(file, { force: true });
      }
      this.loaded.set(object.key, object);
    }
    return listed;
  }

  private uriOf(key: string): string {
    return `s3://${this.options.bucket}/${key}`;
  }

  /**
   * Every object under staging/facilities/, by key, except what Athena skips as well: "folder"
   * markers and hidden files (a path segment starting with "_" or ".", e.g. _SUCCESS).
   */
  private async listStagedObjects(): Promise<Map<string, StagedObject>> {
    const objects = new Map<string, StagedObject>();
    let ContinuationToken: string | undefined;
    do {
      const page = await this.options.s3.send(
        new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: DATA_PREFIXES.staging, ContinuationToken }),
      );
      for (const object of page.Contents ?? []) {
        const relative = object.Key!.slice(DATA_PREFIXES.staging.length);
        if (relative === "" || relative.endsWith("/")) continue;
        if (relative.split("/").some((segment) => segment.startsWith("_") || segment.startsWith("."))) continue;
        objects.set(object.Key!, { key: object.Key!, etag: object.ETag ?? "", size: object.Size ?? 0 });
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return objects;
  }

  private engine(): Promise<Engine> {
    this.engineStarted ??= (async () => {
      await mkdir(this.workDir, { recursive: true });
      const instance = await DuckDBInstance.create(":memory:");
      const connection = await instance.connect();
      const schema = `${CATALOG_NAME}.${identifier(this.database)}`;
      const setup = [
        // Athena's session time zone.
        "SET TimeZone = 'UTC'",
        `ATTACH ${literal(this.options.catalogFile ?? ":memory:")} AS ${CATALOG_NAME}`,
        // "default" exists in every Glue catalog; with it as the context, `facilities` is unknown.
        ...[...new Set(["default", this.database])].map(
          (db) => `CREATE SCHEMA IF NOT EXISTS ${CATALOG_NAME}.${identifier(db)}`,
        ),
        // The current table exists from deployment on (Terraform creates it), empty until the first MERGE.
        `CREATE TABLE IF NOT EXISTS ${schema}.${identifier(CATALOG.currentTable)} (${tableColumns()})`,
        // Rebuilt from the staged objects in S3, which are the truth, by the first query that reads it.
        `CREATE OR REPLACE TABLE ${schema}.${identifier(CATALOG.stagingTable)} (${tableColumns()}, ${identifier(STAGED_PATH_COLUMN)} VARCHAR)`,
        ...TRINO_MACROS,
        // SQL reads nothing but the downloaded objects, and nothing is fetched from the network.
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        `SET allowed_directories = [${literal(this.workDir + sep)}]`,
        "SET enable_external_access = false",
      ];
      for (const statement of setup) await connection.run(statement);
      return { instance, connection };
    })();
    return this.engineStarted;
  }

  private failed(
    input: StartQueryExecutionInput,
    id: string,
    submitted: number,
    reason: string,
    started = Date.now(),
  ): QueryExecution {
    return this.queryExecution(input, id, submitted, started, { State: "FAILED", reason });
  }

  private queryExecution(
    input: StartQueryExecutionInput,
    id: string,
    submitted: number,
    started: number,
    outcome: { State: "SUCCEEDED"; engineMillis: number; scanned: number } | { State: "FAILED"; reason: string },
  ): QueryExecution {
    const completed = Date.now();
    const failure =
      outcome.State === "FAILED"
        ? {
            StateChangeReason: outcome.reason,
            AthenaError: {
              ErrorCategory: 2,
              ErrorType: outcome.reason.startsWith("HIVE_BAD_DATA") ? 1001 : 1000,
              Retryable: false,
              ErrorMessage: outcome.reason,
            },
          }
        : {};
    return {
      QueryExecutionId: id,
      Query: input.QueryString,
      StatementType: "DML",
      SubstatementType:
        upkeepStatementOf(input.QueryString)?.statement ?? (isMerge(input.QueryString) ? "MERGE" : "SELECT"),
      ResultConfiguration: { OutputLocation: `s3://${this.output.bucket}/${this.output.prefix}${id}.csv` },
      QueryExecutionContext: {
        Database: input.QueryExecutionContext?.Database ?? "default",
        Catalog: "AwsDataCatalog",
      },
      Status: { State: outcome.State, SubmissionDateTime: submitted, CompletionDateTime: completed, ...failure },
      Statistics: {
        EngineExecutionTimeInMillis: outcome.State === "SUCCEEDED" ? outcome.engineMillis : completed - started,
        DataScannedInBytes: outcome.State === "SUCCEEDED" ? outcome.scanned : 0,
        TotalExecutionTimeInMillis: completed - submitted,
        QueryQueueTimeInMillis: started - submitted,
        ServiceProcessingTimeInMillis: outcome.State === "SUCCEEDED" ? completed - started - outcome.engineMillis : 0,
        ResultReuseInformation: { ReusedPreviousResult: false },
      },
      WorkGroup: input.WorkGroup ?? "primary",
      EngineVersion: { SelectedEngineVersion: ENGINE_VERSION, EffectiveEngineVersion: ENGINE_VERSION },
    };
  }
}

/**
 * One line of Athena's result CSV, its "\n" included. The CSV is a header line, then one line per
 * row; every value double-quoted with embedded quotes doubled, NULL as an empty unquoted field.
 */
function athenaCsvLine(values: readonly (string | null)[]): string {
  return `${values.map(athenaCsvField).join(",")}\n`;
}

const athenaCsvField = (value: string | null) => (value === null ? "" : `"${value.replaceAll('"', '""')}"`);

/**
 * Writes a DuckDB result to `file` as Athena's result CSV (see athenaCsvLine), rendering and
 * writing one chunk of rows (2,048) at a time; returns the CRC32 of the bytes written. A failure
 * rejects with the file left partial, for the caller to remove.
 */
export async function writeAthenaCsv(result: DuckDBResult, file: string): Promise<number> {
  const types = result.columnTypes();
  let checksum = 0;
  const encoded = (text: string) => {
    const bytes = Buffer.from(text, "utf8");
    checksum = crc32(bytes, checksum);
    return bytes;
  };
  async function* chunks(): AsyncGenerator<Buffer> {
    yield encoded(athenaCsvLine(result.columnNames()));
    for await (const chunk of result) {
      let text = "";
      for (const row of chunk.getRows())
        text += athenaCsvLine(row.map((value, i) => renderTrinoValue(value, types[i])));
      yield encoded(text);
    }
  }
  await pipeline(chunks(), createWriteStream(file));
  return checksum;
}

/** A CRC32 as S3's x-amz-checksum-crc32 header writes it: the 4 big-endian bytes in base64. */
function crc32Base64(checksum: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(checksum >>> 0);
  return bytes.toString("base64");
}

function tableColumns(): string {
  return RECORD_COLUMNS.map((column) => `${identifier(column.name)} ${toDuckDbType(column.type)}`).join(", ");
}

const identifier = (name: string) => `"${name.replaceAll('"', '""')}"`;
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** The staging table's stand-in for Athena's hidden `"$path"` column: the staged object's s3:// URI. */
const STAGED_PATH_COLUMN = "$path";

/** Whether a statement is a MERGE INTO, after any leading comments. */
/** An Iceberg upkeep statement (sql/optimize_current_state.sql, sql/vacuum_current_state.sql) and its table. */
function upkeepStatementOf(query: string): { statement: "OPTIMIZE" | "VACUUM"; table: string } | undefined {
  const code = query.replace(/--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\//g, " ").trim();
  const optimize = /^OPTIMIZE\s+([A-Za-z0-9_.]+)\s+REWRITE\s+DATA\s+USING\s+BIN_PACK$/i.exec(code);
  if (optimize !== null) return { statement: "OPTIMIZE", table: optimize[1] };
  const vacuum = /^VACUUM\s+([A-Za-z0-9_.]+)$/i.exec(code);
  return vacuum === null ? undefined : { statement: "VACUUM", table: vacuum[1] };
}

const isMerge = (query: string) => /^(?:\s|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*MERGE\s+INTO\b/i.test(query);

/** The tables a MERGE names: its target and the tables of its USING clause. */
function mergeTables(query: string): string[] {
  const names = [
    ...query.matchAll(/\b(?:INTO|FROM|JOIN)\s+((?:"[^"]+"|[A-Za-z_][\w]*)(?:\.(?:"[^"]+"|[A-Za-z_][\w]*))*)/gi),
  ];
  return names.map((match) => match[1].replaceAll('"', "").toLowerCase());
}

/**
 * What Athena bills a query for, as far as the staged objects go: the one object a
 * `"$path" = 's3://...'` filter names (Athena reads no other file), else every staged object.
 */
/**
 * The key of the one staged object a query names by `"$path" = '<uri>'` (a literal, bare or cast:
 * Athena folds the cast and reads that one file); null when the URI is outside the bucket (no
 * object matches); undefined when the query does not filter on "$path" (it reads every object).
 */
function stagedPathOf(query: string, bucket: string): string | null | undefined {
  const path = /"\$path"\s*=\s*(?:CAST\s*\(\s*)?'([^']*)'/i.exec(query)?.[1];
  if (path === undefined) return undefined;
  const prefix = `s3://${bucket}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : null;
}

/** Errors from S3 or the file system, as opposed to DuckDB's errors about the query or data. */
function isInfrastructureError(error: unknown): boolean {
  if (error instanceof TrinoQueryError || typeof error !== "object" || error === null) return false;
  const metadata = (error as { $metadata?: unknown }).$metadata;
  const code = (error as { code?: unknown }).code;
  return metadata !== undefined || (typeof code === "string" && /^E[A-Z]+$/.test(code));
}
