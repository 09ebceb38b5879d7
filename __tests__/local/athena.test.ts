import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { CATALOG, DATA_PREFIXES, LOCAL_DATABASE } from "../../core/data-layout";
import { RECORD_COLUMNS } from "../../core/facility-schema";
import { queryCode, readQuery } from "../../core/sql";
import { filterOutputKeys } from "../../lambdas/shared/output-keys";
import {
  LocalAthena,
  readResultRows,
  writeAthenaCsv,
  parseExecutionParameter,
  type LocalAthenaOptions,
  type LocalQueryOptions,
  type QueryExecution,
} from "../../local/athena";
import { prepareTrinoQuery, renderTrinoValue } from "../../local/duckdb-trino";
import { S3RVER_CREDENTIALS, startS3Endpoint, type S3Endpoint } from "../../local/s3-endpoint";

// Without these the SDK streams uploads with checksum framing, which s3rver stores verbatim.
process.env.AWS_REQUEST_CHECKSUM_CALCULATION = "WHEN_REQUIRED";
process.env.AWS_RESPONSE_CHECKSUM_VALIDATION = "WHEN_REQUIRED";

const SAMPLE_FILE = join(__dirname, "..", "..", "data", "extended_sample_facility_data.json");
/** The 10 facilities of the extended sample, as uploaded. */
const SAMPLE_RECORDS = readFileSync(SAMPLE_FILE, "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "")
  .map((line) => JSON.parse(line) as Record<string, unknown>);
const WORKGROUP = "hfap-local-facility-pipeline";
const BUCKETS = {
  sample: "sample-data",
  growing: "growing-data",
  changing: "changing-data",
  empty: "empty-data",
  broken: "broken-data",
  streamed: "streamed-data",
};

let scratch: string;
let endpoint: S3Endpoint;
let s3: S3Client;
const engines: LocalAthena[] = [];

/** One upload of a source object version, as the ingest Lambda stages it. */
interface Upload {
  /** The uploaded object's key, under raw/. */
  readonly source: string;
  readonly version: string;
  /** ISO 8601 UTC with milliseconds. */
  readonly eventTime: string;
  /** Written as the S3 event's sequencer: 32 hex digits. */
  readonly sequencer?: number;
  /** The facility records, in line order; `retired` defaults to false. */
  readonly records: readonly Record<string, unknown>[];
}

interface StagedObject {
  readonly key: string;
  /** s3://<bucket>/<key>: the staging table's "$path" of its rows. */
  readonly uri: string;
  readonly bytes: number;
}

const sequencerText = (sequencer: number) => sequencer.toString(16).toUpperCase().padStart(32, "0");

/** The staged object's JSON Lines: each record followed by its provenance, source_line from 1. */
function stagedBody(upload: Upload): string {
  const provenance = {
    source_key: upload.source,
    source_version: upload.version,
    event_time: upload.eventTime,
    sequencer: sequencerText(upload.sequencer ?? 1),
  };
  return upload.records
    .map((record, i) =>
      JSON.stringify({ ...record, ...provenance, source_line: i + 1, retired: record.retired ?? false }),
    )
    .map((line) => `${line}\n`)
    .join("");
}

/** Writes an upload's staged object where the ingest Lambda writes it (staging/facilities/...). */
async function stage(bucket: string, upload: Upload): Promise<StagedObject> {
  const key = filterOutputKeys(upload.source, { versionId: upload.version }).staging;
  const body = stagedBody(upload);
  await put(bucket, key, body);
  return { key, uri: `s3://${bucket}/${key}`, bytes: Buffer.byteLength(body) };
}

/** sql/merge_current_state.sql as the state machine sends it: on one line, its `?` an inlined literal. */
function mergeQuery(stagedUri: string): string {
  const [before, after, ...more] = queryCode("merge_current_state").split("?");
  if (after === undefined || more.length > 0) throw new Error("expected exactly one ? in merge_current_state.sql");
  return `${before}'${stagedUri.replaceAll("'", "''")}'${after}`;
}

const SAMPLE_UPLOAD: Upload = {
  source: `${DATA_PREFIXES.raw}extended_sample_facility_data.json`,
  version: "v1",
  eventTime: "2026-08-30T12:00:00.000Z",
  records: SAMPLE_RECORDS,
};
let sample: StagedObject;

function client(config: S3ClientConfig = {}): S3Client {
  return new S3Client({
    endpoint: endpoint.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    ...config,
  });
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "local-athena-test-"));
  endpoint = await startS3Endpoint({ buckets: Object.values(BUCKETS), directory: join(scratch, "s3") });
  s3 = client();
  sample = await stage(BUCKETS.sample, SAMPLE_UPLOAD);
});

afterAll(async () => {
  await Promise.all(engines.map((engine) => engine.close()));
  s3?.destroy();
  await endpoint?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function athenaFor(bucket: string, options: Partial<LocalAthenaOptions> = {}): LocalAthena {
  const engine = new LocalAthena({
    s3,
    bucket,
    workgroup: WORKGROUP,
    database: LOCAL_DATABASE,
    outputLocation: `s3://${bucket}/${DATA_PREFIXES.athenaResults}`,
    workDir: join(scratch, "work", bucket),
    currentDate: "2026-08-31",
    ...options,
  });
  engines.push(engine);
  return engine;
}

async function put(bucket: string, key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function run(
  athena: LocalAthena,
  query: string,
  database: string = LOCAL_DATABASE,
  parameters?: readonly string[],
  options?: LocalQueryOptions,
): Promise<QueryExecution> {
  const { QueryExecution } = await athena.startQueryExecutionSync(
    {
      QueryString: query,
      QueryExecutionContext: { Database: database },
      WorkGroup: WORKGROUP,
      ...(parameters && { ExecutionParameters: parameters }),
    },
    options,
  );
  return QueryExecution;
}

/** The as_of parameter of accredited_facilities_by_state.sql and facility_summary.sql. */
const AS_OF_2026_08_31 = ["'2026-08-31'"];
/** sql/expiring_accreditations.sql's parameters: as_of, window_months. */
const EXPIRING_AS_OF_2026_08_31 = ["'2026-08-31'", "6"];

/**
 * Athena's result CSV, written independently of local/athena.ts as an oracle: a header line, then
 * one line per row; every value double-quoted with embedded quotes doubled, NULL as an empty
 * unquoted field, each line ending in "\n".
 */
function formatAthenaCsv(columns: readonly string[], rows: readonly (readonly (string | null)[])[]): string {
  const line = (values: readonly (string | null)[]) =>
    `${values.map((value) => (value === null ? "" : `"${value.replaceAll('"', '""')}"`)).join(",")}\n`;
  return [columns, ...rows].map(line).join("");
}

/** The result CSV at the execution's OutputLocation. */
async function resultCsv(execution: QueryExecution): Promise<string> {
  expect(execution.Status).toMatchObject({ State: "SUCCEEDED" });
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(execution.ResultConfiguration.OutputLocation)!;
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString("utf8");
}

async function resultKeys(bucket: string): Promise<string[]> {
  const listing = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: DATA_PREFIXES.athenaResults }));
  return (listing.Contents ?? []).map((object) => object.Key!);
}

