/**
 * sql/merge_current_state.sql on the local Athena: the text the state machine sends (one line, the
 * staged object's URI inlined for its `?`), run verbatim by DuckDB against the staging table
 * `facility_uploads` and the current-state table `facilities`.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { CATALOG, DATA_PREFIXES, LOCAL_DATABASE } from "../../core/data-layout";
import { queryCode, readQuery } from "../../core/sql";
import { filterOutputKeys } from "../../lambdas/shared/output-keys";
import {
  LocalAthena,
  readResultRows,
  type LocalAthenaOptions,
  type LocalQueryOptions,
  type QueryExecution,
  type ResultRow,
} from "../../local/athena";
import { S3RVER_CREDENTIALS, startS3Endpoint, type S3Endpoint } from "../../local/s3-endpoint";

// Without these the SDK streams uploads with checksum framing, which s3rver stores verbatim.
process.env.AWS_REQUEST_CHECKSUM_CALCULATION = "WHEN_REQUIRED";
process.env.AWS_RESPONSE_CHECKSUM_VALIDATION = "WHEN_REQUIRED";

const BUCKET = "merge-data";
const WORKGROUP = "hfap-local-facility-pipeline";

let scratch: string;
let endpoint: S3Endpoint;
let s3: S3Client;
const engines: LocalAthena[] = [];

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "local-athena-merge-test-"));
  endpoint = await startS3Endpoint({ buckets: [BUCKET], directory: join(scratch, "s3") });
  s3 = new S3Client({
    endpoint: endpoint.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
  });
});

afterAll(async () => {
  await Promise.all(engines.map((engine) => engine.close()));
  s3?.destroy();
  await endpoint?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** A new engine: its current table empty (in memory) unless `catalogFile` names an existing one. */
function newAthena(options: Partial<LocalAthenaOptions> = {}): LocalAthena {
  const engine = new LocalAthena({
    s3,
    bucket: BUCKET,
    workgroup: WORKGROUP,
    database: LOCAL_DATABASE,
    outputLocation: `s3://${BUCKET}/${DATA_PREFIXES.athenaResults}`,
    workDir: join(scratch, "work", randomUUID()),
    currentDate: "2026-08-31",
    ...options,
  });
  engines.push(engine);
  return engine;
}

async function run(
  athena: LocalAthena,
  query: string,
  options?: LocalQueryOptions & { database?: string; parameters?: readonly string[] },
): Promise<QueryExecution> {
  const { QueryExecution } = await athena.startQueryExecutionSync(
    {
      QueryString: query,
      QueryExecutionContext: { Database: options?.database ?? LOCAL_DATABASE },
      WorkGroup: WORKGROUP,
      ...(options?.parameters && { ExecutionParameters: options.parameters }),
    },
    options,
  );
  return QueryExecution;
}

async function rows(athena: LocalAthena, query: string, parameters?: readonly string[]): Promise<ResultRow[]> {
  const execution = await run(athena, query, { parameters });
  expect(execution.Status).toMatchObject({ State: "SUCCEEDED" });
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(execution.ResultConfiguration.OutputLocation)!;
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return readResultRows(await object.Body!.transformToString("utf8"));
}

async function resultKeys(): Promise<string[]> {
  const listing = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: DATA_PREFIXES.athenaResults }));
  return (listing.Contents ?? []).map((object) => object.Key!).sort();
}

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

/** Writes an upload's staged object (JSON Lines, each record with its provenance) where the ingest Lambda does. */
async function stage(upload: Upload): Promise<StagedObject> {
  const key = filterOutputKeys(upload.source, { versionId: upload.version }).staging;
  const provenance = {
    source_key: upload.source,
    source_version: upload.version,
    event_time: upload.eventTime,
    sequencer: (upload.sequencer ?? 1).toString(16).toUpperCase().padStart(32, "0"),
  };
  const body = upload.records
    .map((record, i) =>
      JSON.stringify({ ...record, ...provenance, source_line: i + 1, retired: record.retired ?? false }),
    )
    .map((line) => `${line}\n`)
    .join("");
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  return { key, uri: `s3://${BUCKET}/${key}`, bytes: Buffer.byteLength(body) };
}

/** sql/merge_current_state.sql as the state machine sends it: on one line, its `?` an inlined string literal. */
function mergeQuery(staged: StagedObject): string {
  const [before, after, ...more] = queryCode("merge_current_state").split("?");
  if (after === undefined || more.length > 0) throw new Error("expected exactly one ? in merge_current_state.sql");
  return `${before}'${staged.uri}'${after}`;
}

