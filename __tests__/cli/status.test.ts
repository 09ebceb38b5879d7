import { parseSince } from "../../cli/status";

describe("parseSince", () => {
  test("--since takes a duration back from now, an ISO date (UTC midnight) or a date-time", () => {
    const now = new Date("2026-11-26T12:00:00Z");
    expect(parseSince("24h", now).toISOString()).toBe("2026-11-25T12:00:00.000Z");
    expect(parseSince("2026-11-20", now).toISOString()).toBe("2026-11-20T00:00:00.000Z");
    expect(parseSince("2026-11-20T08:30:00Z", now).toISOString()).toBe("2026-11-20T08:30:00.000Z");
    expect(() => parseSince("yesterday", now)).toThrow(/--since must be a duration such as 30m, 24h, 7d.*"yesterday"/);
    expect(() => parseSince("2026-02-30x", now)).toThrow(/--since/);
  });
});