const RECORD_COLUMN_NAMES = RECORD_COLUMNS.map((column) => column.name);

/** A small valid facility record. */
const facility = (id: string, state: string, accredited: boolean, name = `Facility ${id}`) => ({
  facility_id: id,
  facility_name: name,
  location: { address: "1 Main St", city: "Austin", state, zip: "78701" },
  employee_count: 10,
  services: ["Primary Care"],
  labs: [],
  accreditations: accredited
    ? [{ accreditation_body: "COLA", accreditation_id: `COLA-${id}`, valid_until: "2027-01-01" }]
    : [],
});

describe("LocalAthena on the extended sample, merged into the current table (current_date pinned to 2026-08-31)", () => {
  let athena: LocalAthena;
  beforeAll(async () => {
    athena = athenaFor(BUCKETS.sample);
    const merged = await run(athena, mergeQuery(sample.uri));
    if (merged.Status.State !== "SUCCEEDED") throw new Error(`MERGE failed: ${merged.Status.StateChangeReason}`);
  });

  test("accredited_facilities_by_state: one per state, FL (no accreditation) absent, CA and GA expired", async () => {
    const execution = await run(athena, readQuery("accredited_facilities_by_state"), LOCAL_DATABASE, AS_OF_2026_08_31);
    expect(await resultCsv(execution)).toBe(
      [
        '"state","accredited_facility_count","currently_accredited_facility_count"',
        '"AZ","1","1"',
        '"CA","1","0"',
        '"CO","1","1"',
        '"GA","1","0"',
        '"IL","1","1"',
        '"MA","1","1"',
        '"OR","1","1"',
        '"TX","1","1"',
        '"WA","1","1"',
        "",
      ].join("\n"),
    );
    // The current table is Parquet in AWS: its reads are not counted here.
    expect(execution.Statistics.DataScannedInBytes).toBe(0);
  });

  test("facility_summary: 10 rows, NULL first accreditation for FAC-FL-0003 written as an empty field", async () => {
    const csv = await resultCsv(await run(athena, readQuery("facility_summary"), LOCAL_DATABASE, AS_OF_2026_08_31));
    expect(csv).toBe(
      [
        '"facility_id","facility_name","employee_count","number_of_services","first_accreditation_valid_until","next_accreditation_valid_until"',
        '"FAC-AZ-0005","Sonoran Desert Cancer Institute","620","4","2027-01-31","2027-01-31"',
        '"FAC-CA-0002","Pacific Crest Community Clinic","85","3","2025-09-30",',
        '"FAC-CO-0006","Front Range Behavioral Health","210","3","2027-08-15","2027-08-15"',
        '"FAC-FL-0003","Gulf Coast Urgent Care","42","3",,',
        '"FAC-GA-0010","Peachtree Rehabilitation Hospital","340","3","2025-12-31",',
        '"FAC-IL-0007","Lakeshore Women\'s and Children\'s Hospital","1850","4","2027-11-30","2027-11-30"',
        '"FAC-MA-0009","Bay State Diagnostic Laboratory","130","3","2027-02-28","2027-02-28"',
        '"FAC-OR-0004","Cascade Orthopedic Surgery Center","160","3","2027-10-31","2027-10-31"',
        '"FAC-TX-0001","Lone Star Regional Medical Center","2400","5","2027-03-31","2026-12-15"',
        '"FAC-WA-0008","Puget Sound Dialysis Center","64","3","2026-12-31","2026-12-31"',
        "",
      ].join("\n"),
    );
    const florida = readResultRows(csv).find((row) => row.facility_id === "FAC-FL-0003");
    expect(florida).toEqual({
      facility_id: "FAC-FL-0003",
      facility_name: "Gulf Coast Urgent Care",
      employee_count: "42",
      number_of_services: "3",
      first_accreditation_valid_until: null,
      next_accreditation_valid_until: null,
    });
  });

  test("expiring_accreditations: within 6 months of the as_of parameter, both ends inclusive", async () => {
    const rows = readResultRows(
      await resultCsv(
        await run(athena, readQuery("expiring_accreditations"), LOCAL_DATABASE, EXPIRING_AS_OF_2026_08_31),
      ),
    );
    expect(rows.map((row) => [row.facility_id, row.accreditation_id, row.valid_until, row.days_until_expiry])).toEqual([
      ["FAC-TX-0001", "CAP-7720145", "2026-12-15", "106"],
      ["FAC-WA-0008", "ACHC-88412", "2026-12-31", "122"],
      ["FAC-AZ-0005", "TJC-602214", "2027-01-31", "153"],
      // 2026-08-31 + 6 months is 2027-02-28 (month end clamped): the last day of the window.
      ["FAC-MA-0009", "CAP-9002173", "2027-02-28", "181"],
    ]);
    expect(rows[0]).toEqual({
      facility_id: "FAC-TX-0001",
      facility_name: "Lone Star Regional Medical Center",
      state: "TX",
      accreditation_body: "College of American Pathologists",
      accreditation_id: "CAP-7720145",
      valid_until: "2026-12-15",
      days_until_expiry: "106",
    });
  });

  test("the same expiring_accreditations text answers for any as_of, whatever current_date is", async () => {
    const later = readResultRows(
      await resultCsv(await run(athena, readQuery("expiring_accreditations"), LOCAL_DATABASE, ["'2027-01-01'", "1"])),
    );
    // current_date is pinned to 2026-08-31 here: the parameter, not the date, decides.
    expect(later.map((row) => [row.accreditation_id, row.days_until_expiry])).toEqual([["TJC-602214", "30"]]);
  });

  test("facility_history: the staged records of one facility, with their provenance", async () => {
    const execution = await run(athena, readQuery("facility_history"), LOCAL_DATABASE, ["'FAC-TX-0001'"]);
    expect(readResultRows(await resultCsv(execution))).toEqual([
      {
        source_key: "raw/extended_sample_facility_data.json",
        source_version: "v1",
        event_time: "2026-08-30T12:00:00.000Z",
        source_line: "1",
        retired: "false",
        facility_name: "Lone Star Regional Medical Center",
        state: "TX",
        accreditation_count: "2",
        changes: "first record",
      },
    ]);
    expect(execution.Statistics.DataScannedInBytes).toBe(sample.bytes);
  });

  test("facility_uploads has RECORD_COLUMNS then $path; facilities has RECORD_COLUMNS", async () => {
    const uploads = await run(athena, "SELECT * FROM facility_uploads LIMIT 0");
    expect(await resultCsv(uploads)).toBe(formatAthenaCsv([...RECORD_COLUMN_NAMES, "$path"], []));
    const current = await run(athena, "SELECT * FROM facilities LIMIT 0");
    expect(await resultCsv(current)).toBe(formatAthenaCsv(RECORD_COLUMN_NAMES, []));

    const provenance = "facility_id, source_key, source_version, event_time, sequencer, source_line, retired";
    const expected = {
      facility_id: "FAC-CA-0002",
      source_key: "raw/extended_sample_facility_data.json",
      source_version: "v1",
      event_time: "2026-08-30T12:00:00.000Z",
      sequencer: "00000000000000000000000000000001",
      source_line: "2",
      retired: "false",
    };
    const staged = await run(
      athena,
      `SELECT ${provenance}, "$path" FROM facility_uploads WHERE facility_id = 'FAC-CA-0002'`,
    );
    expect(readResultRows(await resultCsv(staged))).toEqual([{ ...expected, $path: sample.uri }]);
    const merged = await run(athena, `SELECT ${provenance} FROM facilities WHERE facility_id = 'FAC-CA-0002'`);
    expect(readResultRows(await resultCsv(merged))).toEqual([expected]);
  });

  test("a query pins current_date for itself (LocalQueryOptions), over the instance's currentDate", async () => {
    const query = "SELECT current_date AS today";
    expect(
      readResultRows(
        await resultCsv(await run(athena, query, LOCAL_DATABASE, undefined, { currentDate: "2030-05-01" })),
      ),
    ).toEqual([{ today: "2030-05-01" }]);
    expect(readResultRows(await resultCsv(await run(athena, query)))).toEqual([{ today: "2026-08-31" }]);
  });

  test("ExecutionParameters are SQL literals: strings quoted, numbers bare; anything else fails the query", async () => {
    expect(parseExecutionParameter("'it''s'")).toBe("it's");
    expect(parseExecutionParameter(" 6 ")).toBe(6);
    expect(parseExecutionParameter("-1.5")).toBe(-1.5);
    expect(() => parseExecutionParameter("2026-01-01")).toThrow(/not a SQL literal/);
    const failed = await run(athena, "SELECT CAST(? AS DATE) AS d", LOCAL_DATABASE, ["2026-01-01"]);
    expect(failed.Status.State).toBe("FAILED");
    expect(failed.Status.StateChangeReason).toMatch(/INVALID_PARAMETER_USAGE: .*not a SQL literal/);
    for (const name of ["expiring_accreditations", "facility_summary", "accredited_facilities_by_state"]) {
      const missing = await run(athena, readQuery(name));
      expect(missing.Status.State).toBe("FAILED");
    }
  });

  test("current_date follows a currentDate function, asked per query", async () => {
    let today = "2027-01-01";
    const moving = athenaFor(BUCKETS.sample, { currentDate: () => today, workDir: join(scratch, "work", "moving") });
    const query = "SELECT current_date AS today";
    expect(readResultRows(await resultCsv(await run(moving, query)))).toEqual([{ today: "2027-01-01" }]);
    today = "2027-06-30";
    expect(readResultRows(await resultCsv(await run(moving, query)))).toEqual([{ today: "2027-06-30" }]);
  });

  test("returns the QueryExecution shape of the .sync integration, with the CSV at its OutputLocation", async () => {
    const query = readQuery("accredited_facilities_by_state");
    const execution = await run(athena, query, LOCAL_DATABASE, AS_OF_2026_08_31);
    expect(execution.QueryExecutionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(execution).toMatchObject({
      Query: query,
      StatementType: "DML",
      SubstatementType: "SELECT",
      ResultConfiguration: {
        OutputLocation: `s3://${BUCKETS.sample}/athena-results/${execution.QueryExecutionId}.csv`,
      },
      QueryExecutionContext: { Database: LOCAL_DATABASE, Catalog: "AwsDataCatalog" },
      Status: { State: "SUCCEEDED" },
      Statistics: { DataScannedInBytes: 0 },
      WorkGroup: WORKGROUP,
      EngineVersion: { EffectiveEngineVersion: "Athena engine version 3" },
    });
    expect(execution.Status.StateChangeReason).toBeUndefined();
    expect(execution.Status.CompletionDateTime).toBeGreaterThanOrEqual(execution.Status.SubmissionDateTime);
    expect(execution.Statistics.TotalExecutionTimeInMillis).toBeGreaterThanOrEqual(
      execution.Statistics.EngineExecutionTimeInMillis,
    );
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: BUCKETS.sample, Key: `athena-results/${execution.QueryExecutionId}.csv` }),
    );
    expect(head.ContentLength).toBeGreaterThan(0);
    const csv = await resultCsv(execution);
    expect(head.ContentLength).toBe(Buffer.byteLength(csv, "utf8"));
    const rows = readResultRows(csv);
    expect(rows).toHaveLength(9);
    expect(Object.keys(rows[0])).toEqual(["state", "accredited_facility_count", "currently_accredited_facility_count"]);
  });

  test("CSV format: every value quoted, quotes doubled, '' quoted, NULL empty, arrays and rows as Trino prints them", async () => {
    const csv = await resultCsv(
      await run(
        athena,
        `SELECT 'say "hi", then go' AS quoted, '' AS empty_string, CAST(NULL AS VARCHAR) AS missing,
                employee_count, DATE '2026-01-05' AS day, services, location, 1.5E0 AS ratio, retired
         FROM facilities WHERE facility_id = 'FAC-CA-0002'`,
      ),
    );
    expect(csv).toBe(
      '"quoted","empty_string","missing","employee_count","day","services","location","ratio","retired"\n' +
        '"say ""hi"", then go","",,"85","2026-01-05","[Primary Care, Pediatrics, Behavioral Health]",' +
        '"{address=1411 E 31st St, city=Oakland, state=CA, zip=94602}","1.5","false"\n',
    );
    expect(readResultRows(csv)).toEqual([
      {
        quoted: 'say "hi", then go',
        empty_string: "",
        missing: null,
        employee_count: "85",
        day: "2026-01-05",
        services: "[Primary Care, Pediatrics, Behavioral Health]",
        location: "{address=1411 E 31st St, city=Oakland, state=CA, zip=94602}",
        ratio: "1.5",
        retired: "false",
      },
    ]);
  });

  test("unnamed output columns are _col0, _col1... as in Trino; row.field is named field", async () => {
    const csv = await resultCsv(
      await run(athena, "SELECT count(*), max(employee_count) AS biggest, min(location.state) FROM facilities"),
    );
    expect(csv).toBe('"_col0","biggest","_col2"\n"10","2400","AZ"\n');
  });

  test("Trino semantics of the shimmed functions", async () => {
    const rows = readResultRows(
      await resultCsv(
        await run(
          athena,
          `SELECT date_add('month', 6, DATE '2026-08-31') AS clamped,
                  date_add('day', 1, DATE '2026-12-31') AS next_day,
                  date_diff('month', DATE '2026-01-15', DATE '2026-02-01') AS whole_months,
                  date_diff('day', current_date, DATE '2026-12-15') AS days_left,
                  cardinality(ARRAY['a', 'b']) AS n,
                  CAST('2026-02-28' AS DATE) AS cast_date,
                  current_date AS today`,
        ),
      ),
    );
    expect(rows).toEqual([
      {
        clamped: "2027-02-28",
        next_day: "2027-01-01",
        whole_months: "0",
        days_left: "106",
        n: "2",
        cast_date: "2026-02-28",
        today: "2026-08-31",
      },
    ]);
  });

  test.each([CATALOG.currentTable, CATALOG.stagingTable])(
    "%s is also <database>.<table> and awsdatacatalog.<database>.<table>",
    async (table) => {
      const scanned = table === CATALOG.stagingTable ? sample.bytes : 0;
      for (const name of [`${LOCAL_DATABASE}.${table}`, `awsdatacatalog.${LOCAL_DATABASE}.${table}`]) {
        const execution = await run(athena, `SELECT count(*) AS n FROM ${name}`, "default");
        expect(await resultCsv(execution)).toBe('"n"\n"10"\n');
        expect(execution.Statistics.DataScannedInBytes).toBe(scanned);
      }
    },
  );

  test("a query that reads no table scans 0 bytes", async () => {
    const execution = await run(athena, "SELECT 1 AS one");
    expect(await resultCsv(execution)).toBe('"one"\n"1"\n');
    expect(execution.Statistics.DataScannedInBytes).toBe(0);
  });

  test.each([
    [
      "an unknown column",
      "SELECT no_such_column FROM facilities",
      LOCAL_DATABASE,
      /^COLUMN_NOT_FOUND: .*no_such_column/,
    ],
    ["a syntax error", "SELECT facility_id FORM facilities", LOCAL_DATABASE, /^SYNTAX_ERROR: line 1:\d+: .*facilities/],
    ["an unknown table", "SELECT * FROM hospitals", LOCAL_DATABASE, /^TABLE_NOT_FOUND: .*hospitals/],
    ["an unknown database", "SELECT 1", "no_such_db", /^SCHEMA_NOT_FOUND: Schema 'no_such_db' does not exist$/],
    ["the default database", "SELECT count(*) FROM facilities", "default", /^TABLE_NOT_FOUND: .*facilities/],
    [
      "the default database (staging)",
      "SELECT count(*) FROM facility_uploads",
      "default",
      /^TABLE_NOT_FOUND: .*facility_uploads/,
    ],
    [
      "arr[1] of an empty array (Athena fails; DuckDB alone returns NULL)",
      "SELECT facility_id, accreditations[1].valid_until FROM facilities",
      LOCAL_DATABASE,
      /^INVALID_FUNCTION_ARGUMENT: Array subscript must be less than or equal to array length: 1 > 0$/,
    ],
    ["two statements", "SELECT 1; SELECT 2", LOCAL_DATABASE, /^SYNTAX_ERROR: Only one sql statement is allowed/],
    ["a statement other than a query", `DROP TABLE ${CATALOG.currentTable}`, LOCAL_DATABASE, /^NOT_SUPPORTED: /],
    ["a write other than MERGE", `DELETE FROM ${CATALOG.currentTable}`, LOCAL_DATABASE, /^NOT_SUPPORTED: /],
    ["a bad cast", "SELECT CAST(facility_name AS DATE) FROM facilities", LOCAL_DATABASE, /^INVALID_CAST_ARGUMENT: /],
  ])("%s -> FAILED with the reason, no result object", async (_case, query, database, reason) => {
    const before = await resultKeys(BUCKETS.sample);
    const execution = await run(athena, query, database);
    expect(execution.Status.State).toBe("FAILED");
    expect(execution.Status.StateChangeReason).toMatch(reason);
    expect(execution.Status.AthenaError).toMatchObject({
      ErrorCategory: 2,
      ErrorType: 1000,
      ErrorMessage: execution.Status.StateChangeReason,
    });
    expect(execution.Statistics.DataScannedInBytes).toBe(0);
    expect(await resultKeys(BUCKETS.sample)).toEqual(before);
  });

  test("a workgroup other than the local one -> FAILED, as is the default workgroup", async () => {
    const other = await athena.startQueryExecutionSync({ QueryString: "SELECT 1", WorkGroup: "analysts" });
    expect(other.QueryExecution.Status).toMatchObject({
      State: "FAILED",
      StateChangeReason: "InvalidRequestException: WorkGroup analysts is not found.",
    });
    const primary = await athena.startQueryExecutionSync({ QueryString: "SELECT 1" });
    expect(primary.QueryExecution.Status.StateChangeReason).toBe(
      "InvalidRequestException: WorkGroup primary is not found.",
    );
  });

  test("the same ClientRequestToken returns the same QueryExecution without running the query again", async () => {
    const request = {
      QueryString: readQuery("facility_summary"),
      QueryExecutionContext: { Database: LOCAL_DATABASE },
      WorkGroup: WORKGROUP,
      ExecutionParameters: AS_OF_2026_08_31,
      ClientRequestToken: randomUUID(),
    };
    const before = await resultKeys(BUCKETS.sample);
    const [first, second] = await Promise.all([
      athena.startQueryExecutionSync(request),
      athena.startQueryExecutionSync(request),
    ]);
    const third = await athena.startQueryExecutionSync(request);
    expect(first.QueryExecution.Status.State).toBe("SUCCEEDED");
    expect(second.QueryExecution).toEqual(first.QueryExecution);
    expect(third.QueryExecution.QueryExecutionId).toBe(first.QueryExecution.QueryExecutionId);
    expect(await resultKeys(BUCKETS.sample)).toEqual(
      [...before, `athena-results/${first.QueryExecution.QueryExecutionId}.csv`].sort(),
    );

    const otherQuery = await athena.startQueryExecutionSync({ ...request, QueryString: "SELECT 1" });
    expect(otherQuery.QueryExecution.Status.StateChangeReason).toMatch(
      /^InvalidRequestException: Idempotent parameters/,
    );
    const otherParameters = await athena.startQueryExecutionSync({ ...request, ExecutionParameters: ["'2027-01-01'"] });
    expect(otherParameters.QueryExecution.Status.StateChangeReason).toMatch(
      /^InvalidRequestException: Idempotent parameters/,
    );
    const afterWindow = athenaFor(BUCKETS.sample, { idempotencyWindowMillis: 0, workDir: join(scratch, "work", "w0") });
    const once = await afterWindow.startQueryExecutionSync(request);
    const again = await afterWindow.startQueryExecutionSync(request);
    expect(again.QueryExecution.QueryExecutionId).not.toBe(once.QueryExecution.QueryExecutionId);
  });

  test("an empty QueryString -> FAILED", async () => {
    const { QueryExecution } = await athena.startQueryExecutionSync({ QueryString: "  ", WorkGroup: WORKGROUP });
    expect(QueryExecution.Status).toMatchObject({
      State: "FAILED",
      StateChangeReason: "InvalidRequestException: QueryString must be a non-empty string",
    });
  });

  test("a ClientRequestToken outside 32-128 characters -> FAILED", async () => {
    for (const token of ["x".repeat(31), "x".repeat(129)]) {
      const { QueryExecution } = await athena.startQueryExecutionSync({
        QueryString: "SELECT 1",
        WorkGroup: WORKGROUP,
        ClientRequestToken: token,
      });
      expect(QueryExecution.Status.State).toBe("FAILED");
      expect(QueryExecution.Status.StateChangeReason).toContain(`32 to 128 characters long (received ${token.length})`);
    }
  });

  test("two queries at once (a Parallel state) both succeed", async () => {
    const [counts, summary] = await Promise.all([
      run(athena, readQuery("accredited_facilities_by_state"), LOCAL_DATABASE, AS_OF_2026_08_31),
      run(athena, readQuery("facility_summary"), LOCAL_DATABASE, AS_OF_2026_08_31),
    ]);
    expect(readResultRows(await resultCsv(counts))).toHaveLength(9);
    expect(readResultRows(await resultCsv(summary))).toHaveLength(10);
  });
});

