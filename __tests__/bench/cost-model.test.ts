/** The arithmetic of the benchmark report: spreads and the Athena cost model. */
import { athenaUsdPerRun, billedBytes } from "../../bench/athena-cost";
import { formatSpread, spreadOf } from "../../bench/lib/stats";

const MiB = 2 ** 20;

describe("Athena billing", () => {
  test("a query is billed at least 10 MB, else rounded up to the megabyte", () => {
    expect(billedBytes(0)).toBe(10 * MiB);
    expect(billedBytes(4.4 * MiB)).toBe(10 * MiB);
    expect(billedBytes(10 * MiB + 1)).toBe(11 * MiB);
    expect(billedBytes(441.9 * MiB)).toBe(442 * MiB);
  });

  test("a run is two queries at $5 per TB", () => {
    expect(athenaUsdPerRun(2 ** 40)).toBeCloseTo(10, 6);
    expect(athenaUsdPerRun(1)).toBeCloseTo((2 * 10 * MiB * 5) / 2 ** 40, 12);
  });
});

describe("spreads", () => {
  test("median, range and quartiles", () => {
    const spread = spreadOf([5, 1, 4, 2, 3]);
    expect(spread).toMatchObject({ runs: 5, median: 3, min: 1, max: 5, q1: 2, q3: 4 });
    expect(spreadOf([1, 2]).median).toBe(1.5);
    expect(formatSpread(spread)).toBe("3 (1-5)");
    expect(formatSpread(spreadOf([1234.5]), 1)).toBe("1,234.5");
  });

  test("no samples is an error", () => {
    expect(() => spreadOf([])).toThrow("no samples");
  });
});
