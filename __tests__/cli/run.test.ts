import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { UsageError } from "../../core/target";
import { buildReport } from "../../cli/report";
import { INJECTABLE_STATES, parseCli } from "../../cli/run";
import { runCli } from "../helpers/operations";
import type { ExecutionResult, LocalPipeline } from "../../local/pipeline";

const run = promisify(execFile);
const ROOT = join(__dirname, "..", "..");
const SAMPLE = join(ROOT, "data", "sample_facility_data.json");

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
    expect(stdout).toContain("records 3  valid 3  rejected 0  expiring 1  expired 1");
    expect(stdout).toMatch(/Accredited facilities per state\n {2}STATE {2}FACILITIES\n {2}NY +1\n {2}TX +1\n/);
    expect(stdout).toMatch(/FAC-NY-0101 +NY +The Joint Commission +TJC-510233 +2027-02-15 +81/);
    expect(stdout).toContain("curated/facilities/sample_facility_data.jsonl");
  });

  test("--json prints only the documented JSON on stdout", async () => {
    const { code, stdout } = await shell("npm", ["start", "--silent", "--", SAMPLE, "--as-of", "2026-11-26", "--json"]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(Object.keys(result)).toEqual(["runs", "stateCounts", "expiringFacilities", "notifications"]);
    expect(result.runs).toEqual([
      {
        source: "raw/sample_facility_data.json",
        status: "SUCCEEDED",
        ingest: { records: 3, valid: 3, rejected: 0, expiring: 1, expired: 1 },
        error: null,
      },
    ]);
    expect(result.stateCounts).toEqual([
      { state: "NY", accredited_facility_count: 1 },
      { state: "TX", accredited_facility_count: 1 },
    ]);
    expect(result.expiringFacilities).toMatchObject([{ facility_id: "FAC-NY-0101", state: "NY" }]);
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
    expect(run.ingest).toEqual({ records: 2, valid: 0, rejected: 2, expiring: 0, expired: 0 });
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
    const cat = await runCli(
      "cat",
      "curated/facilities/sample_facility_data.jsonl",
      "--target",
      "local",
      "--state-dir",
      stateDir,
    );
    expect(cat.code).toBe(0);
    expect(
      cat.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).facility_id),
    ).toHaveLength(3);
    const missing = await runCli(
      "cat",
      "curated/facilities/nothing.jsonl",
      "--target",
      "local",
      "--state-dir",
      stateDir,
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("No such object: s3://local-facility-data/curated/facilities/nothing.jsonl");
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
  });
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
          ingest: { records: 3, valid: 3, rejected: 0, expiring: 1, expired: 1 },
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

describe("buildReport", () => {
  test("gathers hundreds of thousands of expiring facilities without overflowing the stack", async () => {
    const count = 300_000;
    const expiringLines = `${Array.from({ length: count }, (_, i) => JSON.stringify({ facility_id: `F${i}` })).join("\n")}\n`;
    const pipeline = {
      bucket: "local-facility-data",
      stateDir: "/tmp/x",
      outboxFile: "/tmp/x/outbox/notifications.jsonl",
      options: {},
      readObject: async (key: string) => (key.startsWith("transformed/") ? expiringLines : ""),
      listKeys: async () => [],
    } as unknown as LocalPipeline;
    const run = {
      source: "raw/big.jsonl",
      status: "SUCCEEDED",
      ingest: {
        records: count,
        valid: count,
        rejected: 0,
        expiring: count,
        expired: 0,
        outputs: { expiring: "transformed/expiring_facilities/big.jsonl" },
      },
      output: {},
      notifications: [],
    } as unknown as ExecutionResult;
    const report = await buildReport(pipeline, [run]);
    expect(report.expiringFacilities).toHaveLength(count);
  });

  test("shows the first rejected records from the head of the rejected output, and counts them all", async () => {
    const rejectedLines = `${Array.from({ length: 50_000 }, (_, i) => JSON.stringify({ line: i + 1, reasons: ["bad"] })).join("\n")}\n`;
    const requested: (number | undefined)[] = [];
    const pipeline = {
      bucket: "local-facility-data",
      stateDir: "/tmp/x",
      outboxFile: "/tmp/x/outbox/notifications.jsonl",
      options: {},
      readObject: async (_key: string, options: { firstBytes?: number } = {}) => {
        requested.push(options.firstBytes);
        return options.firstBytes === undefined ? rejectedLines : rejectedLines.slice(0, options.firstBytes);
      },
      listKeys: async () => [],
    } as unknown as LocalPipeline;
    const run = {
      source: "raw/bad.jsonl",
      status: "FAILED",
      ingest: {
        records: 50_000,
        valid: 0,
        rejected: 50_000,
        expiring: 0,
        expired: 0,
        outputs: { rejected: "rejected/bad.jsonl" },
      },
      output: null,
      notifications: [],
    } as unknown as ExecutionResult;
    const report = await buildReport(pipeline, [run, { ...run, source: "raw/bad2.jsonl" }]);
    expect(report.rejectedRecords.map((record) => record.line)).toEqual([1, 2, 3, 4, 5]);
    expect(report.rejectedTotal).toBe(100_000);
    expect(requested).toEqual([expect.any(Number)]);
    expect(requested[0]).toBeLessThan(rejectedLines.length);
  });
});