describe("LocalAthena's staging table holds every staged object, brought up to date before each query that reads it", () => {
  test('the "$path" column holds each row\'s staged object; a "$path" filter reads (and bills) that object only', async () => {
    const athena = athenaFor(BUCKETS.growing);
    const first = await stage(BUCKETS.growing, {
      source: "raw/first.json",
      version: "v1",
      eventTime: "2026-01-01T00:00:00.000Z",
      records: SAMPLE_RECORDS.slice(0, 3),
    });
    const second = await stage(BUCKETS.growing, {
      source: "raw/nested/second.json",
      version: "v2",
      eventTime: "2026-01-02T00:00:00.000Z",
      records: [facility("FAC-TX-0011", "TX", true), facility("FAC-FL-0012", "FL", false)],
    });
    // What Athena skips too: if read, these would fail the query as bad JSON.
    await put(BUCKETS.growing, `${DATA_PREFIXES.staging}_SUCCESS`, "not json");
    await put(BUCKETS.growing, `${DATA_PREFIXES.staging}.staging/third.jsonl`, "not json");
    await put(BUCKETS.growing, `${DATA_PREFIXES.staging}nested/_temporary/part-0.jsonl`, "not json");
    // Outside the table's location.
    await put(BUCKETS.growing, `${DATA_PREFIXES.raw}first.json`, "not json");
    await put(BUCKETS.growing, "staging/other/x.jsonl", "not json");

    const all = await run(
      athena,
      'SELECT "$path" AS path, count(*) AS n FROM facility_uploads GROUP BY "$path" ORDER BY path',
    );
    expect(readResultRows(await resultCsv(all))).toEqual([
      { path: first.uri, n: "3" },
      { path: second.uri, n: "2" },
    ]);
    expect(first.uri).toBe(`s3://${BUCKETS.growing}/staging/facilities/first.json/version=v1.jsonl`);
    expect(all.Statistics.DataScannedInBytes).toBe(first.bytes + second.bytes);

    const one = await run(
      athena,
      `SELECT facility_id, source_key FROM facility_uploads WHERE "$path" = '${second.uri}' ORDER BY facility_id`,
    );
    expect(readResultRows(await resultCsv(one))).toEqual([
      { facility_id: "FAC-FL-0012", source_key: "raw/nested/second.json" },
      { facility_id: "FAC-TX-0011", source_key: "raw/nested/second.json" },
    ]);
    expect(one.Statistics.DataScannedInBytes).toBe(second.bytes);

    const none = await run(
      athena,
      `SELECT count(*) AS n FROM facility_uploads WHERE "$path" = 's3://${BUCKETS.growing}/${DATA_PREFIXES.staging}missing.jsonl'`,
    );
    expect(await resultCsv(none)).toBe('"n"\n"0"\n');
    expect(none.Statistics.DataScannedInBytes).toBe(0);
  });

  test("loads only the objects new or changed (by ETag) since the last query, and drops the rows of deleted ones", async () => {
    // GIVEN an engine whose S3 calls are recorded
    const watched = client();
    const send = jest.spyOn(watched, "send");
    const athena = athenaFor(BUCKETS.changing, { s3: watched });
    const calls = <T>(type: new (...args: never[]) => T): T[] =>
      send.mock.calls.map(([command]) => command as unknown).filter((command): command is T => command instanceof type);
    const downloaded = () => {
      const keys = calls(GetObjectCommand).map((command) => command.input.Key);
      send.mockClear();
      return keys.sort();
    };
    const rows = async () =>
      readResultRows(
        await resultCsv(
          await run(athena, 'SELECT "$path" AS path, facility_id FROM facility_uploads ORDER BY path, facility_id'),
        ),
      ).map(
        (row) => `${row.path!.slice(`s3://${BUCKETS.changing}/${DATA_PREFIXES.staging}`.length)} ${row.facility_id}`,
      );
    const upload = (name: string, ids: string[]) =>
      stage(BUCKETS.changing, {
        source: `raw/${name}.json`,
        version: "v1",
        eventTime: "2026-01-01T00:00:00.000Z",
        records: ids.map((id) => facility(id, "TX", true)),
      });
    const a = await upload("a", ["FAC-1", "FAC-2"]);
    const b = await upload("b", ["FAC-3"]);

    // WHEN, THEN: the first query loads every staged object
    expect(await rows()).toEqual([
      "a.json/version=v1.jsonl FAC-1",
      "a.json/version=v1.jsonl FAC-2",
      "b.json/version=v1.jsonl FAC-3",
    ]);
    expect(downloaded()).toEqual([a.key, b.key]);
    // the next one, nothing
    expect(await rows()).toHaveLength(3);
    expect(downloaded()).toEqual([]);
    // a new object: that one only
    const c = await upload("c", ["FAC-4"]);
    expect(await rows()).toEqual([
      "a.json/version=v1.jsonl FAC-1",
      "a.json/version=v1.jsonl FAC-2",
      "b.json/version=v1.jsonl FAC-3",
      "c.json/version=v1.jsonl FAC-4",
    ]);
    expect(downloaded()).toEqual([c.key]);
    // an object rewritten (another ETag): reloaded, its old rows gone
    const rewritten = await upload("b", ["FAC-5", "FAC-6"]);
    expect(rewritten.key).toBe(b.key);
    expect(await rows()).toEqual([
      "a.json/version=v1.jsonl FAC-1",
      "a.json/version=v1.jsonl FAC-2",
      "b.json/version=v1.jsonl FAC-5",
      "b.json/version=v1.jsonl FAC-6",
      "c.json/version=v1.jsonl FAC-4",
    ]);
    expect(downloaded()).toEqual([b.key]);
    // an object deleted: its rows dropped, nothing downloaded
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKETS.changing, Key: a.key }));
    const after = await run(athena, "SELECT count(*) AS n FROM facility_uploads");
    expect(await resultCsv(after)).toBe('"n"\n"3"\n');
    expect(after.Statistics.DataScannedInBytes).toBe(rewritten.bytes + c.bytes);
    expect(await rows()).toEqual([
      "b.json/version=v1.jsonl FAC-5",
      "b.json/version=v1.jsonl FAC-6",
      "c.json/version=v1.jsonl FAC-4",
    ]);
    expect(downloaded()).toEqual([]);

    // A query of the current table alone neither lists nor reads the staged objects.
    expect(await resultCsv(await run(athena, "SELECT count(*) AS n FROM facilities"))).toBe('"n"\n"0"\n');
    expect(calls(ListObjectsV2Command)).toEqual([]);
    expect(calls(GetObjectCommand)).toEqual([]);
    watched.destroy();
  });

  test("zero staged objects -> empty tables with the right columns", async () => {
    const athena = athenaFor(BUCKETS.empty);
    const uploads = await run(athena, "SELECT * FROM facility_uploads");
    expect(await resultCsv(uploads)).toBe(formatAthenaCsv([...RECORD_COLUMN_NAMES, "$path"], []));
    expect(uploads.Statistics.DataScannedInBytes).toBe(0);
    const counts = await run(athena, readQuery("accredited_facilities_by_state"), LOCAL_DATABASE, AS_OF_2026_08_31);
    expect(await resultCsv(counts)).toBe('"state","accredited_facility_count","currently_accredited_facility_count"\n');
    expect(counts.Statistics.DataScannedInBytes).toBe(0);
    expect(await resultCsv(await run(athena, readQuery("facility_summary"), LOCAL_DATABASE, AS_OF_2026_08_31))).toBe(
      '"facility_id","facility_name","employee_count","number_of_services","first_accreditation_valid_until","next_accreditation_valid_until"\n',
    );
    expect(
      await resultCsv(
        await run(athena, readQuery("expiring_accreditations"), LOCAL_DATABASE, EXPIRING_AS_OF_2026_08_31),
      ),
    ).toBe(
      '"facility_id","facility_name","state","accreditation_body","accreditation_id","valid_until","days_until_expiry"\n',
    );
    expect(await resultCsv(await run(athena, readQuery("facility_history"), LOCAL_DATABASE, ["'FAC-1'"]))).toBe(
      '"source_key","source_version","event_time","source_line","retired","facility_name","state","accreditation_count","changes"\n',
    );
  });

  test.each([
    ["that is not JSON Lines", "broken.jsonl", '{"facility_id": "FAC-1",\n'],
    [
      "with a value of the wrong type",
      "wrong-type.jsonl",
      `${JSON.stringify({ facility_id: "FAC-1", employee_count: "many" })}\n`,
    ],
  ])(
    "a staged object %s -> FAILED HIVE_BAD_DATA naming the object, until it is replaced",
    async (_case, name, body) => {
      // GIVEN a bad object among the staged ones
      const athena = athenaFor(BUCKETS.broken, { workDir: join(scratch, "work", BUCKETS.broken, name) });
      const key = `${DATA_PREFIXES.staging}${name}`;
      await put(BUCKETS.broken, key, body);

      // WHEN the staging table is read, by a query or by the MERGE, THEN
      for (const query of ["SELECT count(*) FROM facility_uploads", mergeQuery(`s3://${BUCKETS.broken}/${key}`)]) {
        const execution = await run(athena, query);
        expect(execution.Status.State).toBe("FAILED");
        expect(execution.Status.StateChangeReason).toMatch(
          new RegExp(`^HIVE_BAD_DATA: .*s3://${BUCKETS.broken}/staging/facilities/${name.replace(".", "\\.")}`),
        );
        expect(execution.Status.StateChangeReason).not.toContain(scratch);
        expect(execution.Status.AthenaError).toMatchObject({ ErrorCategory: 2, ErrorType: 1001 });
      }
      // The current table does not read the staged objects.
      expect(await resultCsv(await run(athena, "SELECT count(*) AS n FROM facilities"))).toBe('"n"\n"0"\n');

      // Once the object is replaced by a valid one, the next query loads it.
      await put(BUCKETS.broken, key, stagedBody({ ...SAMPLE_UPLOAD, records: [facility("FAC-1", "TX", true)] }));
      expect(await resultCsv(await run(athena, "SELECT facility_id FROM facility_uploads"))).toBe(
        '"facility_id"\n"FAC-1"\n',
      );
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKETS.broken, Key: key }));
    },
  );
});

