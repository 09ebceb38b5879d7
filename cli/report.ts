/**
 * The CLI's output for a person: per-file counts, then the current state after the last execution
 * (the per-state table and the expiring accreditations, from the current-state table, as of the
 * executions' date), the first rejected reasons and where every output object is.
 */
import { todayUtc } from "../core/calendar-date";
import { EXPIRY_WINDOW_MONTHS } from "../core/settings";
import type { ResultRow } from "../local/athena";
import type { ExecutionResult, LocalPipeline } from "../local/pipeline";
import { readableCause } from "./output";
import { formatTable } from "./table";

export interface Report {
  readonly bucket: string;
  readonly stateDir: string;
  /** True when stateDir is removed when the program ends (no --state-dir). */
  readonly stateDirIsTemporary: boolean;
  readonly outbox: string;
  /** The as-of date and window the executions used. */
  readonly asOf: string;
  readonly windowMonths: number;
  readonly runs: readonly ExecutionResult[];
  /** The current state, per state (sql/accredited_facilities_by_state.sql). */
  readonly stateCounts: readonly StateCount[];
  /**
   * The current facilities with an accreditation in the window (sql/expiring_accreditations.sql),
   * one entry per facility with its accreditations in the window, soonest first.
   */
  readonly expiringFacilities: readonly ExpiringFacility[];
  /** The first rejected records (at most MAX_REJECTED_SHOWN), with their source. */
  readonly rejectedRecords: readonly Record<string, unknown>[];
  /** Rejected records in every run. */
  readonly rejectedTotal: number;
  readonly objects: readonly string[];
}

export interface StateCount {
  readonly state: string;
  readonly accredited_facility_count: number;
  readonly currently_accredited_facility_count: number;
}

export interface ExpiringFacility {
  readonly facility_id: string;
  readonly facility_name: string;
  readonly state: string;
  readonly accreditations: readonly {
    readonly accreditation_body: string;
    readonly accreditation_id: string;
    readonly valid_until: string;
    readonly days_until_expiry: number;
  }[];
}

export const MAX_REJECTED_SHOWN = 5;

export function printReport(report: Report, out: NodeJS.WritableStream): void {
  const write = (text = "") => out.write(`${text}\n`);
  const { asOf, windowMonths } = report;
  write(`Facility pipeline (local) - as of ${asOf}, expiry window ${windowMonths} months`);
  write();
  for (const run of report.runs) {
    write(
      `${run.source}  ${run.status}  ${(run.durationMs / 1000).toFixed(1)} s${run.retries > 0 ? `  (${run.retries} retries)` : ""}`,
    );
    if (run.ingest) {
      const { records, valid, rejected, expiring, expired } = run.ingest;
      write(`  records ${records}  valid ${valid}  rejected ${rejected}  expiring ${expiring}  expired ${expired}`);
    }
    if (run.error) write(`  error ${run.error.error}: ${firstLine(readableCause(run.error.cause))}`);
  }

  write();
  write(`Accredited facilities per state, current state as of ${asOf} (each facility once: its latest record)`);
  write(
    report.stateCounts.length > 0
      ? formatTable(
          ["STATE", "ACCREDITED", `VALID ON ${asOf}`],
          report.stateCounts.map((row) => [
            row.state,
            row.accredited_facility_count,
            row.currently_accredited_facility_count,
          ]),
        )
      : "  (no facility in the current state yet)",
  );

  write();
  write(`Accreditations expiring within ${windowMonths} months of ${asOf}, current state`);
  const expiringRows = report.expiringFacilities.flatMap((facility) =>
    facility.accreditations.map((accreditation) => [
      facility.facility_id,
      facility.state,
      accreditation.accreditation_body,
      accreditation.accreditation_id,
      accreditation.valid_until,
      accreditation.days_until_expiry,
    ]),
  );
  write(
    expiringRows.length > 0
      ? formatTable(["FACILITY", "STATE", "BODY", "ACCREDITATION", "VALID UNTIL", "DAYS LEFT"], expiringRows)
      : "  (none)",
  );

  if (report.rejectedRecords.length > 0) {
    write();
    write(`Rejected records (first ${report.rejectedRecords.length} of ${report.rejectedTotal})`);
    for (const record of report.rejectedRecords) {
      write(`  ${record.source} line ${record.line}: ${describeReasons(record.reasons)}`);
    }
  }

  const notifications = report.runs.flatMap((run) => run.notifications);
  write();
  write(`Objects in s3://${report.bucket}/`);
  for (const key of report.objects) write(`  ${key}`);
  write(
    report.stateDirIsTemporary
      ? `The bucket was kept in a temporary directory, removed when this program ends. Keep it with --state-dir DIR,
` + `then read an object with: facility-pipeline cat KEY --target local --state-dir DIR`
      : `The bucket is kept in ${report.stateDir} (the endpoint's own file format). Read an object with:
` + `  facility-pipeline cat KEY --target local --state-dir ${report.stateDir}`,
  );
  if (notifications.length > 0) {
    write();
    write(`${notifications.length} failure notification(s), appended to ${report.outbox}`);
    for (const notification of notifications) write(`  ${notification.subject}`);
  }
}

