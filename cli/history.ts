/**
 * `history FACILITY_ID`: every staged record of one facility, newest upload first, with what
 * changed from the record before it (sql/facility_history.sql over the staging table, which keeps
 * each upload's records with their provenance).
 */
import { UsageError, type Target } from "../core/target";
import { formatBytes, type CommandOutput } from "./output";
import { queryRequest } from "./query";
import { formatTable } from "./table";

export interface HistoryOptions {
  readonly facilityId: string;
  readonly timeoutMs: number;
}

/** The columns shown, in order, with their headings. */
const COLUMNS = [
  ["event_time", "EVENT TIME"],
  ["source_key", "UPLOAD"],
  ["source_version", "VERSION"],
  ["source_line", "LINE"],
  ["state", "STATE"],
  ["accreditation_count", "ACCREDITATIONS"],
  ["changes", "WHAT CHANGED"],
] as const;

export async function history(target: Target, options: HistoryOptions): Promise<CommandOutput> {
  if (options.facilityId.trim() === "") throw new UsageError("history: name a facility: history FACILITY_ID");
  const request = queryRequest({ name: "facility_history", values: { facility_id: options.facilityId } });
  const result = await target.runQuery(request, options.timeoutMs);
  if (result.state !== "SUCCEEDED") {
    return {
      exitCode: 1,
      text: `History query ${result.state}: ${result.reason ?? "(no reason given)"}\n`,
      json: { facilityId: options.facilityId, state: result.state, reason: result.reason ?? null, records: [] },
    };
  }
  const records = result.rows.map((row) =>
    Object.fromEntries(result.columns.map((column, i) => [column, row[i] ?? null])),
  );
  const scanned = `${formatBytes(result.dataScannedInBytes)} scanned`;
  if (records.length === 0) {
    return {
      exitCode: 1,
      text:
        `No staged record of facility ${JSON.stringify(options.facilityId)} (${scanned}): ` +
        "facility_id is matched exactly, case included.\n",
      json: { facilityId: options.facilityId, records },
    };
  }
  const table = formatTable(
    COLUMNS.map(([, heading]) => heading),
    records.map((record) => COLUMNS.map(([column]) => String(record[column] ?? ""))),
  );
  return {
    exitCode: 0,
    text:
      `${table}\n\n${records.length} staged record(s) of ${options.facilityId}, newest first; ` +
      `the first row is the current one unless it was retired or a newer upload is still running. ${scanned}.\n`,
    json: { facilityId: options.facilityId, records },
  };
}