describe("LocalAthena errors and options", () => {
  test("an unreachable S3 endpoint throws instead of returning FAILED", async () => {
    const unreachable = new S3Client({
      endpoint: "http://127.0.0.1:9",
      region: "us-east-1",
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: S3RVER_CREDENTIALS,
    });
    const athena = athenaFor("nowhere", { s3: unreachable, workDir: join(scratch, "work", "nowhere") });
    await expect(run(athena, "SELECT count(*) FROM facility_uploads")).rejects.toThrow();
    // Reading the current table needs no S3, but uploading the result does (the SDK warns of it).
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      await expect(run(athena, "SELECT count(*) FROM facilities")).rejects.toThrow();
    } finally {
      warn.mockRestore();
    }
    unreachable.destroy();
  });

  test("invalid options are reported together", () => {
    expect(
      () =>
        new LocalAthena({
          s3,
          bucket: "b",
          workgroup: "",
          database: LOCAL_DATABASE,
          outputLocation: "athena-results/",
          workDir: scratch,
          currentDate: "2026-02-30",
        }),
    ).toThrow(
      'Invalid LocalAthena options:\n  - outputLocation must be s3://<bucket>/<prefix>/ (received "athena-results/")\n' +
        "  - workgroup must not be empty\n" +
        '  - currentDate must be a date written YYYY-MM-DD (received "2026-02-30")',
    );
  });
});

