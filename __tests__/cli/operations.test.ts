/** The command line: usage errors, help, and the CLI run as a process through bin/facility-pipeline.js. */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { USAGE, parseOperationsCli } from "../../cli/operations";
import { DEPLOYMENT, runCli } from "../helpers/operations";

const ROOT = join(__dirname, "..", "..");

describe("usage", () => {
  test.each([
    [["status", "--colour"], /status: Unknown option '--colour'/],
    [["status", "--dry-run"], /--dry-run belongs to replay, not status/],
    [["replay", "--since", "1h", "raw/a.json"], /--since belongs to status, not replay/],
    [["status", "--since", "yesterday"], /--since must be a duration such as 30m, 24h, 7d.*\(received "yesterday"\)/],
    [["status", "--limit", "0"], /--limit must be a whole number from 1 to 10000 \(received "0"\)/],
    [["query", "facility_summary", "--timeout", "soon"], /--timeout must be a duration such as 90s, 10m or 1h/],
    [["query", "a", "b"], /query runs one query at a time/],
    [
      ["query"],
      /query: name a query: accredited_facilities_by_state, current_state_uploads, expiring_accreditations, expiry_digest, facility_history, facility_summary, merge_current_state/,
    ],
    [["query", "facility_summary", "--named-query", "x"], /give a NAME or --named-query ID, not both/],
    [["status", "extra"], /status takes no arguments/],
    [["status", "--target", "gcp"], /--target must be aws or local \(received "gcp"\)/],
    [["status", "--target", "local"], /--target local needs --state-dir DIR/],
    [
      ["status", "--target", "local", "--state-dir", "/tmp", "--region", "eu-west-1"],
      /--region applies to --target aws only/,
    ],
    [["status", "--state-dir", "/tmp"], /--state-dir applies to --target local only/],
  ])("%j exits 2 and names the problem", async (argv, message) => {
    const { code, stdout, stderr } = await runCli(...argv);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(message);
  });

  test("several problems are listed together", async () => {
    const { code, stderr } = await runCli("status", "--since", "soon", "--limit", "x", "--label", "y");
    expect(code).toBe(2);
    expect(stderr).toMatch(/status: \n {2}- --label belongs to replay, not status\n {2}- --since .*\n {2}- --limit .*/);
  });

  test("--help prints the usage of every subcommand", async () => {
    for (const argv of [
      ["query", "--help"],
      ["status", "--help"],
      ["replay", "-h"],
    ]) {
      const { code, stdout } = await runCli(...argv);
      expect(code).toBe(0);
      expect(stdout).toBe(USAGE);
    }
    for (const text of [
      "replay s3://BUCKET/raw/KEY",
      "status",
      "query NAME",
      "notify-test",
      "--outputs FILE",
      "--target aws|local",
    ]) {
      expect(USAGE).toContain(text);
    }
  });

  test("defaults: target aws, outputs file cdktf-outputs.json, since 24h, limit 200", () => {
    const now = new Date("2026-11-26T12:00:00Z");
    expect(parseOperationsCli(["status"], now)).toMatchObject({
      target: "aws",
      outputsFile: "cdktf-outputs.json",
      since: new Date("2026-11-25T12:00:00Z"),
      limit: 200,
      json: false,
    });
  });
});

describe("as a process (bin/facility-pipeline.js)", () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    promisify(execFile)(
      process.execPath,
      ["--openssl-legacy-provider", join(ROOT, "bin", "facility-pipeline.js"), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, ...env },
      },
    ).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        stdout: error.stdout,
        stderr: error.stderr,
      }),
    );

  test("notify-test --target local --json prints only JSON and exits 0", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "operations-cli-"));
    const { code, stdout } = await run(["notify-test", "--target", "local", "--state-dir", stateDir, "--json"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ subject: expect.stringMatching(/^\[TEST\]/) });
    expect(readFileSync(join(stateDir, "outbox", "notifications.jsonl"), "utf8")).toContain("[TEST]");
  }, 30_000);

  test("operating AWS loads none of the local mode's dev dependencies (DuckDB, the local workflow, s3rver)", async () => {
    const script =
      'require("tsx/cjs"); require("./cli/operations.ts"); process.stdout.write(JSON.stringify(Object.keys(require.cache)' +
      ".filter((file) => /duckdb|aws-local-stepfunctions|s3rver|local[\\/]pipeline/.test(file))))";
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", script], { cwd: ROOT });
    expect(JSON.parse(stdout)).toEqual([]);
  }, 30_000);

  test("status without an outputs file exits 2 and says how to create one", async () => {
    const { code, stderr } = await run(["status", "--outputs", join(tmpdir(), "no-such-outputs.json")]);
    expect(code).toBe(2);
    expect(stderr).toContain("npx cdktf output --outputs-file");
  }, 30_000);

  test("without AWS credentials, exits 1 and says how to configure them (no network used)", async () => {
    const home = mkdtempSync(join(tmpdir(), "no-aws-"));
    const env = Object.fromEntries(
      Object.keys(process.env)
        .filter((k) => k.startsWith("AWS_"))
        .map((k) => [k, undefined]),
    );
    const { code, stderr } = await run(["notify-test", "--topic-arn", DEPLOYMENT.topicArn], {
      ...env,
      HOME: home,
      AWS_CONFIG_FILE: join(home, "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(home, "credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
    });
    expect(code).toBe(1);
    expect(stderr).toContain("No AWS credentials found");
  }, 30_000);
});
