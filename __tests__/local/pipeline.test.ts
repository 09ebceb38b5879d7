/**
 * End to end through the real pieces: s3rver, the rendered ASL run by aws-local-stepfunctions,
 * the handler code, the sql/ queries in DuckDB.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { readResultRows } from "../../local/athena";
import type { FilterOutputKeys } from "../../lambdas/shared/output-keys";
import { LocalPipeline, type ExecutionResult } from "../../local/pipeline";
import { withPipeline } from "../reliability/helpers";

const AS_OF = "2026-11-26";
const EXTENDED = join(__dirname, "..", "..", "data", "extended_sample_facility_data.json");
// Every state's one facility has an accreditation on record; CA's and GA's have all expired by AS_OF.
const EXPECTED_STATE_COUNTS = ["AZ", "CA", "CO", "GA", "IL", "MA", "OR", "TX", "WA"].map((state) => ({
  state,
  accredited_facility_count: "1",
  currently_accredited_facility_count: state === "CA" || state === "GA" ? "0" : "1",
}));

const scratch = mkdtempSync(join(tmpdir(), "pipeline-test-"));
function scratchFile(name: string, content: string | Buffer): string {
  const file = join(scratch, name);
  writeFileSync(file, content);
  return file;
}
const records = readFileSync(EXTENDED, "utf8").trim().split("\n");

/** The output keys the ingest reported. */
function outputsOf(run: ExecutionResult): FilterOutputKeys {
  return run.ingest!.outputs as FilterOutputKeys;
}

async function stateCounts(pipeline: LocalPipeline): Promise<Record<string, string | null>[]> {
  return readResultRows(await pipeline.readObject("analytics/state_counts/latest.csv"));
}

describe("the local pipeline on the extended sample", () => {
  let run: ExecutionResult;
  let keys: string[];
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    pipeline = await LocalPipeline.start({ asOf: AS_OF });
    run = await pipeline.processFile(EXTENDED);
    keys = await pipeline.listKeys();
  });
  afterAll(() => pipeline.stop());

  test("the execution succeeds with the ingest counts", () => {
    expect(run.status).toBe("SUCCEEDED");
    expect(run.error).toBeNull();
    expect(run.ingest).toMatchObject({ records: 10, valid: 10, rejected: 0, expiring: 4, expired: 2 });
  });

  test("the accredited facility count per state is exact", async () => {
    expect(await stateCounts(pipeline)).toEqual(EXPECTED_STATE_COUNTS);
  });

  test("the expiring facilities are exactly those with an accreditation within 6 months of the as-of date", async () => {
    const lines = (await pipeline.readObject(outputsOf(run).expiring))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.facility_id).sort()).toEqual([
      "FAC-AZ-0005",
      "FAC-MA-0009",
      "FAC-TX-0001",
      "FAC-WA-0008",
    ]);
    const texas = lines.find((line) => line.facility_id === "FAC-TX-0001");
    expect(
      texas.accreditations.map((a: { accreditation_id: string; days_until_expiry: number }) => [
        a.accreditation_id,
        a.days_until_expiry,
      ]),
    ).toEqual(
      expect.arrayContaining([
        ["CAP-7720145", 19],
        ["TJC-448812", 125],
      ]),
    );
  });

  test("every output is at its documented key, and analytics holds CSV per run and latest", () => {
    // Unversioned bucket: each ingest output is named by the source key and its ETag.
    expect(run.ingest!.version).toMatch(/^etag:[0-9a-f]{32}$/);
    const version = `extended_sample_facility_data.json/etag=${(run.ingest!.version as string).slice(5)}.jsonl`;
    expect(outputsOf(run)).toEqual({
      staging: `staging/facilities/${version}`,
      rejected: `rejected/${version}`,
      quality: `quality/${version}`,
      expiring: `transformed/expiring_facilities/${version}`,
    });
    expect(keys).toEqual(
      expect.arrayContaining([
        "raw/extended_sample_facility_data.json",
        ...Object.values(outputsOf(run)),
        "analytics/state_counts/latest.csv",
        "analytics/facility_summary/latest.csv",
        `analytics/state_counts/run_date=${AS_OF}/${run.executionName}.csv`,
        `analytics/facility_summary/run_date=${AS_OF}/${run.executionName}.csv`,
      ]),
    );
    // The MERGE and the two analyses: one Athena result each.
    expect(keys.filter((key) => key.startsWith("athena-results/") && key.endsWith(".csv"))).toHaveLength(3);
  });

  test("the facility summary CSV has one row per facility and an empty expiry for the one without accreditations", async () => {
    const rows = readResultRows(await pipeline.readObject("analytics/facility_summary/latest.csv"));
    expect(rows).toHaveLength(10);
    expect(rows.find((row) => row.facility_id === "FAC-FL-0003")).toMatchObject({
      first_accreditation_valid_until: null,
    });
    expect(rows.find((row) => row.facility_id === "FAC-TX-0001")).toMatchObject({
      employee_count: "2400",
      number_of_services: "5",
      first_accreditation_valid_until: "2027-03-31",
    });
  });

  test("the state durations come from the execution history", () => {
    expect(Object.keys(run.stateDurationsMs)).toEqual(
      expect.arrayContaining([
        "IngestFacilities",
        "MergeCurrentState",
        "CountAccreditedByState",
        "ExtractFacilitySummary",
        "PublishStateCounts",
      ]),
    );
  });
});