describe("LocalAthena writes each result to a scratch file, then uploads it as a stream", () => {
  /** Result files still in the scratch directory: none once a query has returned. */
  const scratchResults = () => {
    const dir = join(scratch, "work", BUCKETS.streamed, "results");
    return existsSync(dir) ? readdirSync(dir) : [];
  };

  test("a result of several chunks (5,000 rows) is written whole, in order, with its length in bytes", async () => {
    // GIVEN a result over three DuckDB chunks (2,048 rows each), with NULLs, quotes and non-ASCII text
    const athena = athenaFor(BUCKETS.streamed, { workDir: join(scratch, "work", BUCKETS.streamed) });
    let expected = '"n","name"\n';
    for (let i = 0; i < 5000; i++) expected += `"${i}",${i % 7 === 0 ? "" : `"Mayagüez ""${i}"""`}\n`;

    // WHEN
    const execution = await run(
      athena,
      `SELECT i AS n, CASE WHEN i % 7 = 0 THEN NULL ELSE 'Mayagüez "' || CAST(i AS VARCHAR) || '"' END AS name
       FROM range(5000) AS t (i) ORDER BY i`,
    );

    // THEN
    expect(await resultCsv(execution)).toBe(expected);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: BUCKETS.streamed, Key: `athena-results/${execution.QueryExecutionId}.csv` }),
    );
    expect(head.ContentLength).toBe(Buffer.byteLength(expected));
    expect(head.ContentType).toBe("text/csv");
    expect(scratchResults()).toEqual([]);
  });

  test("a query that fails after its first chunks -> FAILED, not the rows before the error", async () => {
    // GIVEN a query whose last of 100,000 rows fails (a streaming DuckDB result would end there silently)
    const athena = athenaFor(BUCKETS.streamed, { workDir: join(scratch, "work", BUCKETS.streamed) });
    const before = await resultKeys(BUCKETS.streamed);

    // WHEN
    const execution = await run(
      athena,
      "SELECT i, ARRAY[i][CASE WHEN i < 99999 THEN 1 ELSE 2 END] AS x FROM range(100000) AS t (i)",
    );

    // THEN
    expect(execution.Status.State).toBe("FAILED");
    expect(execution.Status.StateChangeReason).toBe(
      "INVALID_FUNCTION_ARGUMENT: Array subscript must be less than or equal to array length: 2 > 1",
    );
    expect(await resultKeys(BUCKETS.streamed)).toEqual(before);
    expect(scratchResults()).toEqual([]);
  });

  test("a client that frames streamed uploads (checksums WHEN_SUPPORTED) still stores the plain CSV", async () => {
    // GIVEN a client without the WHEN_REQUIRED setting s3rver needs for streamed bodies
    const framing = client({ requestChecksumCalculation: "WHEN_SUPPORTED" });
    const athena = athenaFor(BUCKETS.streamed, { s3: framing, workDir: join(scratch, "work", "framing") });

    // WHEN
    const execution = await run(athena, "SELECT 'a,b' AS x, CAST(NULL AS INTEGER) AS y UNION ALL SELECT 'ü', 2");

    // THEN
    expect(await resultCsv(execution)).toBe('"x","y"\n"a,b",\n"ü","2"\n');
    framing.destroy();
  });
});

