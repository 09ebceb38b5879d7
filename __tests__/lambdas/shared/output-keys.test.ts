import { PrefixNotAllowedError } from "../../../lambdas/shared/errors";
import { analyticsKeys, filterOutputKeys } from "../../../lambdas/shared/output-keys";

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
