import { PrefixNotAllowedError } from "../../../lambdas/shared/errors";
import { analyticsKeys, filterOutputKeys, sourceVersionName } from "../../../lambdas/shared/output-keys";

describe("filterOutputKeys", () => {
  const etag = { etag: '"4d25cb5efa4ac7973382328cdf2c5a84"' };
  test.each([
    ["raw/a/b.json", etag, "a/b.json/etag=4d25cb5efa4ac7973382328cdf2c5a84.jsonl"],
    ["raw/a/b.jsonl", etag, "a/b.jsonl/etag=4d25cb5efa4ac7973382328cdf2c5a84.jsonl"],
    [
      "raw/a/b.json",
      { versionId: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY" },
      "a/b.json/version=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY.jsonl",
    ],
    ["raw/B.JSON.gz", { etag: "abc-2" }, "B.JSON.gz/etag=abc-2.jsonl"],
    ["raw/it's here.json", etag, "it%27s%20here.json/etag=4d25cb5efa4ac7973382328cdf2c5a84.jsonl"],
    ["raw/_hidden/.json", etag, "%5Fhidden/%2Ejson/etag=4d25cb5efa4ac7973382328cdf2c5a84.jsonl"],
    ["raw/100%.json", { versionId: "v+1/2" }, "100%25.json/version=v%2B1%2F2.jsonl"],
  ])("%s (%j) -> <prefix>%s", (source, version, name) => {
    expect(filterOutputKeys(source, version)).toEqual({
      staging: `staging/facilities/${name}`,
      rejected: `rejected/${name}`,
      quality: `quality/${name}`,
      expiring: `transformed/expiring_facilities/${name}`,
    });
  });

  test("two sources that differ only in their suffix, and two versions of one key, never share an output", () => {
    const keys = [
      filterOutputKeys("raw/coll.json", { etag: "a" }),
      filterOutputKeys("raw/coll.jsonl", { etag: "a" }),
      filterOutputKeys("raw/coll.json", { etag: "b" }),
      filterOutputKeys("raw/coll.json", { versionId: "a" }),
    ];
    expect(new Set(keys.map((k) => k.staging)).size).toBe(keys.length);
    expect(new Set(keys.map((k) => k.rejected)).size).toBe(keys.length);
  });

  test("a key is safe to inline into SQL text: only [A-Za-z0-9._/%=-]", () => {
    const { staging } = filterOutputKeys("raw/x'; DROP TABLE facilities; --\u00e9.json", { versionId: "'" });
    expect(staging).toMatch(/^[A-Za-z0-9._/%=-]+$/);
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
    expect(() => filterOutputKeys(source, etag)).toThrow(PrefixNotAllowedError);
  });
});

describe("sourceVersionName", () => {
  test("is the version id, or etag:<ETag> without quotes", () => {
    expect(sourceVersionName({ versionId: "v1" })).toBe("v1");
    expect(sourceVersionName({ etag: '"abc"' })).toBe("etag:abc");
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