describe("writeAthenaCsv", () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  beforeAll(async () => {
    instance = await DuckDBInstance.create(":memory:");
    connection = await instance.connect();
  });
  afterAll(() => {
    connection.closeSync();
    instance.closeSync();
  });

  test("writes the bytes formatAthenaCsv gives for the materialized rows, over several chunks and every rendered type", async () => {
    // GIVEN 5,000 rows (three chunks) of each type renderTrinoValue formats, NULLs included
    const query = `
      SELECT i AS "integer", i / 8 AS "double", CAST(i AS DECIMAL(10, 2)) AS "decimal",
             DATE '2026-01-01' + CAST(i AS INTEGER) AS "date",
             TIMESTAMP '2026-01-01 00:00:00' + to_milliseconds(i) AS "timestamp",
             CASE WHEN i % 5 = 0 THEN NULL ELSE 'Señora "' || i || '", line\nnext' END AS "varchar",
             [i, NULL] AS "list", {'a': i, 'b': 'x'} AS "struct", MAP {'k': i} AS "map"
      FROM range(5000) AS t (i) ORDER BY i`;
    const materialized = await connection.runAndReadAll(query);
    const types = materialized.columnTypes();
    const expected = formatAthenaCsv(
      materialized.columnNames(),
      materialized.getRows().map((row) => row.map((value, i) => renderTrinoValue(value, types[i]))),
    );
    const file = join(scratch, "write-athena-csv.csv");

    // WHEN
    const checksum = await writeAthenaCsv(await connection.run(query), file);

    // THEN
    const written = readFileSync(file);
    expect(written.toString("utf8")).toBe(expected);
    expect(checksum).toBe(crc32(written));
  });
});

