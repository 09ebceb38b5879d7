/**
 * `npm run bench -- --quick`: the whole suite at tiny sizes, so a change that breaks a benchmark
 * shows up in `npm test`. The figures are not checked: at these sizes they mean nothing.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");

/** npm as it runs these tests (npm test sets npm_execpath), else the one on PATH. */
function npm(args: string[]): { command: string; args: string[] } {
  const cli = process.env.npm_execpath;
  return cli && cli.endsWith(".js") && existsSync(cli)
    ? { command: process.execPath, args: [cli, ...args] }
    : { command: "npm", args };
}

function run(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test("npm run bench -- --quick prints all six sections and writes its results", async () => {
  const results = join(mkdtempSync(join(tmpdir(), "bench-smoke-")), "results.json");
  const { command, args } = npm(["run", "--silent", "bench", "--", "--quick", "--results", results]);
  const { code, stdout, stderr } = await run(command, args);
  if (code !== 0) throw new Error(`exit code ${code}\n${stdout}\n${stderr}`);
  for (const title of [
    "1. Ingest",
    "2. Synth",
    "3. Cold start",
    "4. End to end, local",
    "5. Athena cost model",
    "Targets",
  ]) {
    expect(stdout).toContain(title);
  }
  expect(stdout).toContain("mode --quick");
  const written = JSON.parse(readFileSync(results, "utf8"));
  expect(written.mode).toBe("quick");
  expect(written.failures).toEqual([]);
  expect(Object.keys(written.sections).sort()).toEqual([
    "athenaCost",
    "coldStart",
    "endToEnd",
    "ingest",
    "scanGrowth",
    "synth",
  ]);
  expect(written.sections.endToEnd.data.transitionsPerExecution).toBeGreaterThan(0);
  expect(written.machine).toMatchObject({ cores: expect.any(Number), node: expect.stringMatching(/^v22\./) });
}, 120_000);

test("bad flags exit 2 with a message", async () => {
  const { command, args } = npm(["run", "--silent", "bench", "--", "--runs", "0", "--only", "everything"]);
  const { code, stderr } = await run(command, args);
  expect(code).toBe(2);
  expect(stderr).toContain('bench: --runs must be a whole number from 1 to 50 (received "0")');
  expect(stderr).toContain("bench: --only: unknown section(s) everything");
});
