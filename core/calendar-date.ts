/**
 * Calendar dates written YYYY-MM-DD (proleptic Gregorian, years 0001-9999), as plain strings.
 *
 * Strings of this one shape sort the same way the dates do, so the hot path compares strings.
 * Arithmetic goes through day numbers (days since 1970-01-01) computed with integer math, which,
 * unlike Date.UTC, has no special case for years below 100.
 */

const MIN_YEAR = 1;
const MAX_YEAR = 9999;
/** The last date this module writes; window ends past it are clamped to it. */
export const LAST_CALENDAR_DATE = "9999-12-31";

const DIGIT_0 = 48;
const DIGIT_9 = 57;
const HYPHEN = 45;

function digitsAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const code = text.charCodeAt(i);
    if (code < DIGIT_0 || code > DIGIT_9) return -1;
    value = value * 10 + (code - DIGIT_0);
  }
  return value;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Days in a month (1-12) of a year. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** True when `text` is exactly YYYY-MM-DD and names a real day (2026-02-30 and 12/31/2026 are not). */
export function isCalendarDate(text: string): boolean {
  if (text.length !== 10 || text.charCodeAt(4) !== HYPHEN || text.charCodeAt(7) !== HYPHEN) return false;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  return year >= MIN_YEAR && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** Days since 1970-01-01 of a date already checked with isCalendarDate. */
export function dayNumber(date: string): number {
  return daysFromCivil(digitsAt(date, 0, 4), digitsAt(date, 5, 2), digitsAt(date, 8, 2));
}

/** The date of a day number, as YYYY-MM-DD. */
export function dateOfDayNumber(days: number): string {
  const { year, month, day } = civilFromDays(days);
  return formatDate(year, month, day);
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from);
}

/**
 * The date `months` calendar months after `date`, the day clamped to the end of a shorter month,
 * as Athena's (Trino's) date_add('month', n, d) does: 2026-08-31 + 6 months = 2027-02-28.
 * Results past 9999-12-31 are clamped to it.
 */
export function addMonths(date: string, months: number): string {
  const year = digitsAt(date, 0, 4);
  const month = digitsAt(date, 5, 2);
  const day = digitsAt(date, 8, 2);
  const total = year * 12 + (month - 1) + months;
  const newYear = Math.floor(total / 12);
  const newMonth = total - newYear * 12 + 1;
  if (newYear > MAX_YEAR) return LAST_CALENDAR_DATE;
  if (newYear < MIN_YEAR) return formatDate(MIN_YEAR, 1, 1);
  return formatDate(newYear, newMonth, Math.min(day, daysInMonth(newYear, newMonth)));
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The UTC calendar date of `text`, which is either a date (YYYY-MM-DD) or an ISO 8601 timestamp
 * with a time zone, such as Step Functions' $$.Execution.StartTime ("2026-11-26T14:24:24.123Z");
 * undefined when it is neither.
 */
export function utcDateOf(text: string): string | undefined {
  if (text.length === 10) return isCalendarDate(text) ? text : undefined;
  const match = TIMESTAMP.exec(text);
  if (match === null || !isCalendarDate(match[1])) return undefined;
  const hours = Number(match[2]);
  const minutes = Number(match[3]);
  const seconds = match[4] === undefined ? 0 : Number(match[4]);
  if (hours > 23 || minutes > 59 || seconds > 60) return undefined;
  let offsetMinutes = 0;
  if (match[5] !== "Z") {
    const offsetHours = Number(match[5].slice(1, 3));
    const offsetRest = Number(match[5].slice(4, 6));
    if (offsetHours > 23 || offsetRest > 59) return undefined;
    offsetMinutes = (match[5][0] === "-" ? -1 : 1) * (offsetHours * 60 + offsetRest);
  }
  const minuteOfDay = hours * 60 + minutes - offsetMinutes;
  const date = dateOfDayNumber(dayNumber(match[1]) + Math.floor(minuteOfDay / 1440));
  return isCalendarDate(date) ? date : undefined;
}

/** Today's date in UTC. */
export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

function formatDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

// Howard Hinnant's days_from_civil / civil_from_days (http://howardhinnant.github.io/date_algorithms.html).
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}