async function merge(athena: LocalAthena, staged: StagedObject, options?: LocalQueryOptions): Promise<QueryExecution> {
  return run(athena, mergeQuery(staged), options);
}

async function mustMerge(athena: LocalAthena, ...staged: StagedObject[]): Promise<void> {
  for (const object of staged) {
    const execution = await merge(athena, object);
    expect(execution.Status).toEqual(expect.objectContaining({ State: "SUCCEEDED" }));
  }
}

/** The current table's rows, compactly: id, name, employees, version, event time, line, retired. */
async function current(athena: LocalAthena): Promise<string[]> {
  const table = await rows(
    athena,
    `SELECT facility_id, facility_name, employee_count, source_version, event_time, sequencer, source_line, retired
     FROM facilities ORDER BY facility_id`,
  );
  return table.map((row) =>
    [
      row.facility_id,
      row.facility_name,
      row.employee_count,
      row.source_version,
      row.event_time,
      row.sequencer!.replace(/^0+/, ""),
      `line ${row.source_line}`,
      row.retired === "true" ? "retired" : "open",
    ].join(" | "),
  );
}

/** Every column of every row of the current table. */
const snapshot = (athena: LocalAthena) => rows(athena, "SELECT * FROM facilities ORDER BY facility_id");

const facility = (id: string, name: string, employees = 10, extra: Record<string, unknown> = {}) => ({
  facility_id: id,
  facility_name: name,
  location: { address: "1 Main St", city: "Austin", state: "TX", zip: "78701" },
  employee_count: employees,
  services: ["Primary Care"],
  labs: [{ lab_name: "Clinic Lab", certifications: ["CLIA"] }],
  accreditations: [{ accreditation_body: "COLA", accreditation_id: `COLA-${id}`, valid_until: "2027-01-01" }],
  ...extra,
});

/** A raw/ key of this test's own, so the uploads of one test are not another's. */
let testId = "";
beforeEach(() => {
  testId = randomUUID();
});
const sourceKey = (name: string) => `${DATA_PREFIXES.raw}${testId}/${name}`;