describe("prepareTrinoQuery: the named rewrites", () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  beforeAll(async () => {
    instance = await DuckDBInstance.create(":memory:");
    connection = await instance.connect();
  });
  afterAll(() => {
    connection.closeSync();
    instance.closeSync();
  });

  test("sql/facility_history.sql runs exactly as written", async () => {
    const query = readQuery("facility_history");
    expect(await prepareTrinoQuery(connection, query)).toEqual({
      sql: query,
      rewrites: [],
      tables: ["facility_uploads"],
    });
  });

  test("sql/facility_summary.sql: UNNEST of rows and accreditations[1] are both rewritten", async () => {
    const prepared = await prepareTrinoQuery(connection, readQuery("facility_summary"));
    expect(prepared.rewrites).toEqual(["row-unnest", "strict-array-subscript"]);
    expect(prepared.sql).toContain("__trino_subscript(f.accreditations, 1)");
    expect(prepared.sql).not.toContain("accreditations[1]");
    expect(prepared.tables).toContain("facilities");
  });

  test.each(["expiring_accreditations", "accredited_facilities_by_state"])(
    "sql/%s.sql: UNNEST of rows with column aliases becomes a lateral subquery",
    async (name) => {
      const prepared = await prepareTrinoQuery(connection, readQuery(name));
      expect(prepared.rewrites).toEqual(["row-unnest"]);
      expect(prepared.sql).toMatch(
        /\(SELECT __trino_row\.\* FROM \(SELECT unnest\(f\.accreditations\) AS __trino_row\)\) AS a\(accreditation_body, accreditation_id, valid_until\)/,
      );
    },
  );

  test("UNNEST of a plain array with one alias is left alone", async () => {
    const query = "SELECT s FROM facilities CROSS JOIN UNNEST(services) AS t (s)";
    expect((await prepareTrinoQuery(connection, query)).sql).toBe(query);
  });
});

describe("readResultRows", () => {
  test("reads quoted values, doubled quotes, embedded commas and newlines, '' and NULL", () => {
    const csv = '"a","b","c"\n"x ""y"", z","",\n,"line 1\nline 2","3"\n';
    expect(readResultRows(csv)).toEqual([
      { a: 'x "y", z', b: "", c: null },
      { a: null, b: "line 1\nline 2", c: "3" },
    ]);
  });

  test("a header without rows is no rows; a one-column NULL row is an empty line", () => {
    expect(readResultRows('"state","accredited_facility_count"\n')).toEqual([]);
    expect(readResultRows('"v"\n\n"1"\n')).toEqual([{ v: null }, { v: "1" }]);
  });
});
