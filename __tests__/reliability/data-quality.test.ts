/**
 * The validation policy end to end (the real workflow, handler and DuckDB current table): a
 * hospital system's export keeps every facility it identifies, with its repairs recorded; a file
 * past MAX_REJECTED_SHARE fails loudly and applies nothing; a rejected record that still shows an
 * expiring accreditation is named in a notification although the run succeeds; and the common
 * wrong files (CSV, UTF-16, Windows-1252) are read or explained. The per-file outcomes are in the
 * bad-input corpus (expected.json); this file checks what a compliance reader then sees.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecutionResult, LocalPipeline } from "../../local/pipeline";
import { facility, jsonLines } from "../fixtures/facilities";
import { AS_OF, withEnv, withPipeline } from "./helpers";

const CORPUS = join(__dirname, "..", "fixtures", "bad-input");
const scratch = mkdtempSync(join(tmpdir(), "data-quality-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

/** The current state's expiring accreditations: what the report and the digest show. */
async function expiringNow(pipeline: LocalPipeline) {
  return pipeline.querySql("expiring_accreditations", { as_of: AS_OF, window_months: 6 });
}

describe("a hospital system's export (bad-input/hospital-export.jsonl)", () => {
  let run: ExecutionResult;
  let expiring: Awaited<ReturnType<typeof expiringNow>>;
  let summary: Awaited<ReturnType<LocalPipeline["querySql"]>>;
  beforeAll(async () => {
    [run, expiring, summary] = await withPipeline({}, async (pipeline) => {
      const result = await pipeline.processFile(join(CORPUS, "hospital-export.jsonl"));
      return [result, await expiringNow(pipeline), await pipeline.querySql("facility_summary", { as_of: AS_OF })];
    });
  });

  test("keeps all 20 facilities: nothing rejected, 10 repaired, 6 with a warning, no notification", () => {
    expect(run.status).toBe("SUCCEEDED");
    expect(run.ingest).toMatchObject({ records: 20, valid: 20, rejected: 0, repaired: 10, warnings: 6 });
    expect(run.notifications).toEqual([]);
    expect(summary).toHaveLength(20);
  });

  test('NWH-0011, whose employee_count was "310", is in the current state\'s expiring list, 9 days out', () => {
    expect(expiring).toContainEqual(
      expect.objectContaining({ facility_id: "NWH-0011", valid_until: "2026-12-05", days_until_expiry: "9" }),
    );
    expect(summary.find((row) => row.facility_id === "NWH-0011")).toMatchObject({ employee_count: "310" });
  });

  test("a repaired date-time valid_until is counted as its date", () => {
    expect(expiring).toContainEqual(expect.objectContaining({ facility_id: "NWH-0013", valid_until: "2027-01-31" }));
  });

  test("the counts of each repair and warning come with the run", () => {
    expect(run.ingest!.repairCounts).toEqual({
      "location.state: state-code": 2,
      "location.zip: zip-number": 3,
      "accreditations[].valid_until: date-of-datetime": 3,
      "employee_count: integer-text": 2,
      "location.state: trim": 1,
    });
    expect(run.ingest!.warningCounts).toEqual({
      "location.address: is null": 3,
      "employee_count: is null": 1,
      "labs: is missing": 1,
      "services: is null": 1,
    });
  });
});

