/**
 * What the compliance digest's message says about the expiry_digest result (sql/expiry_digest.sql):
 * the accreditations per horizon, and the soonest ones still ahead as aligned text. Computed here
 * because the state machine cannot count rows or align columns; it is a reading of the result
 * being relocated, not an analysis of its own.
 */
import { resultRows, type ResultRow } from "../../core/athena-csv";
import { HORIZONS, type Horizon } from "../../core/horizons";

/** How many of the soonest accreditations the message lists. */
export const SOONEST_LISTED = 20;

export interface DigestSummary {
  /** Rows of the result: accreditations expired in the look-back period or expiring in the window. */
  readonly rows: number;
  readonly horizons: Readonly<Record<Horizon, number>>;
  /** The first SOONEST_LISTED rows not yet expired, soonest first, as the result orders them. */
  readonly soonest: readonly ResultRow[];
  /** `soonest` as an aligned text table (days left, valid until, state, facility, body, id); "" when empty. */
  readonly soonestText: string;
}

const COLUMNS = [
  ["DAYS", "days_until_expiry"],
  ["VALID UNTIL", "valid_until"],
  ["STATE", "state"],
  ["FACILITY", "facility_id"],
  ["NAME", "facility_name"],
  ["BODY", "accreditation_body"],
  ["ACCREDITATION", "accreditation_id"],
] as const;
/** A long name or body is cut, so a line stays readable in an email. */
const MAX_CELL = 40;

export function summarizeDigest(csvText: string): DigestSummary {
  const horizons = Object.fromEntries(HORIZONS.map((horizon) => [horizon, 0])) as Record<Horizon, number>;
  const soonest: ResultRow[] = [];
  let rows = 0;
  for (const row of resultRows(csvText)) {
    rows++;
    const horizon = row.horizon as Horizon;
    if (!Object.hasOwn(horizons, horizon)) {
      throw new Error(`expiry_digest result row ${rows} has an unknown horizon ${JSON.stringify(row.horizon)}`);
    }
    horizons[horizon]++;
    if (horizon !== "expired" && soonest.length < SOONEST_LISTED) soonest.push(row);
  }
  return { rows, horizons, soonest, soonestText: alignedText(soonest) };
}

function alignedText(rows: readonly ResultRow[]): string {
  if (rows.length === 0) return "";
  const cell = (value: string | null) => {
    const text = value ?? "";
    return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
  };
  const table = [COLUMNS.map(([title]) => title), ...rows.map((row) => COLUMNS.map(([, name]) => cell(row[name])))];
  const widths = COLUMNS.map((_, i) => Math.max(...table.map((line) => line[i].length)));
  return table
    .map((line) =>
      line
        .map((text, i) => text.padEnd(widths[i]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
