import { FacilityIdLog } from "../../lambdas/filter-expiring/facility-id-index";
import { integerEnv, requiredEnv } from "../../lambdas/shared/environment";
import { EnvironmentError, PrefixNotAllowedError } from "../../lambdas/shared/errors";
import { analyticsKeys, filterOutputKeys } from "../../lambdas/shared/output-keys";
import { s3Client } from "../../lambdas/shared/s3";

describe("filterOutputKeys", () => {
  test.each([
    ["raw/a/b.json", "a/b.jsonl"],
    ["raw/a/b.jsonl", "a/b.jsonl"],
    ["raw/a/b.json.gz", "a/b.jsonl"],
    ["raw/a/b.jsonl.gz", "a/b.jsonl"],
    ["raw/a/b.gz", "a/b.jsonl"],
    ["raw/B.JSON", "B.jsonl"],
    ["raw/facilities-2026-11.txt", "facilities-2026-11.txt.jsonl"],
    ["raw/noextension", "noextension.jsonl"],
    ["raw/.json", ".json.jsonl"],
  ])("%s -> <prefix>%s", (source, name) => {
    expect(filterOutputKeys(source)).toEqual({
      curated: `curated/facilities/${name}`,
      rejected: `rejected/${name}`,
      expiring: `transformed/expiring_facilities/${name}`,
    });
  });

  test.each([
    "curated/facilities/a.json",
    "raw/",
    "raw",
    "raw/a/../b.json",
    "raw//a.json",
    "raw/a/",
    "xraw/a.json",
    "raw/a\n.json",
  ])("refuses %j", (source) => {
    expect(() => filterOutputKeys(source)).toThrow(PrefixNotAllowedError);
  });
});

describe("analyticsKeys", () => {
  test("puts each run in a run_date partition and the latest next to them", () => {
    expect(analyticsKeys("state_counts", "2026-11-26", "exec-1")).toEqual({
      runKey: "analytics/state_counts/run_date=2026-11-26/exec-1.csv",
      latestKey: "analytics/state_counts/latest.csv",
    });
  });

  test.each([
    ["..", "2026-11-26", "exec"],
    ["state_counts", "2026-11-26", "../../../raw/x"],
    ["a/../../raw", "2026-11-26", "x"],
  ])("refuses a destination outside analytics/ (%s, %s, %s)", (dataset, date, name) => {
    expect(() => analyticsKeys(dataset, date, name)).toThrow(PrefixNotAllowedError);
  });
});

describe("environment helpers", () => {
  test("requiredEnv names the missing variable", () => {
    expect(() => requiredEnv("DATA_BUCKET", {})).toThrow(
      new EnvironmentError("Environment variable DATA_BUCKET is not set; the function's configuration must set it"),
    );
    expect(() => requiredEnv("DATA_BUCKET", { DATA_BUCKET: " " })).toThrow(EnvironmentError);
    expect(requiredEnv("DATA_BUCKET", { DATA_BUCKET: "b" })).toBe("b");
  });

  test("integerEnv applies the default and refuses anything but a whole number in range", () => {
    const options = { default: 6, min: 1, max: 60 };
    expect(integerEnv("EXPIRY_WINDOW_MONTHS", options, {})).toBe(6);
    expect(integerEnv("EXPIRY_WINDOW_MONTHS", options, { EXPIRY_WINDOW_MONTHS: "12" })).toBe(12);
    for (const value of ["0", "61", "6.5", "six", "1e1", "0x10"]) {
      expect(() => integerEnv("EXPIRY_WINDOW_MONTHS", options, { EXPIRY_WINDOW_MONTHS: value })).toThrow(
        `Environment variable EXPIRY_WINDOW_MONTHS must be a whole number from 1 to 60 (received ${JSON.stringify(value)})`,
      );
    }
  });
});