describe("sql/merge_current_state.sql on the local Athena", () => {
  test("runs verbatim as a MERGE (SubstatementType MERGE): a first upload inserts one row per facility", async () => {
    const athena = newAthena();
    const upload = await stage({
      source: sourceKey("first.json"),
      version: "v1",
      eventTime: "2026-03-01T10:00:00.000Z",
      records: [facility("FAC-1", "One"), facility("FAC-2", "Two", 20)],
    });

    const execution = await merge(athena, upload);

    expect(execution).toMatchObject({
      Query: mergeQuery(upload),
      StatementType: "DML",
      SubstatementType: "MERGE",
      Status: { State: "SUCCEEDED" },
    });
    expect(await current(athena)).toEqual([
      "FAC-1 | One | 10 | v1 | 2026-03-01T10:00:00.000Z | 1 | line 1 | open",
      "FAC-2 | Two | 20 | v1 | 2026-03-01T10:00:00.000Z | 1 | line 2 | open",
    ]);
    const [first] = await rows(
      athena,
      "SELECT location, services, labs, accreditations, source_key FROM facilities WHERE facility_id = 'FAC-1'",
    );
    expect(first).toEqual({
      location: "{address=1 Main St, city=Austin, state=TX, zip=78701}",
      services: "[Primary Care]",
      labs: "[{lab_name=Clinic Lab, certifications=[CLIA]}]",
      accreditations: "[{accreditation_body=COLA, accreditation_id=COLA-FAC-1, valid_until=2027-01-01}]",
      source_key: sourceKey("first.json"),
    });
  });

  test("a newer upload replaces, an older one merged after it changes nothing: the same table in both orders", async () => {
    // GIVEN two uploads of one key, the older holding a facility the newer does not
    const older = await stage({
      source: sourceKey("facilities.json"),
      version: "v1",
      eventTime: "2026-03-01T10:00:00.000Z",
      records: [facility("FAC-1", "Old name", 10), facility("FAC-3", "Only in the old upload")],
    });
    const newer = await stage({
      source: sourceKey("facilities.json"),
      version: "v2",
      eventTime: "2026-03-02T10:00:00.000Z",
      records: [facility("FAC-2", "Added"), facility("FAC-1", "New name", 20)],
    });
    const expected = [
      "FAC-1 | New name | 20 | v2 | 2026-03-02T10:00:00.000Z | 1 | line 2 | open",
      "FAC-2 | Added | 10 | v2 | 2026-03-02T10:00:00.000Z | 1 | line 1 | open",
      "FAC-3 | Only in the old upload | 10 | v1 | 2026-03-01T10:00:00.000Z | 1 | line 2 | open",
    ];

    // WHEN merged in order, THEN the newer replaces
    const inOrder = newAthena();
    await mustMerge(inOrder, older);
    expect(await current(inOrder)).toEqual([
      "FAC-1 | Old name | 10 | v1 | 2026-03-01T10:00:00.000Z | 1 | line 1 | open",
      "FAC-3 | Only in the old upload | 10 | v1 | 2026-03-01T10:00:00.000Z | 1 | line 2 | open",
    ]);
    await mustMerge(inOrder, newer);
    expect(await current(inOrder)).toEqual(expected);
    const state = await snapshot(inOrder);
    // and a late or duplicate event of either upload changes nothing
    await mustMerge(inOrder, older, newer);
    expect(await snapshot(inOrder)).toEqual(state);

    // WHEN merged the other way round, THEN the older changes nothing but adds what only it has
    const reversed = newAthena();
    await mustMerge(reversed, newer, older);
    expect(await current(reversed)).toEqual(expected);
    expect(await snapshot(reversed)).toEqual(state);
  });

  test("at the same event time, the larger sequencer wins, in both orders", async () => {
    const [first, second] = await Promise.all(
      [0x10, 0x2f].map((sequencer, i) =>
        stage({
          source: sourceKey("same-second.json"),
          version: `v${i + 1}`,
          eventTime: "2026-03-01T10:00:00.000Z",
          sequencer,
          records: [facility("FAC-1", `Name ${i + 1}`)],
        }),
      ),
    );
    for (const order of [
      [first, second],
      [second, first],
    ]) {
      const athena = newAthena();
      await mustMerge(athena, ...order);
      expect(await current(athena)).toEqual([
        "FAC-1 | Name 2 | 10 | v2 | 2026-03-01T10:00:00.000Z | 2F | line 1 | open",
      ]);
    }
  });

  test("a staged source repeating a facility_id is deduplicated: its latest line wins", async () => {
    // GIVEN a current row, and a newer upload listing that facility three times
    const athena = newAthena();
    const base = await stage({
      source: sourceKey("base.json"),
      version: "v1",
      eventTime: "2026-03-01T10:00:00.000Z",
      records: [facility("FAC-1", "Base")],
    });
    const repeated = await stage({
      source: sourceKey("repeated.json"),
      version: "v1",
      eventTime: "2026-03-02T10:00:00.000Z",
      records: [
        facility("FAC-1", "Line 1", 1),
        facility("FAC-2", "New, line 2", 2),
        facility("FAC-1", "Line 3", 3),
        facility("FAC-2", "New, line 4", 4),
        facility("FAC-1", "Line 5", 5),
      ],
    });
    await mustMerge(athena, base);

    // WHEN
    await mustMerge(athena, repeated);

    // THEN one row per facility (the update and the insert alike), from the last line
    expect(await current(athena)).toEqual([
      "FAC-1 | Line 5 | 5 | v1 | 2026-03-02T10:00:00.000Z | 1 | line 5 | open",
      "FAC-2 | New, line 4 | 4 | v1 | 2026-03-02T10:00:00.000Z | 1 | line 4 | open",
    ]);
    // while the staging table keeps every line, for the history
    expect(await rows(athena, `SELECT count(*) AS n FROM facility_uploads WHERE "$path" = '${repeated.uri}'`)).toEqual([
      { n: "5" },
    ]);
  });

  test("a retirement (retired = true) marks the row retired and keeps its data; an older one changes nothing; a newer upload brings it back", async () => {
    // GIVEN a current row with its data
    const athena = newAthena();
    const opened = await stage({
      source: sourceKey("facilities.json"),
      version: "v1",
      eventTime: "2026-03-01T10:00:00.000Z",
      records: [facility("FAC-1", "Kept", 10), facility("FAC-2", "Still open", 20)],
    });
    await mustMerge(athena, opened);
    const data = "facility_id, facility_name, location, employee_count, services, labs, accreditations";
    const before = await rows(athena, `SELECT ${data} FROM facilities WHERE facility_id = 'FAC-1'`);

    // WHEN a newer upload retires it (with other data), and retires a facility never seen
    const retirement = await stage({
      source: sourceKey("retirements.json"),
      version: "v1",
      eventTime: "2026-03-02T10:00:00.000Z",
      records: [
        facility("FAC-1", "Ignored", 0, { retired: true, labs: [], accreditations: [], services: [] }),
        facility("FAC-9", "Never open", 5, { retired: true }),
      ],
    });
    await mustMerge(athena, retirement);

    // THEN the row keeps its data with the retirement's provenance
    expect(await current(athena)).toEqual([
      "FAC-1 | Kept | 10 | v1 | 2026-03-02T10:00:00.000Z | 1 | line 1 | retired",
      "FAC-2 | Still open | 20 | v1 | 2026-03-01T10:00:00.000Z | 1 | line 2 | open",
      "FAC-9 | Never open | 5 | v1 | 2026-03-02T10:00:00.000Z | 1 | line 2 | retired",
    ]);
    expect(await rows(athena, `SELECT ${data} FROM facilities WHERE facility_id = 'FAC-1'`)).toEqual(before);
    expect(await rows(athena, `SELECT source_key FROM facilities WHERE facility_id = 'FAC-1'`)).toEqual([
      { source_key: sourceKey("retirements.json") },
    ]);
    // and the queries leave retired facilities out
    const summary = await rows(athena, readQuery("facility_summary"), ["'2026-08-31'"]);
    expect(summary.map((row) => row.facility_id)).toEqual(["FAC-2"]);
    expect(await rows(athena, readQuery("accredited_facilities_by_state"), ["'2026-08-31'"])).toEqual([
      { state: "TX", accredited_facility_count: "1", currently_accredited_facility_count: "1" },
    ]);

    // WHEN an older retirement arrives late, THEN nothing changes
    const state = await snapshot(athena);
    const lateRetirement = await stage({
      source: sourceKey("retirements.json"),
      version: "v0",
      eventTime: "2026-02-01T10:00:00.000Z",
      records: [facility("FAC-2", "Retired long ago", 0, { retired: true })],
    });
    await mustMerge(athena, lateRetirement);
    expect(await snapshot(athena)).toEqual(state);

    // WHEN a newer upload lists the facility again, THEN it is open with that upload's data
    const reopened = await stage({
      source: sourceKey("facilities.json"),
      version: "v3",
      eventTime: "2026-03-03T10:00:00.000Z",
      records: [facility("FAC-1", "Reopened", 30)],
    });
    await mustMerge(athena, reopened);
    expect((await current(athena))[0]).toBe(
      "FAC-1 | Reopened | 30 | v3 | 2026-03-03T10:00:00.000Z | 1 | line 1 | open",
    );
  });

  test("commitConflict: FAILED with ICEBERG_COMMIT_ERROR, the table unchanged and no result; the retry commits", async () => {
    // GIVEN a current table
    const athena = newAthena();
    const first = await stage({
      source: sourceKey("facilities.json"),
      version: "v1",
      eventTime: "2026-03-01T10:00:00.000Z",
      records: [facility("FAC-1", "First")],
    });
    const second = await stage({
      source: sourceKey("facilities.json"),
      version: "v2",
      eventTime: "2026-03-02T10:00:00.000Z",
      records: [facility("FAC-1", "Second"), facility("FAC-2", "New")],
    });
    await mustMerge(athena, first);
    const before = await snapshot(athena);
    const resultsBefore = await resultKeys();

    // WHEN a MERGE loses its commit
    const lost = await merge(athena, second, { commitConflict: true });

    // THEN
    expect(lost.SubstatementType).toBe("MERGE");
    expect(lost.Status.State).toBe("FAILED");
    expect(lost.Status.StateChangeReason).toMatch(/^ICEBERG_COMMIT_ERROR: /);
    expect(lost.Status.StateChangeReason).toContain(`${LOCAL_DATABASE}.${CATALOG.currentTable}`);
    expect(lost.Status.AthenaError).toEqual({
      ErrorCategory: 2,
      ErrorType: 1000,
      Retryable: false,
      ErrorMessage: lost.Status.StateChangeReason,
    });
    expect(await resultKeys()).toEqual(resultsBefore);
    expect(await snapshot(athena)).toEqual(before);

    // WHEN retried, THEN it commits
    await mustMerge(athena, second);
    expect((await current(athena)).map((row) => row.split(" | ").slice(0, 2).join(" "))).toEqual([
      "FAC-1 Second",
      "FAC-2 New",
    ]);
    // A query that writes nothing has nothing to lose.
    const read = await run(athena, "SELECT count(*) AS n FROM facilities", { commitConflict: true });
    expect(read.Status.State).toBe("SUCCEEDED");
  });

  test("the current table persists in catalogFile: a second LocalAthena over the same file sees the merged rows", async () => {
    // GIVEN a MERGE by one engine, closed
    const catalogFile = join(scratch, "catalog.duckdb");
    const newer = await stage({
      source: sourceKey("facilities.json"),
      version: "v2",
      eventTime: "2026-03-02T10:00:00.000Z",
      records: [facility("FAC-1", "Newer"), facility("FAC-2", "Two")],
    });
    const first = newAthena({ catalogFile });
    await mustMerge(first, newer);
    const merged = await current(first);
    await first.close();

    // WHEN another engine opens the file, THEN it sees the rows, and the staging table again holds the staged objects
    const second = newAthena({ catalogFile });
    expect(await current(second)).toEqual(merged);
    expect(await rows(second, `SELECT count(*) AS n FROM facility_uploads WHERE "$path" = '${newer.uri}'`)).toEqual([
      { n: "2" },
    ]);
    // and an older upload merged there is ordered against the persisted rows
    const older = await stage({
      source: sourceKey("facilities.json"),
      version: "v1",
      eventTime: "2026-03-01T10:00:00.000Z",
      records: [facility("FAC-1", "Older"), facility("FAC-3", "Three")],
    });
    await mustMerge(second, older);
    await second.close();
    const third = newAthena({ catalogFile });
    expect((await current(third)).map((row) => row.split(" | ").slice(0, 2).join(" "))).toEqual([
      "FAC-1 Newer",
      "FAC-2 Two",
      "FAC-3 Three",
    ]);

    // Without catalogFile the current table lives in memory: a new engine starts empty.
    expect(await current(newAthena())).toEqual([]);
  });

  test("a MERGE in the default database (where facilities is unknown) fails and changes nothing", async () => {
    const athena = newAthena();
    const upload = await stage({
      source: sourceKey("facilities.json"),
      version: "v1",
      eventTime: "2026-03-01T10:00:00.000Z",
      records: [facility("FAC-1", "One")],
    });
    const execution = await run(athena, mergeQuery(upload), { database: "default" });
    expect(execution.SubstatementType).toBe("MERGE");
    expect(execution.Status.State).toBe("FAILED");
    expect(execution.Status.StateChangeReason).toMatch(/^TABLE_NOT_FOUND: .*facilities/);
    expect(await current(athena)).toEqual([]);
  });
});