function describeReasons(reasons: unknown): string {
  if (!Array.isArray(reasons)) return String(reasons);
  return reasons
    .map((reason) =>
      typeof reason === "string"
        ? reason
        : `${(reason as { field?: string }).field ?? ""}: ${(reason as { message?: string }).message ?? JSON.stringify(reason)}`,
    )
    .join("; ");
}

function firstLine(text: string): string {
  return text.split("\n")[0].slice(0, 300);
}

/**
 * Gathers what the report shows: the runs, then the current state after the last of them, read
 * from the current-state table with the workflow's own SQL, as of the date the executions used.
 */
export async function buildReport(pipeline: LocalPipeline, runs: readonly ExecutionResult[]): Promise<Report> {
  // What the executions used (the ingest result says), else what the options asked for.
  const settingsUsed = runs.find((run) => run.ingest)?.ingest as { asOf?: string; windowMonths?: number } | undefined;
  const asOf = settingsUsed?.asOf ?? pipeline.options.asOf ?? todayUtc();
  const windowMonths = settingsUsed?.windowMonths ?? pipeline.options.windowMonths ?? EXPIRY_WINDOW_MONTHS.default;
  const stateCounts = (await pipeline.querySql("accredited_facilities_by_state", { as_of: asOf })).map((row) => ({
    state: row.state ?? "",
    accredited_facility_count: Number(row.accredited_facility_count),
    currently_accredited_facility_count: Number(row.currently_accredited_facility_count),
  }));
  const expiringFacilities = groupByFacility(
    await pipeline.querySql("expiring_accreditations", { as_of: asOf, window_months: windowMonths }),
  );
  const rejectedRecords: Record<string, unknown>[] = [];
  for (const run of runs) {
    const outputs = run.ingest?.outputs as { rejected?: string } | undefined;
    const wanted = MAX_REJECTED_SHOWN - rejectedRecords.length;
    if (outputs?.rejected && (run.ingest?.rejected ?? 0) > 0 && wanted > 0) {
      // Only the first lines are shown: read the head of the object, not all of it.
      for (const line of await readJsonLines(pipeline, outputs.rejected, REJECTED_HEAD_BYTES, wanted)) {
        rejectedRecords.push({ source: run.source, ...line });
      }
    }
  }
  return {
    bucket: pipeline.bucket,
    stateDir: pipeline.stateDir,
    stateDirIsTemporary: pipeline.isTemporary,
    outbox: pipeline.outboxFile,
    asOf,
    windowMonths,
    runs,
    stateCounts,
    expiringFacilities,
    rejectedRecords,
    rejectedTotal: runs.reduce((total, run) => total + (run.ingest?.rejected ?? 0), 0),
    objects: await pipeline.listKeys(),
  };
}

/** The rows of sql/expiring_accreditations.sql (one per accreditation, soonest first), one entry per facility. */
function groupByFacility(rows: readonly ResultRow[]): ExpiringFacility[] {
  const facilities = new Map<
    string,
    ExpiringFacility & { accreditations: ExpiringFacility["accreditations"][number][] }
  >();
  for (const row of rows) {
    const id = row.facility_id ?? "";
    let facility = facilities.get(id);
    if (facility === undefined) {
      facility = {
        facility_id: id,
        facility_name: row.facility_name ?? "",
        state: row.state ?? "",
        accreditations: [],
      };
      facilities.set(id, facility);
    }
    facility.accreditations.push({
      accreditation_body: row.accreditation_body ?? "",
      accreditation_id: row.accreditation_id ?? "",
      valid_until: row.valid_until ?? "",
      days_until_expiry: Number(row.days_until_expiry),
    });
  }
  return [...facilities.values()];
}

/** Bytes read from a rejected output for the report: enough for its first lines. */
const REJECTED_HEAD_BYTES = 256 * 1024;

/**
 * The JSON lines of an object. With `firstBytes`, only whole lines within that many bytes, at most
 * `maxLines` of them.
 */
async function readJsonLines(
  pipeline: LocalPipeline,
  key: string,
  firstBytes?: number,
  maxLines = Infinity,
): Promise<Record<string, unknown>[]> {
  const text = await pipeline.readObject(key, { firstBytes }).catch(() => "");
  const lines = text.split("\n");
  if (firstBytes !== undefined && Buffer.byteLength(text) >= firstBytes) lines.pop(); // possibly cut short
  return lines
    .filter((line) => line.trim() !== "")
    .slice(0, maxLines)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The documented --json contract (docs/local-mode.md, "JSON output"). */
export function toJsonContract(report: Report): Record<string, unknown> {
  return {
    runs: report.runs.map((run) => ({
      source: run.source,
      status: run.status,
      ingest: run.ingest && {
        records: run.ingest.records,
        valid: run.ingest.valid,
        rejected: run.ingest.rejected,
        expiring: run.ingest.expiring,
        expired: run.ingest.expired,
      },
      error: run.error,
    })),
    stateCounts: report.stateCounts,
    expiringFacilities: report.expiringFacilities,
    notifications: report.runs.flatMap((run) => run.notifications),
  };
}
