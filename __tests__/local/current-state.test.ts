/**
 * The answers are about facilities, not uploads: three uploads of one registry (moves, lost and
 * renewed accreditations, new facilities, repeats within a file, invalid lines, a byte-identical
 * re-upload), a failed re-upload, a key collision, a retirement and a late event of an older
 * upload, through the real workflow with a kept state directory. Every answer is compared with a
 * model computed here from the records themselves: the latest valid record per facility.
 */
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { scratchDirectory } from "../helpers/scratch";
import { LocalPipeline, objectCreatedEvent } from "../../local/pipeline";
import { extendedSampleRecords, jsonLines } from "../fixtures/facilities";

process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
// Upload 2 has 2 invalid records of 14 (14%), more than the default MAX_REJECTED_SHARE (10%).
process.env.MAX_REJECTED_SHARE = "0.25";

const AS_OF = "2026-11-26";
const WINDOW_END = "2027-05-26";
type Facility = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const { stateDir, file } = scratchDirectory("current-state-test-");

const clone = (record: Facility): Facility => structuredClone(record);
const byId = (records: readonly Facility[], id: string) => clone(records.find((r) => r.facility_id === id)!);

// Upload 1: the registry as it was (the extended sample, 10 facilities).
const v1 = extendedSampleRecords() as Facility[];

// Upload 2: TX-0001 moved to OK, CA-0002 lost every accreditation, AZ-0005 renewed to 2029, a new
// facility, WA-0008 twice (the later line wins), and two invalid lines.
const moved = {
  ...byId(v1, "FAC-TX-0001"),
  location: { address: "1 Elm St", city: "Tulsa", state: "OK", zip: "74103" },
};
const lost = { ...byId(v1, "FAC-CA-0002"), accreditations: [] };
const renewed = byId(v1, "FAC-AZ-0005");
renewed.accreditations = renewed.accreditations.map((a: Facility) => ({ ...a, valid_until: "2029-01-31" }));
const added = {
  ...byId(v1, "FAC-CO-0006"),
  facility_id: "FAC-NV-0011",
  location: { address: "2 Strip", city: "Reno", state: "NV", zip: "89501" },
  accreditations: [{ accreditation_body: "COLA", accreditation_id: "COLA-NV", valid_until: "2027-02-01" }],
};
const washingtonFirst = { ...byId(v1, "FAC-WA-0008"), facility_name: "first WA line" };
const washingtonLast = { ...byId(v1, "FAC-WA-0008"), facility_name: "last WA line" };
const unchanged = v1.filter(
  (r) => !["FAC-TX-0001", "FAC-CA-0002", "FAC-AZ-0005", "FAC-WA-0008"].includes(r.facility_id),
);
const v2Lines = [
  ...unchanged,
  moved,
  lost,
  renewed,
  washingtonFirst,
  '{"facility_id": "BROKEN", "facility_name": ',
  added,
  { ...byId(v1, "FAC-GA-0010"), employee_count: -5 }, // invalid: GA-0010 keeps its last valid record
  washingtonLast,
];
const v2Valid = [...unchanged, moved, lost, renewed, added, washingtonLast];

/** The model: the latest valid record per facility, as the current table must hold. */
function model(records: readonly Facility[], retired: readonly string[] = []) {
  const current = new Map<string, Facility>();
  for (const record of records) current.set(record.facility_id, record);
  for (const id of retired) current.delete(id);
  const facilities = [...current.values()];
  const states = new Map<string, { accredited: number; current: number }>();
  for (const facility of facilities) {
    if (facility.accreditations.length === 0) continue;
    const state = facility.location.state as string;
    const entry = states.get(state) ?? { accredited: 0, current: 0 };
    entry.accredited++;
    if (facility.accreditations.some((a: Facility) => a.valid_until >= AS_OF)) entry.current++;
    states.set(state, entry);
  }
  const stateCounts = [...states.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([state, counts]) => ({
      state,
      accredited_facility_count: counts.accredited,
      currently_accredited_facility_count: counts.current,
    }));
  const expiring = facilities
    .flatMap((f) =>
      f.accreditations
        .filter((a: Facility) => a.valid_until >= AS_OF && a.valid_until <= WINDOW_END)
        .map((a: Facility) => `${f.facility_id} ${a.accreditation_id} ${a.valid_until}`),
    )
    .sort();
  const ids = facilities.map((f) => f.facility_id as string).sort();
  return { stateCounts, expiring, ids };
}