/** Two cases where the local engine once departed from Athena. */
describe("as Athena reads a MERGE", () => {
  test("the file's text as read (its leading comments included) runs as a MERGE", async () => {
    // Athena runs a statement after `--` comments.
    const athena = newAthena();
    const upload = await stage({
      source: sourceKey("facilities.json"),
      version: "v1",
      eventTime: "2026-03-01T10:00:00.000Z",
      records: [facility("FAC-1", "One")],
    });
    const text = readQuery("merge_current_state").replace("?", `'${upload.uri}'`);
    const execution = await run(athena, text);
    expect(execution.Status.StateChangeReason).toBeUndefined();
    expect(execution.SubstatementType).toBe("MERGE");
  });

  test('a MERGE bills only the staged object its "$path" filter names', async () => {
    // The MERGE filters on `"$path" = CAST('s3://...' AS VARCHAR)`, which Athena prunes to that
    // one object as it does `"$path" = 's3://...'`.
    const athena = newAthena();
    const upload = await stage({
      source: sourceKey("facilities.json"),
      version: "v1",
      eventTime: "2026-03-01T10:00:00.000Z",
      records: [facility("FAC-1", "One")],
    });
    await stage({
      source: sourceKey("other.json"),
      version: "v1",
      eventTime: "2026-03-01T10:00:00.000Z",
      records: [facility("FAC-2", "Two")],
    });
    const execution = await merge(athena, upload);
    expect(execution.Status.State).toBe("SUCCEEDED");
    expect(execution.Statistics.DataScannedInBytes).toBe(upload.bytes);
  });

  test('a MERGE reads only the staged object its "$path" names; a query without that filter reads them all', async () => {
    const athena = newAthena();
    const upload = await stage({
      source: sourceKey("facilities.json"),
      version: "v1",
      eventTime: "2026-03-01T10:00:00.000Z",
      records: [facility("FAC-1", "One")],
    });
    // Another object that cannot be read: the MERGE never opens it, a query over all uploads does.
    const broken = filterOutputKeys(sourceKey("broken.json"), { versionId: "v1" }).staging;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: broken, Body: "{not json\n" }));

    try {
      expect((await merge(athena, upload)).Status.State).toBe("SUCCEEDED");
      const all = await run(athena, `SELECT count(*) FROM ${CATALOG.stagingTable}`);
      expect(all.Status.State).toBe("FAILED");
      expect(all.Status.StateChangeReason).toContain(`s3://${BUCKET}/${broken}`);
    } finally {
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: broken }));
    }
  });
});
