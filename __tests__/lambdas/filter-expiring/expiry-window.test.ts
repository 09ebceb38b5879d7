import fc from "fast-check";
import {
  addMonths,
  dateOfDayNumber,
  dayNumber,
  daysBetween,
  daysInMonth,
  isCalendarDate,
  utcDateOf,
} from "../../../core/calendar-date";
import { expiresWithin, expiryStatus, expiryWindow } from "../../../lambdas/filter-expiring/expiry-window";
import type { Facility } from "../../../lambdas/filter-expiring/facility-validation";
import { facilityExpiringOn } from "../../fixtures/facilities";

/** A reference built on JS Date (setUTCFullYear, so years below 100 are not shifted to 19xx). */
function referenceDate(year: number, month: number, day: number): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date;
}
const iso = (date: Date): string => {
  const year = String(date.getUTCFullYear()).padStart(4, "0");
  return `${year}-${String(date.getUTCMonth() + 1).padStart(2, "0")}-${String(date.getUTCDate()).padStart(2, "0")}`;
};
/** Athena's date_add('month', n, d) as Java's LocalDate.plusMonths defines it, via JS Date. */
function referenceAddMonths(date: string, months: number): string {
  const [year, month, day] = date.split("-").map(Number);
  const firstOfTarget = referenceDate(year, month + months, 1);
  const lastDay = daysInMonth(firstOfTarget.getUTCFullYear(), firstOfTarget.getUTCMonth() + 1);
  return iso(referenceDate(firstOfTarget.getUTCFullYear(), firstOfTarget.getUTCMonth() + 1, Math.min(day, lastDay)));
}

const calendarDate = fc
  .integer({ min: dayNumber("1900-01-01"), max: dayNumber("2200-12-31") })
  .map((days) => dateOfDayNumber(days));
const months = fc.integer({ min: 1, max: 60 });