describe("FacilityIdLog", () => {
  test("sees no repeat among distinct ids, across growth", () => {
    const log = new FacilityIdLog();
    for (let i = 1; i <= 50_000; i++) log.add(`FAC-${i}`, i);
    expect(log.size).toBe(50_000);
    expect(log.hasRepeats()).toBe(false);
  });

  test("finds a repeat and maps every id to the line of its last record", () => {
    const log = new FacilityIdLog();
    const ids = ["A", "B", "A", "C", "A", "B"];
    ids.forEach((id, i) => log.add(id, i + 1));
    expect(log.hasRepeats()).toBe(true);
    const latest = log.latestLines();
    expect([latest.lineOf("A"), latest.lineOf("B"), latest.lineOf("C"), latest.lineOf("D")]).toEqual([5, 6, 4, 0]);
  });

  test("tells apart ids that differ only slightly", () => {
    const log = new FacilityIdLog();
    ["FAC-1", "FAC-1 ", "fac-1", "FAC-\u0031", "FAC-١"].forEach((id, i) => log.add(id, i + 1));
    // "FAC-\u0031" is "FAC-1": the one real repeat.
    expect(log.hasRepeats()).toBe(true);
    expect(log.latestLines().lineOf("FAC-1")).toBe(4);
    expect(log.latestLines().lineOf("FAC-1 ")).toBe(2);
  });

  test("tells pass 2 of each valid record, in order, the line of the later record that supersedes it", () => {
    const log = new FacilityIdLog();
    const ids = ["A", "B", "A", "C", "A", "B"];
    ids.forEach((id, i) => log.add(id, i + 1));
    expect(log.hasRepeats()).toBe(true);
    const latest = log.latestLines();
    expect(ids.map((id) => latest.supersededBy(id))).toEqual([5, 6, 5, 0, 0, 0]);
  });

  test("tells apart two records on one line (a JSON array written on one line)", () => {
    const log = new FacilityIdLog();
    [
      ["A", 1],
      ["A", 1],
      ["B", 1],
    ].forEach(([id, line]) => log.add(id as string, line as number));
    const latest = log.latestLines();
    expect(["A", "A", "B"].map((id) => latest.supersededBy(id))).toEqual([1, 0, 0]);
  });

  test("keeps lines far apart and lines shared by several records (deltas of 0 and of 255 or more)", () => {
    const log = new FacilityIdLog();
    const records: [string, number][] = [
      ["A", 3],
      ["B", 3],
      ["A", 258],
      ["C", 513],
      ["D", 514],
      ["B", 100_000],
      ["E", 3_000_000_000 / 2],
    ];
    for (const [id, line] of records) log.add(id, line);
    const latest = log.latestLines();
    expect(["A", "B", "C", "D", "E", "F"].map((id) => latest.lineOf(id))).toEqual([258, 100_000, 513, 514, 1.5e9, 0]);
  });

  test("finds repeats across blocks and slices of the hash space, as a Map of every id would", () => {
    // A deterministic mix of unique ids, a few ids repeated far apart, and line gaps of all sizes.
    const log = new FacilityIdLog();
    const added: { id: string; line: number }[] = [];
    let seed = 42;
    const random = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
    let line = 0;
    for (let i = 0; i < 140_000; i++) {
      line += random() < 0.001 ? 300 : Math.floor(random() * 3);
      const id = random() < 0.002 ? `FAC-R-${Math.floor(random() * 50)}` : `FAC-U-${i}`;
      log.add(id, Math.max(line, 1));
      added.push({ id, line: Math.max(line, 1) });
    }
    const lastLine = new Map(added.map(({ id, line }) => [id, line]));
    const remaining = new Map<string, number>();
    for (const { id } of added) remaining.set(id, (remaining.get(id) ?? 0) + 1);
    const expected = added.map(({ id }) => {
      const left = remaining.get(id)! - 1;
      remaining.set(id, left);
      return left > 0 ? lastLine.get(id) : 0;
    });

    expect(log.size).toBe(140_000);
    expect(log.hasRepeats()).toBe(true);
    const latest = log.latestLines();
    const differences = added
      .map(({ id, line }, i) => ({ id, line, supersededBy: latest.supersededBy(id), expected: expected[i] }))
      .filter(({ supersededBy, expected }) => supersededBy !== expected);
    expect(differences).toEqual([]);
    expect(expected.filter((by) => by !== 0).length).toBeGreaterThan(200); // the test does exercise repeats
    expect(latest.lineOf("FAC-R-7")).toBe(lastLine.get("FAC-R-7"));
    expect(latest.lineOf(added[123_456].id)).toBe(lastLine.get(added[123_456].id));
  });

  test("handles one id repeated throughout the source (a slice larger than the scratch share)", () => {
    const log = new FacilityIdLog();
    for (let i = 1; i <= 150_000; i++) log.add(i % 1000 === 0 ? `FAC-${i}` : "SAME", i);
    expect(log.hasRepeats()).toBe(true);
    const latest = log.latestLines();
    const answers = new Map<number, number>();
    for (let i = 1; i <= 150_000; i++) {
      const by = latest.supersededBy(i % 1000 === 0 ? `FAC-${i}` : "SAME");
      answers.set(by, (answers.get(by) ?? 0) + 1);
    }
    // Every "SAME" but the last (line 149,999) is superseded by it; the 150 distinct ids and the last win.
    expect(Object.fromEntries(answers)).toEqual({ 0: 151, 149_999: 150_000 - 150 - 1 });
  });

  test("sees no repeat in an empty log or a single record", () => {
    const log = new FacilityIdLog();
    expect(log.hasRepeats()).toBe(false);
    log.add("A", 1);
    expect(log.hasRepeats()).toBe(false);
    expect(log.latestLines().supersededBy("A")).toBe(0);
  });
});

describe("s3Client", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_S3_FORCE_PATH_STYLE", "AWS_REGION"]) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  test("is configured by the environment only, and kept while it does not change", async () => {
    process.env.AWS_REGION = "eu-west-1";
    delete process.env.AWS_ENDPOINT_URL_S3;
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_S3_FORCE_PATH_STYLE;
    const aws = s3Client();
    expect(s3Client()).toBe(aws);
    expect(aws.config.forcePathStyle).toBe(false);
    expect(await aws.config.region()).toBe("eu-west-1");

    process.env.AWS_ENDPOINT_URL_S3 = "http://127.0.0.1:4568";
    const local = s3Client();
    expect(local).not.toBe(aws); // a new endpoint: a new client
    expect(local.config.forcePathStyle).toBe(true); // s3rver needs path-style addressing
    expect(s3Client()).toBe(local);

    delete process.env.AWS_ENDPOINT_URL_S3;
    process.env.AWS_S3_FORCE_PATH_STYLE = "true";
    expect(s3Client().config.forcePathStyle).toBe(true);
    s3Client().destroy();
  });
});
