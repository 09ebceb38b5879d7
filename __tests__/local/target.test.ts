/**
 * The subcommands against the local mode's state directory, through the real pieces: s3rver,
 * LocalPipeline (the ASL, the handlers) and DuckDB.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { todayUtc } from "../../core/calendar-date";
import { LocalPipeline } from "../../local/pipeline";
import { facility, jsonLines } from "../fixtures/facilities";
import { runCli } from "../helpers/operations";

// The handlers' error logs of the execution that fails on purpose are expected; keep them out of the test output.
process.env.POWERTOOLS_LOG_LEVEL = "CRITICAL";

const DATA = join(__dirname, "..", "..", "data");
const stateDir = mkdtempSync(join(tmpdir(), "operations-local-"));
const local = ["--target", "local", "--state-dir", stateDir];
const executionRecords = () =>
  existsSync(join(stateDir, "executions")) ? readdirSync(join(stateDir, "executions")).sort() : [];

beforeAll(async () => {
  // What `npm start -- FILES --state-dir DIR` leaves behind: objects under raw/ in the local bucket.
  const pipeline = await LocalPipeline.start({ stateDir });
  try {
    await pipeline.upload(join(DATA, "sample_facility_data.json"), "raw/2026/11/sample_facility_data.json");
    await pipeline.upload(join(DATA, "extended_sample_facility_data.json"), "raw/2026/11/extended.json");
    const unusable = join(stateDir, "unusable.jsonl");
    writeFileSync(unusable, '{"not": "a facility"}\n');
    await pipeline.upload(unusable, "raw/2026/12/unusable.jsonl");
  } finally {
    await pipeline.stop();
  }
}, 60_000);

describe("replay --target local", () => {
  test("--dry-run lists what would start and runs nothing", async () => {
    const { code, stdout } = await runCli("replay", ...local, "--prefix", "raw/2026/11/", "--dry-run", "--json");
    expect(code).toBe(0);
    expect(JSON.parse(stdout).executions.map((e: { key: string; outcome: string }) => [e.key, e.outcome])).toEqual([
      ["raw/2026/11/extended.json", "would-start"],
      ["raw/2026/11/sample_facility_data.json", "would-start"],
    ]);
    expect(executionRecords()).toEqual([]);
  });

  test("runs the workflow once per object and records each execution", async () => {
    const { code, stdout } = await runCli("replay", ...local, "--prefix", "raw/2026/11/", "--json");

    expect(code).toBe(0);
    const executions = JSON.parse(stdout).executions;
    expect(executions).toEqual([
      expect.objectContaining({ key: "raw/2026/11/extended.json", outcome: "started", status: "SUCCEEDED" }),
      expect.objectContaining({
        key: "raw/2026/11/sample_facility_data.json",
        outcome: "started",
        status: "SUCCEEDED",
        bucket: "local-facility-data",
        versionId: null,
        etag: expect.stringMatching(/^[0-9a-f]{32}$/),
      }),
    ]);
    expect(executionRecords()).toEqual(
      executions.map((e: { executionName: string }) => `${e.executionName}.json`).sort(),
    );
  }, 60_000);

  test("replaying the same object version again is reported as already started, and nothing runs", async () => {
    const before = executionRecords();
    const { code, stdout } = await runCli("replay", ...local, "s3://local-facility-data/raw/2026/11/extended.json");
    expect(code).toBe(0);
    expect(stdout).toMatch(/already-started +raw\/2026\/11\/extended\.json/);
    expect(stdout).toContain("Started 0, already started 1");
    expect(executionRecords()).toEqual(before);
  });

  test("--label runs it again under a new name", async () => {
    const { code, stdout } = await runCli(
      "replay",
      ...local,
      "raw/2026/11/sample_facility_data.json",
      "--label",
      "rerun",
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /started +raw\/2026\/11\/sample_facility_data\.json .* rerun-2026_11_sample_facility_data_json-[0-9a-f]{16} +SUCCEEDED/,
    );
  }, 60_000);

  test("an execution that fails is shown with its failing state, and the exit code is 1", async () => {
    const { code, stdout } = await runCli("replay", ...local, "raw/2026/12/unusable.jsonl");
    expect(code).toBe(1);
    expect(stdout).toMatch(/started +raw\/2026\/12\/unusable\.jsonl .* FAILED/);
    expect(stdout).toMatch(/raw\/2026\/12\/unusable\.jsonl failed in IngestFacilities: NoValidRecordsError: /);
  }, 60_000);

  test("objects outside raw/ and objects that do not exist are refused with exit code 2", async () => {
    const outside = await runCli("replay", ...local, "staging/facilities/2026/11/extended.json/etag=0.jsonl");
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain("only objects under raw/ start the workflow");

    const missing = await runCli("replay", ...local, "raw/2026/11/nope.json");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("No such object: s3://local-facility-data/raw/2026/11/nope.json");
  });
});

describe("status --target local", () => {
  test("lists the recorded executions, newest first, with the failure; exit code 1 because one failed", async () => {
    const { code, stdout } = await runCli("status", ...local, "--json");
    expect(code).toBe(1);
    const result = JSON.parse(stdout);
    expect(result.counts).toEqual({ SUCCEEDED: 3, FAILED: 1 });
    expect(result.executions[0]).toMatchObject({
      status: "FAILED",
      source: { bucket: "local-facility-data", key: "raw/2026/12/unusable.jsonl" },
      failure: { state: "IngestFacilities", error: "NoValidRecordsError" },
    });
    const starts = result.executions.map((e: { startDate: string }) => e.startDate);
    expect(starts).toEqual([...starts].sort().reverse());
  });

  test("--since in the future shows none and exits 0", async () => {
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    const { code, stdout } = await runCli("status", ...local, "--since", tomorrow);
    expect(code).toBe(0);
    expect(stdout).toContain("(none)");
  });
});

describe("query --target local", () => {
  test("runs the sql/ query in DuckDB over the current state, as of --as-of, and prints the rows and bytes scanned", async () => {
    const { code, stdout } = await runCli(
      "query",
      ...local,
      "accredited_facilities_by_state",
      "--as-of",
      "2026-11-26",
      "--json",
    );
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.query).toBe("sql/accredited_facilities_by_state.sql (parameters '2026-11-26')");
    expect(result.columns).toEqual(["state", "accredited_facility_count", "currently_accredited_facility_count"]);
    // The sample and the extended sample, merged: CA-0103 and FL-0003 have no accreditation (no
    // row for FL); on 2026-11-26 CA-0002's, GA-0010's and TX-0102's have all ended.
    const notValid = new Set(["CA", "GA"]);
    expect(result.rows).toEqual(
      ["AZ", "CA", "CO", "GA", "IL", "MA", "NY", "OR", "TX", "WA"].map((state) => ({
        state,
        accredited_facility_count: state === "TX" ? "2" : "1",
        currently_accredited_facility_count: notValid.has(state) ? "0" : "1",
      })),
    );
    // Locally only staged objects count as scanned: this query reads the current table alone.
    expect(result.dataScannedInBytes).toBe(0);
    expect(result.outputLocation).toMatch(/^s3:\/\/local-facility-data\/athena-results\/.+\.csv$/);
  }, 60_000);

  test("--as-of is what the answer is about: an earlier date finds more accreditations valid", async () => {
    const { code, stdout } = await runCli(
      "query",
      ...local,
      "accredited_facilities_by_state",
      "--as-of",
      "2025-01-01",
      "--json",
    );
    expect(code).toBe(0);
    // On 2025-01-01 every accreditation of the two samples but IL-0007's second was still valid.
    expect(
      JSON.parse(stdout).rows.map((row: Record<string, string>) => [
        row.state,
        row.accredited_facility_count,
        row.currently_accredited_facility_count,
      ]),
    ).toEqual(
      ["AZ", "CA", "CO", "GA", "IL", "MA", "NY", "OR", "TX", "WA"].map((state) => [
        state,
        state === "TX" ? "2" : "1",
        state === "TX" ? "2" : "1",
      ]),
    );
  }, 60_000);

  test("prints a table for a person; without --as-of the query is as of today (UTC)", async () => {
    const before = todayUtc();
    const { code, stdout } = await runCli("query", ...local, "facility_summary");
    const after = todayUtc();
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^ {2}facility_id +facility_name +employee_count +number_of_services +first_accreditation_valid_until +next_accreditation_valid_until\n/,
    );
    // Every current facility once, retired ones left out: 3 from the sample, 10 from the extended one.
    expect(stdout).toMatch(
      /\n13 row\(s\) from sql\/facility_summary\.sql \(parameters '(\d{4}-\d\d-\d\d)'\); 0 bytes scanned/,
    );
    const asOf = /\(parameters '(\d{4}-\d\d-\d\d)'\)/.exec(stdout)![1];
    expect([before, after]).toContain(asOf);
  }, 60_000);

  test("--as-of pins facility_summary's next expiry: the first on or after that date", async () => {
    const { code, stdout } = await runCli("query", ...local, "facility_summary", "--as-of", "2026-11-26", "--json");
    expect(code).toBe(0);
    const rows = JSON.parse(stdout).rows as Record<string, string | null>[];
    // TX-0001's accreditations end 2027-03-31 and 2026-12-15; CA-0103 has none; TX-0102's ended.
    expect(rows.find((row) => row.facility_id === "FAC-TX-0001")).toMatchObject({
      first_accreditation_valid_until: "2027-03-31",
      next_accreditation_valid_until: "2026-12-15",
    });
    expect(rows.find((row) => row.facility_id === "FAC-CA-0103")).toMatchObject({
      first_accreditation_valid_until: null,
      next_accreditation_valid_until: null,
    });
    expect(rows.find((row) => row.facility_id === "FAC-TX-0102")).toMatchObject({
      first_accreditation_valid_until: "2025-03-31",
      next_accreditation_valid_until: null,
    });
  }, 60_000);

  test("--named-query is refused locally", async () => {
    const { code, stderr } = await runCli("query", ...local, "--named-query", "abc");
    expect(code).toBe(2);
    expect(stderr).toContain("--named-query applies to --target aws only");
  });
});

describe("history --target local", () => {
  // Two versions of one upload, raw/registry.jsonl: the second moves FAC-HIST-1 from NY to NJ and
  // leaves FAC-HIST-2 as it was.
  const historyDir = mkdtempSync(join(tmpdir(), "history-local-"));
  const historyLocal = ["--target", "local", "--state-dir", historyDir];
  const ny = { address: "1 Main St", city: "Albany", state: "NY", zip: "12204" };
  const nj = { address: "2 Elm St", city: "Newark", state: "NJ", zip: "07102" };
  const versions = [
    jsonLines([facility({ facility_id: "FAC-HIST-1", location: ny }), facility({ facility_id: "FAC-HIST-2" })]),
    jsonLines([facility({ facility_id: "FAC-HIST-2" }), facility({ facility_id: "FAC-HIST-1", location: nj })]),
  ];
  const etags = versions.map((text) => createHash("md5").update(text).digest("hex"));

  beforeAll(async () => {
    const pipeline = await LocalPipeline.start({ stateDir: historyDir, asOf: "2026-11-26" });
    try {
      for (const [i, text] of versions.entries()) {
        const file = join(historyDir, `v${i + 1}.jsonl`);
        writeFileSync(file, text);
        await pipeline.upload(file, "raw/registry.jsonl");
        expect((await pipeline.runExecution("raw/registry.jsonl")).status).toBe("SUCCEEDED");
      }
    } finally {
      await pipeline.stop();
    }
  }, 60_000);

  test("--json: every staged record of the facility, newest upload first, naming the column that changed", async () => {
    const { code, stdout } = await runCli("history", "FAC-HIST-1", ...historyLocal, "--json");
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(Object.keys(result)).toEqual(["facilityId", "records"]);
    expect(result.facilityId).toBe("FAC-HIST-1");
    expect(result.records).toEqual([
      {
        source_key: "raw/registry.jsonl",
        source_version: `etag:${etags[1]}`,
        event_time: expect.any(String),
        source_line: "2",
        retired: "false",
        facility_name: "Test Regional Medical Center",
        state: "NJ",
        accreditation_count: "1",
        changes: "location",
      },
      {
        source_key: "raw/registry.jsonl",
        source_version: `etag:${etags[0]}`,
        event_time: expect.any(String),
        source_line: "1",
        retired: "false",
        facility_name: "Test Regional Medical Center",
        state: "NY",
        accreditation_count: "1",
        changes: "first record",
      },
    ]);
    const [newer, older] = result.records.map((record: { event_time: string }) => record.event_time);
    expect(newer >= older).toBe(true);
  });

  test("a facility listed again unchanged says so", async () => {
    const { code, stdout } = await runCli("history", "FAC-HIST-2", ...historyLocal, "--json");
    expect(code).toBe(0);
    expect(
      JSON.parse(stdout).records.map((record: { source_line: string; changes: string }) => [
        record.source_line,
        record.changes,
      ]),
    ).toEqual([
      ["1", "unchanged"],
      ["2", "first record"],
    ]);
  });

  test("prints a table for a person, newest first, and the bytes of staged objects it read", async () => {
    const { code, stdout } = await runCli("history", "FAC-HIST-1", ...historyLocal);
    expect(code).toBe(0);
    const lines = stdout.split("\n");
    expect(lines[0]).toMatch(/^ {2}EVENT TIME +UPLOAD +VERSION +LINE +STATE +ACCREDITATIONS +WHAT CHANGED$/);
    expect(lines[1]).toMatch(
      new RegExp(`^ {2}\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z +raw/registry\\.jsonl +etag:${etags[1]} +2 +NJ +1 +location$`),
    );
    expect(lines[2]).toMatch(
      new RegExp(
        `^ {2}\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z +raw/registry\\.jsonl +etag:${etags[0]} +1 +NY +1 +first record$`,
      ),
    );
    // The staging table is what history reads, and locally staged objects count as scanned.
    expect(stdout).toMatch(/2 staged record\(s\) of FAC-HIST-1, newest first; .* [\d.]+ (bytes|KiB) scanned\.\n$/);
    expect(stdout).not.toMatch(/ 0 bytes scanned/);
  });

  test("a facility with no staged record exits 1 and says so; the id is matched exactly", async () => {
    for (const id of ["FAC-NOPE-1", "fac-hist-1"]) {
      const { code, stdout } = await runCli("history", id, ...historyLocal);
      expect(code).toBe(1);
      expect(stdout).toContain(`No staged record of facility "${id}"`);
      const json = await runCli("history", id, ...historyLocal, "--json");
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toEqual({ facilityId: id, records: [] });
    }
  });

  test("names one facility: none or two is a usage error (exit 2)", async () => {
    const none = await runCli("history", ...historyLocal);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("history shows one facility: history FACILITY_ID (received none)");
    const two = await runCli("history", "FAC-HIST-1", "FAC-HIST-2", ...historyLocal);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain("(received FAC-HIST-1 FAC-HIST-2)");
  });
});

describe("notify-test --target local", () => {
  test("appends a message marked as a test to the outbox", async () => {
    const { code, stdout } = await runCli("notify-test", ...local);
    expect(code).toBe(0);
    const outbox = join(stateDir, "outbox", "notifications.jsonl");
    expect(stdout).toContain(`Appended to ${outbox}`);
    const last = JSON.parse(readFileSync(outbox, "utf8").trim().split("\n").at(-1)!);
    expect(last).toEqual({
      topic: "arn:aws:sns:us-east-1:000000000000:local-facility-pipeline-failures",
      subject: expect.stringMatching(/^\[TEST\] /),
      message: expect.stringContaining("THIS IS A TEST"),
    });
  });
});

test("a state directory that does not exist says how to make one", async () => {
  const { code, stderr } = await runCli("status", "--target", "local", "--state-dir", join(stateDir, "nope"));
  expect(code).toBe(2);
  expect(stderr).toContain("no such directory");
  expect(stderr).toContain("npm start -- data/sample_facility_data.json --state-dir");
});