/** What the pipeline answers now, from the current table, in the model's shape. */
async function answers(pipeline: LocalPipeline) {
  const stateCounts = (await pipeline.querySql("accredited_facilities_by_state", { as_of: AS_OF })).map((row) => ({
    state: row.state,
    accredited_facility_count: Number(row.accredited_facility_count),
    currently_accredited_facility_count: Number(row.currently_accredited_facility_count),
  }));
  const expiring = (await pipeline.querySql("expiring_accreditations", { as_of: AS_OF, window_months: 6 }))
    .map((row) => `${row.facility_id} ${row.accreditation_id} ${row.valid_until}`)
    .sort();
  const summary = await pipeline.querySql("facility_summary", { as_of: AS_OF });
  return { stateCounts, expiring, ids: summary.map((row) => row.facility_id as string), summary };
}

async function etagOf(pipeline: LocalPipeline, key: string): Promise<string> {
  const head = await pipeline.s3.send(new HeadObjectCommand({ Bucket: pipeline.bucket, Key: key }));
  return (head.ETag ?? "").replaceAll('"', "");
}

describe("three uploads of one registry, with a kept state directory", () => {
  let pipeline: LocalPipeline;
  let firstVersion: string;
  beforeAll(async () => {
    pipeline = await LocalPipeline.start({ stateDir, asOf: AS_OF, retryIntervalMs: 1 });
  });
  afterAll(async () => {
    await pipeline?.stop();
  });

  test("upload 1: the current state is the registry", async () => {
    const run = await pipeline.runExecution(
      await pipeline.upload(file("v1.jsonl", jsonLines(v1)), "raw/registry.jsonl"),
    );
    expect(run.status).toBe("SUCCEEDED");
    firstVersion = await etagOf(pipeline, "raw/registry.jsonl");
    const { summary, ...answered } = await answers(pipeline);
    expect(answered).toEqual(model(v1));
    expect(summary).toHaveLength(10);
  });

  test("upload 2 (moves, lost and renewed accreditations, a new facility, repeats, invalid lines): each facility once, its latest valid record", async () => {
    const run = await pipeline.runExecution(
      await pipeline.upload(file("v2.jsonl", jsonLines(v2Lines)), "raw/registry.jsonl"),
    );
    expect(run.status).toBe("SUCCEEDED");
    expect(run.ingest).toMatchObject({ records: 14, valid: 11, rejected: 3 }); // broken JSON, GA-0010 invalid, WA-0008 superseded
    const { summary, ...answered } = await answers(pipeline);
    expect(answered).toEqual(model([...v1, ...v2Valid]));
    // TX-0001 is counted in OK only; CA-0002 no longer counts; AZ-0005 no longer expires.
    expect(answered.stateCounts.find((row) => row.state === "TX")).toBeUndefined();
    expect(answered.stateCounts.find((row) => row.state === "CA")).toBeUndefined();
    expect(answered.expiring.filter((line) => line.startsWith("FAC-AZ-0005"))).toEqual([]);
    expect(summary.find((row) => row.facility_id === "FAC-WA-0008")?.facility_name).toBe("last WA line");
    expect(summary.find((row) => row.facility_id === "FAC-AZ-0005")?.next_accreditation_valid_until).toBe("2029-01-31");
    expect(summary.find((row) => row.facility_id === "FAC-CA-0002")?.next_accreditation_valid_until).toBeNull();
  });

  test("upload 3, byte-identical to upload 2, and a failed re-upload (a CSV saved as .jsonl) change nothing", async () => {
    const before = await answers(pipeline);
    const identical = await pipeline.runExecution(
      await pipeline.upload(file("v3.jsonl", jsonLines(v2Lines)), "raw/registry.jsonl"),
    );
    expect(identical.status).toBe("SUCCEEDED");
    expect(await answers(pipeline)).toEqual(before);

    const csv = file("export.jsonl", "facility_id,facility_name,state\nFAC-TX-0001,Lone Star,TX\n");
    const failed = await pipeline.runExecution(await pipeline.upload(csv, "raw/registry.jsonl"));
    expect(failed.status).toBe("FAILED");
    expect(failed.error?.error).toBe("NoValidRecordsError");
    expect(await answers(pipeline)).toEqual(before);
  });

  test("raw/coll.json and raw/coll.jsonl both count: neither erases the other", async () => {
    const a = { ...byId(v1, "FAC-OR-0004"), facility_id: "FAC-COLL-JSON" };
    const b = { ...byId(v1, "FAC-OR-0004"), facility_id: "FAC-COLL-JSONL" };
    await pipeline.runExecution(await pipeline.upload(file("coll.json", jsonLines([a])), "raw/coll.json"));
    await pipeline.runExecution(await pipeline.upload(file("coll.jsonl", jsonLines([b])), "raw/coll.jsonl"));
    const { ids } = await answers(pipeline);
    expect(ids).toEqual(expect.arrayContaining(["FAC-COLL-JSON", "FAC-COLL-JSONL"]));
  });

  test("a late event of an older upload changes nothing, and a redelivered event neither", async () => {
    const before = await answers(pipeline);
    // Upload 1's own event, late. The local bucket keeps no versions, so that version is gone: the
    // ingest refuses it (SourceChangedError) and no MERGE runs. (In AWS it is read by version id,
    // staged, and the MERGE keeps every newer row: the case below.)
    const lateFirst = await pipeline.runEvent(
      objectCreatedEvent("raw/registry.jsonl", 0, firstVersion, "2026-01-01T00:00:00Z"),
      { executionName: "late-first-upload" },
    );
    expect(lateFirst.error?.error).toBe("SourceChangedError");
    expect(lateFirst.stateDurationsMs.MergeCurrentState).toBeUndefined();
    expect(await answers(pipeline)).toEqual(before);

    // An upload of upload 1's records whose event says it is older than every current row.
    const v1Again = file("v1-again.jsonl", jsonLines(v1));
    await pipeline.upload(v1Again, "raw/older.jsonl");
    const event = objectCreatedEvent(
      "raw/older.jsonl",
      0,
      await etagOf(pipeline, "raw/older.jsonl"),
      "2020-01-01T00:00:00Z",
    );
    const late = await pipeline.runEvent(event, { executionName: "late-older-event" });
    expect(late.status).toBe("SUCCEEDED");
    expect(await answers(pipeline)).toEqual(before);
    const redelivered = await pipeline.runEvent(event, { executionName: "late-older-event-again" });
    expect(redelivered.status).toBe("SUCCEEDED");
    expect(await answers(pipeline)).toEqual(before);
  });

  test("a retirement (raw/retirements/) leaves the facility out of every answer; its history shows each record", async () => {
    const run = await pipeline.runExecution(
      await pipeline.upload(
        file("closed.jsonl", jsonLines([{ facility_id: "FAC-MA-0009" }])),
        "raw/retirements/closed.jsonl",
      ),
    );
    expect(run.status).toBe("SUCCEEDED");
    const { ids, stateCounts } = await answers(pipeline);
    expect(ids).not.toContain("FAC-MA-0009");
    expect(stateCounts.find((row) => row.state === "MA")).toBeUndefined();

    const history = await pipeline.querySql("facility_history", { facility_id: "FAC-MA-0009" });
    // Newest first by event time: the late event's upload (2020) is the oldest. Upload 3 is byte-
    // identical to upload 2: the same version (ETag) locally, so one staged object.
    expect(history.map((row) => [row.source_key, row.retired, row.changes])).toEqual([
      ["raw/retirements/closed.jsonl", "true", "retired"],
      ["raw/registry.jsonl", "false", "unchanged"],
      ["raw/registry.jsonl", "false", "unchanged"],
      ["raw/older.jsonl", "false", "first record"],
    ]);
  });

  test("the state directory keeps the current table: a new pipeline over it gives the same answers", async () => {
    const before = await answers(pipeline);
    await pipeline.stop();
    pipeline = await LocalPipeline.start({ stateDir, asOf: AS_OF, retryIntervalMs: 1 });
    expect(await answers(pipeline)).toEqual(before);
  });
});