describe("input formats", () => {
  test.each([
    ["a JSON array", "facilities.json", `[\n${records.join(",\n")}\n]\n`],
    ["gzip JSON Lines", "facilities.jsonl.gz", gzipSync(`${records.join("\n")}\n`)],
  ])("%s gives the same counts as JSON Lines", async (_kind, name, content) => {
    await withPipeline({}, async (pipeline) => {
      const run = await pipeline.processFile(scratchFile(name, content));
      expect(run.status).toBe("SUCCEEDED");
      expect(run.ingest).toMatchObject({ records: 10, valid: 10, rejected: 0, expiring: 4, expired: 2 });
      expect(await stateCounts(pipeline)).toEqual(EXPECTED_STATE_COUNTS);
    });
  });
});

describe("the failure path", () => {
  test("a FAILED Athena query fails the execution with one notification naming the object and the state", async () => {
    await withPipeline(
      { injections: [{ state: "CountAccreditedByState", error: "FAILED", times: Infinity }] },
      async (pipeline) => {
        const run = await pipeline.processFile(EXTENDED);
        expect(run.status).toBe("FAILED");
        expect(run.error?.error).toBe("States.TaskFailed");
        expect(run.notifications).toHaveLength(1);
        const [notification] = run.notifications;
        expect(notification.topic).toMatch(/^arn:aws:sns:us-east-1:\d{12}:local-facility-pipeline-failures$/);
        expect(notification.message).toContain("s3://local-facility-data/raw/extended_sample_facility_data.json");
        expect(notification.message).toContain("CountAccreditedByState");
        expect(notification.message).toContain(run.executionArn);
        expect(readFileSync(pipeline.outboxFile, "utf8").trim().split("\n")).toHaveLength(1);
      },
    );
  });

  test("Athena.TooManyRequestsException once is retried and the execution succeeds", async () => {
    await withPipeline(
      { injections: [{ state: "CountAccreditedByState", error: "Athena.TooManyRequestsException", times: 1 }] },
      async (pipeline) => {
        const run = await pipeline.processFile(EXTENDED);
        expect(run.status).toBe("SUCCEEDED");
        expect(run.retries).toBe(1);
        expect(run.notifications).toEqual([]);
        expect(await stateCounts(pipeline)).toEqual(EXPECTED_STATE_COUNTS);
      },
    );
  });

  test("a handler's own error is not retried: a file without a valid record fails with NoValidRecordsError", async () => {
    const bad = scratchFile("all-bad.jsonl", '{"facility_id": ""}\nnot json\n');
    await withPipeline({}, async (pipeline) => {
      const run = await pipeline.processFile(bad);
      expect(run.status).toBe("FAILED");
      expect(run.retries).toBe(0);
      expect(run.error?.error).toBe("NoValidRecordsError");
      // A failed ingest applies nothing to the current state.
      expect(run.stateDurationsMs).not.toHaveProperty("MergeCurrentState");
      expect(run.notifications).toHaveLength(1);
      expect(run.notifications[0].message).toContain("NoValidRecordsError");
      expect(run.notifications[0].message).toContain("IngestFacilities");
      const rejected = (await pipeline.readObject(outputsOf(run).rejected)).trim().split("\n");
      expect(rejected).toHaveLength(2);
    });
  });
});

describe("idempotency", () => {
  test("the same file twice gives the same objects and the same counts", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "pipeline-state-"));
    const once = await withPipeline({ stateDir }, async (pipeline) => {
      const run = await pipeline.processFile(EXTENDED);
      return { run, keys: await pipeline.listKeys(), counts: await stateCounts(pipeline) };
    });
    const twice = await withPipeline({ stateDir }, async (pipeline) => {
      const run = await pipeline.processFile(EXTENDED);
      return { run, keys: await pipeline.listKeys(), counts: await stateCounts(pipeline) };
    });
    // The second upload is a new event (its own event time); the object's ETag, and so every key, is the same.
    const { eventTime: _once, ...onceIngest } = once.run.ingest!;
    const { eventTime: _twice, ...twiceIngest } = twice.run.ingest!;
    expect(twiceIngest).toEqual(onceIngest);
    expect(twice.counts).toEqual(once.counts);
    // Athena writes a result per query, as in AWS; everything the pipeline publishes is rewritten in place.
    const published = (keys: string[]) => keys.filter((key) => !key.startsWith("athena-results/"));
    expect(published(twice.keys)).toEqual(published(once.keys));
  });
});
