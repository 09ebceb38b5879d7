/** --as-of and --window-months, read the same way by every command that takes them. */
import { isCalendarDate } from "../core/calendar-date";
import { EXPIRY_WINDOW_MONTHS, describeRange, isWithin, type RunSettings } from "../core/settings";

export const SETTINGS_USAGE = `  --as-of YYYY-MM-DD       the date the expiry window starts from (default: the execution's start date, UTC)
  --window-months N        expiry window in months, ${EXPIRY_WINDOW_MONTHS.min}-${EXPIRY_WINDOW_MONTHS.max} (default: ${EXPIRY_WINDOW_MONTHS.default})`;

/** The settings the flags pin, and a problem line for each flag that is not valid. */
export function parseSettingsFlags(values: { readonly "as-of"?: string; readonly "window-months"?: string }): {
  settings: RunSettings;
  problems: string[];
} {
  const problems: string[] = [];
  const asOf = values["as-of"];
  if (asOf !== undefined && !isCalendarDate(asOf)) {
    problems.push(`--as-of must be a calendar date written YYYY-MM-DD (received "${asOf}")`);
  }
  const windowText = values["window-months"];
  const windowMonths = windowText === undefined || windowText.trim() === "" ? undefined : Number(windowText);
  if (windowText !== undefined && !isWithin(EXPIRY_WINDOW_MONTHS, windowMonths)) {
    problems.push(`--window-months must be ${describeRange(EXPIRY_WINDOW_MONTHS)} (received "${windowText}")`);
  }
  return {
    settings: {
      ...(asOf !== undefined && { asOf }),
      ...(windowMonths !== undefined && { windowMonths }),
    },
    problems,
  };
}
