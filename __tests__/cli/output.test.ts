import { parseDuration } from "../../cli/output";

describe("parseDuration", () => {
  test.each([
    ["90s", 90_000],
    ["30m", 1_800_000],
    ["24h", 86_400_000],
    ["7d", 604_800_000],
    ["2w", 1_209_600_000],
  ])("%s", (text, ms) => expect(parseDuration(text)).toBe(ms));

  test.each(["0h", "1y", "h", "-1h", "1.5h"])("%s is not a duration", (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});
