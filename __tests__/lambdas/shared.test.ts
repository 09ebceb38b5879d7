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
