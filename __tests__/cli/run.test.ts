import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { UsageError } from "../../core/target";
import { buildReport } from "../../cli/report";
import { INJECTABLE_STATES, parseCli } from "../../cli/run";
import { runCli } from "../helpers/operations";
import { facility, jsonLines } from "../fixtures/facilities";
import type { ResultRow } from "../../local/athena";
import type { ExecutionResult, LocalPipeline } from "../../local/pipeline";

const run = promisify(execFile);
const ROOT = join(__dirname, "..", "..");
const SAMPLE = join(ROOT, "data", "sample_facility_data.json");
/** The local bucket is not versioned: a file's version is its ETag, the MD5 of its bytes. */
const SAMPLE_ETAG = createHash("md5").update(readFileSync(SAMPLE)).digest("hex");
/** Where the sample's valid records are staged, one object per source version. */
const SAMPLE_STAGED = `staging/facilities/sample_facility_data.json/etag=${SAMPLE_ETAG}.jsonl`;
/** sql/expiring_accreditations.sql as of 2026-11-26 over the sample: one facility, one accreditation. */
const SAMPLE_EXPIRING = [
  {
    facility_id: "FAC-NY-0101",
    facility_name: "Hudson Valley General Hospital",
    state: "NY",
    accreditations: [
      {
        accreditation_body: "The Joint Commission",
        accreditation_id: "TJC-510233",
        valid_until: "2027-02-15",
        days_until_expiry: 81,
      },
    ],
  },
];

/** The ingest counts of the sample (3 valid records, one expiring accreditation, one expired), as --json gives them. */
const SAMPLE_INGEST = {
  records: 3,
  valid: 3,
  repaired: 0,
  warnings: 0,
  rejected: 0,
  rejectedExpiring: 0,
  expiring: 1,
  expired: 1,
};

