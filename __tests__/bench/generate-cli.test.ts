/** npm run generate: flags, their errors, and one real run of the command. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCount, parseGenerateArgs, parseRate } from "../../bench/generate";

const ROOT = join(__dirname, "..", "..");

describe("parseGenerateArgs", () => {
  test("reads counts with k and m, rates as fractions or percentages, and defaults the rest", () => {
    expect(parseGenerateArgs(["--facilities", "100k", "--invalid-rate", "1%", "--out", "f.jsonl"])).toEqual({
      out: "f.jsonl",
      facilities: 100_000,
      invalidRate: 0.01,
      repairRate: 0,
      seed: 1,
      format: "jsonl",
      gzip: false,
    });
    expect(
      parseGenerateArgs([
        "--facilities=2500",
        "--invalid-rate=0.25",
        "--out=-",
        "--format=array",
        "--gzip",
        "--seed=42",
        "--repair-rate=5%",
      ]),
    ).toMatchObject({
      facilities: 2500,
      invalidRate: 0.25,
      repairRate: 0.05,
      out: "-",
      format: "array",
      gzip: true,
      seed: 42,
    });
    expect(() => parseGenerateArgs(["--facilities=1", "--invalid-rate=0", "--out=-", "--repair-rate=2"])).toThrow(
      '--repair-rate must be a number from 0 to 1 such as 0.05, or a percentage such as 5% (received "2")',
    );
    expect(parseCount("1m")).toBe(1_000_000);
    expect(parseCount("1.5k")).toBe(1500);
    expect(parseCount("10_000")).toBe(10_000);
    expect(parseRate(".5")).toBe(0.5);
  });

  test("names every missing flag", () => {
    expect(() => parseGenerateArgs([])).toThrow(
      /--facilities is required\n--invalid-rate is required\n--out is required/,
    );
  });

  test.each([
    [["--facilities", "lots"], /--facilities must be a whole number .*received "lots"/],
    [["--facilities", "1.5"], /--facilities must be a whole number .*received "1.5"/],
    [["--invalid-rate", "1.2"], /--invalid-rate must be a number from 0 to 1 .*received "1.2"/],
    [["--invalid-rate", "five"], /--invalid-rate must be .*received "five"/],
    [["--seed=-3"], /--seed must be a whole number from 0 to 4294967295 \(received "-3"\)/],
    [["--seed", "4294967296"], /--seed must be .*received "4294967296"/],
    [["--format", "csv"], /--format must be jsonl or array \(received "csv"\)/],
    [["--frobnicate"], /Unknown option '--frobnicate'/],
  ])("rejects %j", (flags, message) => {
    const base = { "--facilities": "10", "--invalid-rate": "0", "--out": "f.jsonl" } as Record<string, string>;
    for (const flag of flags) delete base[flag];
    const argv = [...Object.entries(base).flat(), ...flags];
    expect(() => parseGenerateArgs(argv)).toThrow(message);
  });
});

describe("npm run generate", () => {
  const run = (args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "bench", "generate.ts"), ...args], {
      cwd: ROOT,
      encoding: "utf8",
    });

  test("writes the file and reports what it wrote on stderr", () => {
    const out = join(mkdtempSync(join(tmpdir(), "generate-test-")), "facilities.jsonl");
    const result = run(["--facilities", "25", "--invalid-rate", "0.2", "--out", out, "--seed", "4"]);
    expect(result.status).toBe(0);
    const lines = readFileSync(out, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(25);
    const report = JSON.parse(result.stderr.trim().split("\n").pop()!);
    expect(report).toMatchObject({ out, facilities: 25, format: "jsonl", gzip: false, seed: 4 });
    expect(report.valid + report.invalid).toBe(25);
    expect(report.bytes).toBe(readFileSync(out).length);
  });

  test("exits 2 with the problems on bad flags", () => {
    const result = run(["--facilities=-5", "--out", "x"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("generate: --invalid-rate is required");
    expect(result.stderr).toContain(
      'generate: --facilities must be a whole number such as 2500, 100k or 1m (received "-5")',
    );
  });
});