describe("past MAX_REJECTED_SHARE (a third of the lines broken)", () => {
  test("the run fails with one notification giving the share and the most common reasons; nothing is applied", async () => {
    await withPipeline({}, async (pipeline) => {
      const good = await pipeline.processFile(join(CORPUS, "hospital-export.jsonl"));
      expect(good.status).toBe("SUCCEEDED");
      const before = await pipeline.querySql("facility_summary", { as_of: AS_OF });

      const run = await withEnv({ MAX_REJECTED_SHARE: "0.1" }, () =>
        pipeline.processFile(join(CORPUS, "third-broken.jsonl")),
      );

      expect(run.status).toBe("FAILED");
      expect(run.error?.error).toBe("RejectedShareExceededError");
      expect(run.stateDurationsMs).not.toHaveProperty("MergeCurrentState");
      expect(run.notifications).toHaveLength(1);
      const [notification] = run.notifications;
      expect(notification.subject).toBe("Facility pipeline failed in IngestFacilities");
      expect(notification.message).toContain("10 of its 30 records (33.3%) are invalid");
      expect(notification.message).toContain("more than MAX_REJECTED_SHARE (10%)");
      expect(notification.message).toContain(
        'location.state: expected a two-letter US state or territory code such as "TX" (5); ' +
          "(record): not valid JSON (3); employee_count: must not be negative (2)",
      );
      expect(notification.message).toContain("1 rejected record shows an accreditation expiring within the window");
      expect(await pipeline.querySql("facility_summary", { as_of: AS_OF })).toEqual(before);
    });
  });
});

describe("a rejected record that still shows an expiring accreditation", () => {
  test("is named in a notification, and the run goes on to apply the rest", async () => {
    const soon = { accreditation_body: "COLA", accreditation_id: "COLA-NWH", valid_until: "2026-12-05" };
    const lines = [
      ...Array.from({ length: 12 }, (_, i) => facility({ facility_id: `OK-${i}` })),
      facility({ facility_id: "NWH-0099", employee_count: "about 300", accreditations: [soon] }),
    ];
    await withPipeline({}, async (pipeline) => {
      const run = await pipeline.processFile(file("one-bad.jsonl", jsonLines(lines)));

      expect(run.status).toBe("SUCCEEDED");
      expect(run.ingest).toMatchObject({ records: 13, valid: 12, rejected: 1, rejectedExpiring: 1 });
      expect(run.notifications.map((n) => n.subject)).toEqual([
        "Facility pipeline: rejected records with expiring accreditations",
      ]);
      const message = run.notifications[0].message;
      expect(message).toMatch(/^1 rejected record\(s\) of s3:\/\/local-facility-data\/raw\/one-bad\.jsonl still show/);
      expect(message).toContain('"facility_id":"NWH-0099"');
      expect(message).toContain('"days_until_expiry":9');
      expect(message).toContain(`s3://local-facility-data/${(run.ingest!.outputs as { rejected: string }).rejected}`);
      expect(await pipeline.querySql("facility_summary", { as_of: AS_OF })).toHaveLength(12);
    });
  });
});

describe("the common wrong files", () => {
  test.each([
    ["csv-export.csv", "NoValidRecordsError", "looks like a CSV export"],
    ["excel-export.xlsx", "NoValidRecordsError", "is a zip archive, such as an Excel workbook (.xlsx)"],
    ["windows-1252.jsonl", "RejectedShareExceededError", "is not UTF-8 but looks like Windows-1252"],
  ])("%s fails with a notification that names the file and the hint", async (name, error, hint) => {
    await withPipeline({}, async (pipeline) => {
      const run = await withEnv({ MAX_REJECTED_SHARE: "0.1" }, () => pipeline.processFile(join(CORPUS, name)));
      expect(run.error?.error).toBe(error);
      expect(run.notifications).toHaveLength(1);
      expect(run.notifications[0].message).toContain(`raw/${name} ${hint}`);
    });
  });

  test("a UTF-16 file with a byte order mark is decoded and kept whole", async () => {
    await withPipeline({}, async (pipeline) => {
      const run = await pipeline.processFile(join(CORPUS, "utf16le-bom.jsonl"));
      expect(run.status).toBe("SUCCEEDED");
      expect(run.ingest).toMatchObject({ records: 3, valid: 3, rejected: 0 });
      const names = (await pipeline.querySql("facility_summary", { as_of: AS_OF })).map((row) => row.facility_name);
      expect(names).toEqual(expect.arrayContaining(["Clínica San José"]));
    });
  });
});