/** Runs a command of the project the way a person does, returning exit code and output. */
async function shell(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd: ROOT, env: { ...process.env, FORCE_COLOR: "0" } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("npm start (the CLI as a process)", () => {
  test("on the sample data it exits 0 and prints the counts, the per-state table and the expiring accreditations", async () => {
    const { code, stdout } = await shell("npm", ["start", "--silent", "--", SAMPLE, "--as-of", "2026-11-26"]);
    expect(code).toBe(0);
    expect(stdout).toContain("raw/sample_facility_data.json  SUCCEEDED");
    expect(stdout).toContain("records 3  valid 3 (repaired 0, warnings 0)  rejected 0  expiring 1  expired 1");
    // TX-0102's only accreditation ended on 2025-03-31: accredited, but not valid on the as-of date.
    expect(stdout).toMatch(
      /Accredited facilities per state, current state as of 2026-11-26 .*\n {2}STATE {2}ACCREDITED {2}VALID ON 2026-11-26\n {2}NY +1 +1\n {2}TX +1 +0\n/,
    );
    expect(stdout).toContain("Accreditations expiring within 6 months of 2026-11-26, current state");
    expect(stdout).toMatch(
      /81 +FAC-NY-0101 +Hudson Valley General Hospital +NY +The Joint Commission +TJC-510233 +2027-02-15/,
    );
    expect(stdout).toContain(`  ${SAMPLE_STAGED}\n`);
    expect(stdout).toContain(`  rejected/sample_facility_data.json/etag=${SAMPLE_ETAG}.jsonl\n`);
    expect(stdout).toContain(`  transformed/expiring_facilities/sample_facility_data.json/etag=${SAMPLE_ETAG}.jsonl\n`);
    expect(stdout).not.toContain("curated/");
  });

  test("--json prints only the documented JSON on stdout", async () => {
    const { code, stdout } = await shell("npm", ["start", "--silent", "--", SAMPLE, "--as-of", "2026-11-26", "--json"]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(Object.keys(result)).toEqual([
      "runs",
      "stateCounts",
      "expiringFacilities",
      "rejectedReasons",
      "repairs",
      "rejectedExpiring",
      "notifications",
    ]);
    expect([result.rejectedReasons, result.repairs, result.rejectedExpiring]).toEqual([[], [], []]);
    expect(result.runs).toEqual([
      {
        source: "raw/sample_facility_data.json",
        status: "SUCCEEDED",
        ingest: SAMPLE_INGEST,
        error: null,
      },
    ]);
    expect(result.stateCounts).toEqual([
      { state: "NY", accredited_facility_count: 1, currently_accredited_facility_count: 1 },
      { state: "TX", accredited_facility_count: 1, currently_accredited_facility_count: 0 },
    ]);
    expect(result.expiringFacilities).toEqual(SAMPLE_EXPIRING);
    expect(result.notifications).toEqual([]);
  });

  test("a closed stdout ends the program quietly (npm start --silent -- --json | head -2)", async () => {
    const { spawn } = await import("node:child_process");
    const child = spawn(join(ROOT, "node_modules", ".bin", "node"), [
      "--openssl-legacy-provider",
      join(ROOT, "bin", "facility-pipeline.js"),
      SAMPLE,
      "--as-of",
      "2026-11-26",
      "--json",
    ]);
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    // Like head: read the first chunk, then close the pipe.
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(stderr).not.toMatch(/EPIPE|Error|at /);
    expect(code).toBe(0);
  }, 30_000);
});

describe("the command line as a user meets it (in-process)", () => {
  test("a failed execution exits 1, prints the error as a person reads it, and shows the notification", async () => {
    const json = await runCli(SAMPLE, "--inject", "ExtractFacilitySummary=FAILED", "--json");
    expect(json.code).toBe(1);
    const result = JSON.parse(json.stdout);
    expect(result.runs[0]).toMatchObject({ status: "FAILED", error: { error: "States.TaskFailed" } });
    expect(result.notifications).toHaveLength(1);
    expect(result.notifications[0].subject).toContain("Analyze");

    const text = await runCli(SAMPLE, "--inject", "ExtractFacilitySummary=FAILED");
    expect(text.code).toBe(1);
    // The error name and the cause's message, not an escaped JSON blob cut mid-trace.
    expect(text.stdout).toMatch(/error States\.TaskFailed: ExtractFacilitySummary failed: .*injected_failure/);
    expect(text.stdout).not.toMatch(/error .*\{"QueryExecution"/);
  });

  test("NoValidRecordsError: --json still reports the ingest counts it made", async () => {
    const dir = mkdtempSync(join(tmpdir(), "no-valid-"));
    const file = join(dir, "all-bad.jsonl");
    writeFileSync(file, '{"facility_name": "no id"}\n{"facility_id": ""}\n');
    const { code, stdout } = await runCli(file, "--json");
    expect(code).toBe(1);
    const [run] = JSON.parse(stdout).runs;
    expect(run).toMatchObject({ status: "FAILED", error: { error: "NoValidRecordsError" } });
    expect(run.ingest).toEqual({
      records: 2,
      valid: 0,
      repaired: 0,
      warnings: 0,
      rejected: 2,
      rejectedExpiring: 0,
      expiring: 0,
      expired: 0,
    });
  });

  test("--inject with a state that does not exist (a typo) is a usage error that lists the states", async () => {
    const { code, stderr } = await runCli(SAMPLE, "--inject", "IngestFacilites=X");
    expect(code).toBe(2);
    expect(stderr).toContain('no state "IngestFacilites" in the workflow: use one of ');
    for (const state of INJECTABLE_STATES) expect(stderr).toContain(state);
    expect(INJECTABLE_STATES).toEqual(expect.arrayContaining(["IngestFacilities", "NotifyFailure"]));
  });

  test.each([
    [
      "a regular file",
      () => {
        const file = join(mkdtempSync(join(tmpdir(), "state-file-")), "state");
        writeFileSync(file, "not a directory");
        return file;
      },
      /--state-dir .*state: not a directory/,
    ],
    ["a directory nobody can write (/proc)", () => "/proc", /--state-dir \/proc: /],
    ["a path under /proc", () => "/proc/facility-state", /--state-dir \/proc\/facility-state: cannot create it/],
  ])(
    "--state-dir naming %s: one line naming the path and the problem, exit 2, at once",
    async (_what, path, message) => {
      const started = Date.now();
      const { code, stderr } = await runCli(SAMPLE, "--state-dir", path());
      expect(code).toBe(2);
      expect(stderr).toMatch(message);
      expect(stderr.split("\n")[0]).toMatch(/^facility-pipeline: --state-dir /);
      expect(stderr).not.toMatch(/ENOTDIR|\n\s+at /);
      expect(Date.now() - started).toBeLessThan(1000);
    },
  );

  test("the report says where the objects are and how to read one; cat prints it", async () => {
    const temporary = await runCli(SAMPLE, "--as-of", "2026-11-26");
    expect(temporary.code).toBe(0);
    expect(temporary.stdout).toContain("temporary directory, removed when this program ends");
    expect(temporary.stdout).not.toContain("stored in");

    const stateDir = mkdtempSync(join(tmpdir(), "kept-"));
    const kept = await runCli(SAMPLE, "--as-of", "2026-11-26", "--state-dir", stateDir);
    expect(kept.stdout).toContain(`facility-pipeline cat KEY --target local --state-dir ${stateDir}`);
    // A key the report lists: the upload's staged records, one object per source version.
    expect(kept.stdout).toContain(`  ${SAMPLE_STAGED}\n`);
    const cat = await runCli("cat", SAMPLE_STAGED, "--target", "local", "--state-dir", stateDir);
    expect(cat.code).toBe(0);
    expect(
      cat.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).facility_id),
    ).toEqual(["FAC-NY-0101", "FAC-TX-0102", "FAC-CA-0103"]);
    const missing = await runCli(
      "cat",
      "staging/facilities/nothing.jsonl/etag=0.jsonl",
      "--target",
      "local",
      "--state-dir",
      stateDir,
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      "No such object: s3://local-facility-data/staging/facilities/nothing.jsonl/etag=0.jsonl",
    );
  });

  test("-h shows the exit codes and every state --inject accepts", async () => {
    const { code, stdout } = await runCli("-h");
    expect(code).toBe(0);
    expect(stdout).toContain("Exit codes: 0 every execution succeeded; 1 an execution failed; 2 bad usage");
    for (const state of INJECTABLE_STATES) expect(stdout).toContain(state);
  });

  test.each([
    [["missing.json"], /missing\.json: no such file/],
    [["--as-of", "2026-02-30"], /--as-of must be a calendar date written YYYY-MM-DD \(received "2026-02-30"\)/],
    [["--window-months", "0"], /--window-months must be a whole number from 1 to 60 \(received "0"\)/],
    [["--colour"], /Unknown option '--colour'/],
    [["--settle", "2"], /--settle applies to --watch only/],
    [["--watch", ".", "--existing", "later"], /--existing must be process or skip \(received "later"\)/],
  ])("bad usage %j exits 2 with a message naming the value", async (args, message) => {
    const { code, stderr } = await runCli(...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  test("--as-of and --window-months reach the execution, and the report shows what it used", async () => {
    const { code, stdout } = await runCli(SAMPLE, "--as-of", "2026-01-10", "--window-months", "24", "--json");
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    // FAC-NY-0101's accreditation of 2027-02-15 is 401 days after 2026-01-10: inside 24 months only.
    expect(result.expiringFacilities[0].accreditations[0]).toMatchObject({ days_until_expiry: 401 });
    const text = await runCli(SAMPLE, "--as-of", "2026-01-10", "--window-months", "24");
    expect(text.stdout).toContain("as of 2026-01-10, expiry window 24 months");
    expect(text.stdout).toContain("STATE  ACCREDITED  VALID ON 2026-01-10");
  });

  test("after several runs on one state directory, the report describes the current state, not the last upload", async () => {
    const scratch = mkdtempSync(join(tmpdir(), "current-report-"));
    const stateDir = join(scratch, "state");
    // Two versions of one file (the same raw/registry.jsonl): the second moves FAC-MOVE-1 from NY
    // to NJ and does not list FAC-STAY-1, which stays as it was.
    const version = (name: string, records: readonly unknown[]) => {
      mkdirSync(join(scratch, name));
      const path = join(scratch, name, "registry.jsonl");
      writeFileSync(path, jsonLines(records));
      return path;
    };
    const ny = { address: "1 Main St", city: "Albany", state: "NY", zip: "12204" };
    const nj = { address: "2 Elm St", city: "Newark", state: "NJ", zip: "07102" };
    const first = version("v1", [
      facility({ facility_id: "FAC-MOVE-1", location: ny }),
      facility({ facility_id: "FAC-STAY-1", location: ny }),
    ]);
    const second = version("v2", [facility({ facility_id: "FAC-MOVE-1", location: nj })]);
    const counts = (state: string, accredited: number) => ({
      state,
      accredited_facility_count: accredited,
      currently_accredited_facility_count: accredited,
    });

    const before = await runCli(first, "--as-of", "2026-11-26", "--state-dir", stateDir, "--json");
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout).stateCounts).toEqual([counts("NY", 2)]);

    const after = await runCli(second, "--as-of", "2026-11-26", "--state-dir", stateDir, "--json");
    expect(after.code).toBe(0);
    const report = JSON.parse(after.stdout);
    expect(report.runs).toEqual([expect.objectContaining({ source: "raw/registry.jsonl", status: "SUCCEEDED" })]);
    // The second upload alone holds one facility in NJ; the current state has both facilities.
    expect(report.stateCounts).toEqual([counts("NJ", 1), counts("NY", 1)]);
    // facility()'s accreditation expires on 2027-01-15, 50 days after the as-of date.
    expect(
      report.expiringFacilities.map((f: { facility_id: string; state: string; accreditations: unknown[] }) => [
        f.facility_id,
        f.state,
        f.accreditations,
      ]),
    ).toEqual([
      ["FAC-MOVE-1", "NJ", [expect.objectContaining({ valid_until: "2027-01-15", days_until_expiry: 50 })]],
      ["FAC-STAY-1", "NY", [expect.objectContaining({ valid_until: "2027-01-15", days_until_expiry: 50 })]],
    ]);
  }, 60_000);
});

describe("parseCli", () => {
  test("defaults to the extended sample data", () => {
    const options = parseCli([]);
    expect(options).not.toBe("help");
    expect((options as Exclude<typeof options, "help">).files[0]).toMatch(/data\/extended_sample_facility_data\.json$/);
  });

  test("--inject takes STATE=ERROR with an optional count, and repeats", () => {
    const options = parseCli([
      SAMPLE,
      "--inject",
      "IngestFacilities=Lambda.TooManyRequestsException:2",
      "--inject",
      "NotifyFailure=SNS.ThrottledException",
    ]);
    expect(options !== "help" && options.pipeline.injections).toEqual([
      { state: "IngestFacilities", error: "Lambda.TooManyRequestsException", times: 2 },
      { state: "NotifyFailure", error: "SNS.ThrottledException", times: Infinity },
    ]);
    expect(() => parseCli(["--inject", "IngestFacilities"])).toThrow(UsageError);
  });

  test("--help is recognised", () => {
    expect(parseCli(["--help"])).toBe("help");
  });
});

describe("--watch", () => {
  test("processes a file as it lands in the folder, prints its report, and stops on Ctrl-C", async () => {
    const { spawn } = await import("node:child_process");
    const { copyFileSync, mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const incoming = mkdtempSync(join(tmpdir(), "incoming-"));
    const child = spawn(join(ROOT, "node_modules", ".bin", "node"), [
      "--openssl-legacy-provider",
      join(ROOT, "bin", "facility-pipeline.js"),
      "--watch",
      incoming,
      "--as-of",
      "2026-11-26",
      "--settle",
      "0.3",
      "--json",
    ]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const waitFor = async (condition: () => boolean, what: string) => {
      for (let waited = 0; !condition(); waited += 100) {
        if (waited > 20_000) throw new Error(`timed out waiting for ${what}; stderr: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      await waitFor(() => stderr.includes("Watching"), "the watcher to start");
      copyFileSync(SAMPLE, join(incoming, "landed.jsonl"));
      await waitFor(() => stdout.includes("\n"), "the first report");
      const report = JSON.parse(stdout.split("\n")[0]);
      expect(report.runs).toEqual([
        {
          source: "raw/landed.jsonl",
          status: "SUCCEEDED",
          ingest: SAMPLE_INGEST,
          error: null,
        },
      ]);
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  }, 30_000);
});

/**
 * A pipeline that answers querySql as LocalPipeline does: the rows of sql/<name>.sql as read from
 * Athena's CSV result, every value a string (or null), in the query's order.
 */
function fakePipeline(
  rows: Readonly<Record<string, readonly ResultRow[]>>,
  readObject: (key: string, options?: { firstBytes?: number }) => Promise<string> = async () => "",
) {
  const queries: [string, Readonly<Record<string, string | number>>][] = [];
  const pipeline = {
    bucket: "local-facility-data",
    stateDir: "/tmp/x",
    isTemporary: false,
    outboxFile: "/tmp/x/outbox/notifications.jsonl",
    options: {},
    querySql: async (name: string, values: Readonly<Record<string, string | number>>) => {
      queries.push([name, values]);
      return [...(rows[name] ?? [])];
    },
    readObject,
    listKeys: async () => [],
  } as unknown as LocalPipeline;
  return { pipeline, queries };
}

/** A row of sql/expiring_accreditations.sql. */
function expiringRow(
  facilityId: string,
  state: string,
  accreditationId: string,
  validUntil: string,
  days: number,
): ResultRow {
  return {
    facility_id: facilityId,
    facility_name: `${facilityId} name`,
    state,
    accreditation_body: "COLA",
    accreditation_id: accreditationId,
    valid_until: validUntil,
    days_until_expiry: String(days),
  };
}

describe("buildReport", () => {
  test("reads the current state with the workflow's SQL, as of the date and window the executions used", async () => {
    const { pipeline, queries } = fakePipeline({
      accredited_facilities_by_state: [
        { state: "NJ", accredited_facility_count: "3", currently_accredited_facility_count: "2" },
        { state: "NY", accredited_facility_count: "1", currently_accredited_facility_count: "0" },
      ],
      expiring_accreditations: [
        expiringRow("FAC-B", "NJ", "B-1", "2026-12-01", 5),
        expiringRow("FAC-A", "NJ", "A-1", "2026-12-10", 14),
        expiringRow("FAC-B", "NJ", "B-2", "2027-01-31", 66),
      ],
    });
    const run = {
      source: "raw/registry.jsonl",
      status: "SUCCEEDED",
      ingest: { records: 4, valid: 4, rejected: 0, expiring: 3, expired: 0, asOf: "2026-11-26", windowMonths: 3 },
      output: {},
      notifications: [],
    } as unknown as ExecutionResult;
    const report = await buildReport(pipeline, [run]);
    expect(queries).toEqual([
      ["accredited_facilities_by_state", { as_of: "2026-11-26" }],
      ["expiring_accreditations", { as_of: "2026-11-26", window_months: 3 }],
    ]);
    expect(report).toMatchObject({ asOf: "2026-11-26", windowMonths: 3 });
    expect(report.stateCounts).toEqual([
      { state: "NJ", accredited_facility_count: 3, currently_accredited_facility_count: 2 },
      { state: "NY", accredited_facility_count: 1, currently_accredited_facility_count: 0 },
    ]);
    // One entry per facility, in the order of its soonest accreditation, each with its own in order.
    expect(report.expiringFacilities).toEqual([
      {
        facility_id: "FAC-B",
        facility_name: "FAC-B name",
        state: "NJ",
        accreditations: [
          { accreditation_body: "COLA", accreditation_id: "B-1", valid_until: "2026-12-01", days_until_expiry: 5 },
          { accreditation_body: "COLA", accreditation_id: "B-2", valid_until: "2027-01-31", days_until_expiry: 66 },
        ],
      },
      {
        facility_id: "FAC-A",
        facility_name: "FAC-A name",
        state: "NJ",
        accreditations: [
          { accreditation_body: "COLA", accreditation_id: "A-1", valid_until: "2026-12-10", days_until_expiry: 14 },
        ],
      },
    ]);
  });

  test("gathers hundreds of thousands of expiring facilities without overflowing the stack", async () => {
    const count = 300_000;
    const { pipeline } = fakePipeline({
      expiring_accreditations: Array.from({ length: count }, (_, i) =>
        expiringRow(`F${i}`, "TX", `A${i}`, "2027-01-15", 50),
      ),
    });
    const run = {
      source: "raw/big.jsonl",
      status: "SUCCEEDED",
      ingest: {
        records: count,
        valid: count,
        rejected: 0,
        expiring: count,
        expired: 0,
        asOf: "2026-11-26",
        windowMonths: 6,
        outputs: { expiring: "transformed/expiring_facilities/big.jsonl/etag=0.jsonl" },
      },
      output: {},
      notifications: [],
    } as unknown as ExecutionResult;
    const report = await buildReport(pipeline, [run]);
    expect(report.expiringFacilities).toHaveLength(count);
    expect(report.expiringFacilities[count - 1]).toMatchObject({
      facility_id: `F${count - 1}`,
      accreditations: [{ days_until_expiry: 50 }],
    });
  });

  test("shows the first rejected records from the head of the rejected output, and counts them all", async () => {
    const rejectedLines = `${Array.from({ length: 50_000 }, (_, i) => JSON.stringify({ line: i + 1, reasons: ["bad"] })).join("\n")}\n`;
    const requested: (number | undefined)[] = [];
    const { pipeline } = fakePipeline({}, async (_key: string, options: { firstBytes?: number } = {}) => {
      requested.push(options.firstBytes);
      return options.firstBytes === undefined ? rejectedLines : rejectedLines.slice(0, options.firstBytes);
    });
    const run = {
      source: "raw/bad.jsonl",
      status: "FAILED",
      ingest: {
        records: 50_000,
        valid: 0,
        rejected: 50_000,
        expiring: 0,
        expired: 0,
        outputs: { rejected: "rejected/bad.jsonl/etag=0.jsonl" },
      },
      output: null,
      notifications: [],
    } as unknown as ExecutionResult;
    const report = await buildReport(pipeline, [run, { ...run, source: "raw/bad2.jsonl" }]);
    expect(report.rejectedRecords.map((record) => record.line)).toEqual([1, 2, 3, 4, 5]);
    expect(report.rejectedTotal).toBe(100_000);
    expect(requested).toEqual([expect.any(Number)]);
    expect(requested[0]).toBeLessThan(rejectedLines.length);
    expect(report.stateCounts).toEqual([]);
    expect(report.expiringFacilities).toEqual([]);
  });
});