describe("calendar dates", () => {
  test.each(["2026-02-28", "2028-02-29", "2000-02-29", "0001-01-01", "9999-12-31", "2026-12-31"])(
    "%s is a date",
    (text) => {
      expect(isCalendarDate(text)).toBe(true);
    },
  );

  test.each([
    "2026-02-29", // not a leap year
    "1900-02-29", // divisible by 100, not by 400
    "2026-02-30",
    "2026-04-31",
    "2026-13-01",
    "2026-00-10",
    "2026-01-00",
    "0000-01-01",
    "12/31/2026",
    "2026-1-05",
    "2026-01-05T00:00:00Z",
    " 2026-01-05",
    "2026-01-05 ",
    "２０２６-01-05",
    "",
  ])("%j is not a date", (text) => {
    expect(isCalendarDate(text)).toBe(false);
  });

  test("isCalendarDate agrees with JS Date on every y-m-d combination it is asked about", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        (y, m, d) => {
          const text = `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
          const date = referenceDate(y, m, d);
          const real = m >= 1 && m <= 12 && d >= 1 && iso(date) === text;
          expect(isCalendarDate(text)).toBe(real);
        },
      ),
    );
  });

  test("day numbers round-trip and count days like JS Date", () => {
    fc.assert(
      fc.property(calendarDate, calendarDate, (a, b) => {
        expect(dateOfDayNumber(dayNumber(a))).toBe(a);
        const [ya, ma, da] = a.split("-").map(Number);
        const [yb, mb, db] = b.split("-").map(Number);
        const expected = (referenceDate(yb, mb, db).getTime() - referenceDate(ya, ma, da).getTime()) / 86_400_000;
        expect(daysBetween(a, b)).toBe(expected);
      }),
    );
  });

  test("day numbers are days since 1970-01-01, also before year 100", () => {
    expect(dayNumber("1970-01-01")).toBe(0);
    expect(dayNumber("1970-01-02")).toBe(1);
    expect(daysBetween("0099-12-31", "0100-01-01")).toBe(1);
    expect(dateOfDayNumber(-1)).toBe("1969-12-31");
  });
});

describe("addMonths (Athena's date_add('month', n, d))", () => {
  test.each([
    ["2026-08-31", 6, "2027-02-28"], // the example: clamped to the end of February
    ["2027-08-31", 6, "2028-02-29"], // leap year
    ["2026-01-31", 1, "2026-02-28"],
    ["2026-03-31", 1, "2026-04-30"],
    ["2026-11-26", 6, "2027-05-26"],
    ["2026-12-15", 1, "2027-01-15"],
    ["2026-05-31", 60, "2031-05-31"],
    ["9999-10-01", 6, "9999-12-31"], // past the last representable date: clamped
  ])("%s + %i months = %s", (date, n, expected) => {
    expect(addMonths(date, n)).toBe(expected);
  });

  test("matches a JS Date reference for any date and window", () => {
    fc.assert(
      fc.property(calendarDate, months, (date, n) => {
        expect(addMonths(date, n)).toBe(referenceAddMonths(date, n));
      }),
    );
  });

  test("keeps the day unless the target month is shorter, then takes its last day", () => {
    fc.assert(
      fc.property(calendarDate, months, (date, n) => {
        const end = addMonths(date, n);
        expect(isCalendarDate(end)).toBe(true);
        const [year, month, day] = date.split("-").map(Number);
        const [endYear, endMonth, endDay] = end.split("-").map(Number);
        expect(endYear * 12 + endMonth - (year * 12 + month)).toBe(n);
        expect(endDay).toBe(Math.min(day, daysInMonth(endYear, endMonth)));
      }),
    );
  });
});

describe("utcDateOf (the as-of date and run date)", () => {
  test.each([
    ["2026-11-26", "2026-11-26"],
    ["2026-11-26T14:24:24.123Z", "2026-11-26"], // $$.Execution.StartTime
    ["2026-11-26T23:59:59.999Z", "2026-11-26"],
    ["2026-11-26T00:00:00Z", "2026-11-26"],
    ["2026-11-26T22:00:00-05:00", "2026-11-27"], // 03:00 UTC the next day
    ["2026-11-26T01:00:00+02:00", "2026-11-25"],
    ["2026-12-31T23:30:00-01:00", "2027-01-01"],
    ["2026-11-26T14:24:24.123456789Z", "2026-11-26"],
    ["2026-11-26T14:24Z", "2026-11-26"],
  ])("%s -> %s", (text, expected) => {
    expect(utcDateOf(text)).toBe(expected);
  });

  test.each([
    "2026-02-30T10:00:00Z",
    "2026-11-26T24:00:00Z",
    "2026-11-26T14:24:24", // no time zone: ambiguous
    "2026-11-26T14:24:24.123z",
    "26/11/2026",
    "2026-11-26 14:24:24Z",
    "tomorrow",
    "",
  ])("%j is refused", (text) => {
    expect(utcDateOf(text)).toBeUndefined();
  });

  test("agrees with Date for any instant and offset", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) }),
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        (epochMs, offsetMinutes) => {
          const local = new Date(epochMs + offsetMinutes * 60_000).toISOString().slice(0, 23);
          const sign = offsetMinutes < 0 ? "-" : "+";
          const abs = Math.abs(offsetMinutes);
          const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
          expect(utcDateOf(`${local}${zone}`)).toBe(new Date(epochMs).toISOString().slice(0, 10));
        },
      ),
    );
  });
});

describe("the expiry window", () => {
  const window = expiryWindow("2026-08-31", 6);

  test("runs from the as-of date to as-of + N months, both inclusive, clamped like Athena", () => {
    expect(window.end).toBe("2027-02-28");
    expect(expiresWithin("2026-08-31", window)).toBe(true); // the as-of day
    expect(expiresWithin("2027-02-28", window)).toBe(true); // the last day of the window
    expect(expiresWithin("2027-03-01", window)).toBe(false); // the day after
    expect(expiresWithin("2026-08-30", window)).toBe(false); // yesterday: already expired
  });

  test("contains exactly the dates from as-of to its end, for any as-of date and length", () => {
    fc.assert(
      fc.property(calendarDate, months, fc.integer({ min: -400, max: 2200 }), (asOf, n, offset) => {
        const w = expiryWindow(asOf, n);
        const date = dateOfDayNumber(dayNumber(asOf) + offset);
        const inside = offset >= 0 && dayNumber(date) <= dayNumber(referenceAddMonths(asOf, n));
        expect(expiresWithin(date, w)).toBe(inside);
        // Its edges: the as-of day and the last day are in, the days around them are not.
        expect(expiresWithin(asOf, w)).toBe(true);
        expect(expiresWithin(w.end, w)).toBe(true);
        expect(expiresWithin(dateOfDayNumber(dayNumber(asOf) - 1), w)).toBe(false);
        expect(expiresWithin(dateOfDayNumber(dayNumber(w.end) + 1), w)).toBe(false);
      }),
    );
  });

  test("classifies a facility: expiring (with days until expiry), expired, or current", () => {
    const status = (...dates: string[]) =>
      expiryStatus(facilityExpiringOn("FAC-1", ...dates) as unknown as Facility, window);

    const expiring = status("2026-08-31", "2027-02-28", "2027-03-01", "2026-08-30");
    expect(expiring).toEqual({
      kind: "expiring",
      facility: {
        facility_id: "FAC-1",
        facility_name: "Test Regional Medical Center",
        state: "TX",
        accreditations: [
          { accreditation_body: "COLA", accreditation_id: "FAC-1-A0", valid_until: "2026-08-31", days_until_expiry: 0 },
          {
            accreditation_body: "COLA",
            accreditation_id: "FAC-1-A1",
            valid_until: "2027-02-28",
            days_until_expiry: 181,
          },
        ],
      },
    });
    expect(status("2026-08-30", "2020-01-01")).toEqual({ kind: "expired" });
    expect(status("2027-03-01", "2026-08-30")).toEqual({ kind: "current" }); // one expired, one beyond: still accredited
    expect(status()).toEqual({ kind: "current" }); // no accreditation: neither expiring nor expired
  });

  test("days until expiry lie between 0 and the window's length in days", () => {
    fc.assert(
      fc.property(calendarDate, months, fc.integer({ min: 0, max: 1900 }), (asOf, n, offset) => {
        const w = expiryWindow(asOf, n);
        const date = dateOfDayNumber(dayNumber(asOf) + offset);
        const result = expiryStatus(facilityExpiringOn("FAC-P", date) as unknown as Facility, w);
        // The reference, not expiresWithin (which expiryStatus calls): a wrong window fails here too.
        const inside = dayNumber(date) <= dayNumber(referenceAddMonths(asOf, n));
        expect(expiresWithin(date, w)).toBe(inside);
        if (inside) {
          expect(result.kind).toBe("expiring");
          if (result.kind === "expiring") expect(result.facility.accreditations[0].days_until_expiry).toBe(offset);
        } else {
          expect(result.kind).toBe("current");
        }
      }),
    );
  });
});
