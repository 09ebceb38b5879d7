/**
 * The subcommands against the local mode's state directory, through the real pieces: s3rver,
 * LocalPipeline (the ASL, the handlers) and DuckDB.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalPipeline } from "../../local/pipeline";
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
    const outside = await runCli("replay", ...local, "curated/facilities/extended.jsonl");
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
  test("runs the sql/ query in DuckDB over the curated objects and prints the rows and bytes scanned", async () => {
    const { code, stdout } = await runCli("query", ...local, "accredited_facilities_by_state", "--json");
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.columns).toEqual(["state", "accredited_facility_count"]);
    expect(result.rows).toEqual(
      ["AZ", "CA", "CO", "GA", "IL", "MA", "NY", "OR", "TX", "WA"].map((state) => ({
        state,
        accredited_facility_count: state === "TX" ? "2" : "1",
      })),
    );
    expect(result.dataScannedInBytes).toBeGreaterThan(0);
    expect(result.outputLocation).toMatch(/^s3:\/\/local-facility-data\/athena-results\/.+\.csv$/);
  }, 60_000);

  test("prints a table for a person", async () => {
    const { code, stdout } = await runCli("query", ...local, "facility_summary");
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^ {2}facility_id +facility_name +employee_count +number_of_services +first_accreditation_valid_until\n/,
    );
    expect(stdout).toMatch(/\d+ row\(s\) from sql\/facility_summary\.sql; [\d.]+ (bytes|KiB) scanned/);
  }, 60_000);

  test("--named-query is refused locally", async () => {
    const { code, stderr } = await runCli("query", ...local, "--named-query", "abc");
    expect(code).toBe(2);
    expect(stderr).toContain("--named-query applies to --target aws only");
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
