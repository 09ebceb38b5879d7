/**
 * The CLI's output for a person: per-file counts, then the current state after the last execution
 * (the per-state table and the expiring accreditations, from the current-state table, as of the
 * executions' date, soonest first), the rejected records that still show an expiring
 * accreditation, every rejection reason, repair and warning with its count and a few examples,
 * and where every output object is.
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
  /** The first rejected records (at most MAX_REJECTED_SHOWN), with their source: examples of the reasons. */
  readonly rejectedRecords: readonly Record<string, unknown>[];
  /** Rejected records in every run. */
  readonly rejectedTotal: number;
  /** Every rejection reason ("field: rule") of every run and how many records had it, most frequent first. */
  readonly rejectedReasons: readonly ReasonCount[];
  /** Every repair and warning ("field: what") of every run, with its count, most frequent first. */
  readonly repairs: readonly ReasonCount[];
  /** The first kept records that were repaired or have warnings (at most MAX_REJECTED_SHOWN), with their source. */
  readonly repairedRecords: readonly Record<string, unknown>[];
  /**
   * The rejected records that still show an accreditation expiring within the window (the first 20
   * of each run): what compliance must not miss, since they are not in the current state.
   */
  readonly rejectedExpiring: readonly (Record<string, unknown> & { readonly source: string })[];
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

export interface ReasonCount {
  readonly reason: string;
  readonly kind: "rejected" | "repaired" | "warning";
  readonly count: number;
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
      const { repaired, warnings, rejectedExpiring } = run.ingest;
      write(
        `  records ${records}  valid ${valid} (repaired ${repaired}, warnings ${warnings})  rejected ${rejected}` +
          `${rejectedExpiring > 0 ? ` (${rejectedExpiring} still expiring!)` : ""}  expiring ${expiring}  expired ${expired}`,
      );
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
  const expiringRows = report.expiringFacilities
    .flatMap((facility) => facility.accreditations.map((accreditation) => ({ facility, accreditation })))
    .sort(
      (a, b) =>
        a.accreditation.days_until_expiry - b.accreditation.days_until_expiry ||
        a.facility.facility_id.localeCompare(b.facility.facility_id),
    )
    .map(({ facility, accreditation }) => [
      accreditation.days_until_expiry,
      facility.facility_id,
      cut(facility.facility_name),
      facility.state,
      accreditation.accreditation_body,
      accreditation.accreditation_id,
      accreditation.valid_until,
    ]);
  write(
    expiringRows.length > 0
      ? formatTable(["DAYS LEFT", "FACILITY", "NAME", "STATE", "BODY", "ACCREDITATION", "VALID UNTIL"], expiringRows)
      : "  (none)",
  );

  if (report.rejectedExpiring.length > 0) {
    write();
    write(
      `Rejected records that still show an accreditation expiring within the window: NOT in the current state, ` +
        `fix them and upload again`,
    );
    write(
      formatTable(
        ["DAYS LEFT", "FACILITY", "VALID UNTIL", "ACCREDITATION", "FILE", "LINE"],
        report.rejectedExpiring.map((record) => [
          Number(record.days_until_expiry),
          String(record.facility_id),
          String(record.valid_until),
          String(record.accreditation_id ?? ""),
          record.source,
          Number(record.line),
        ]),
      ),
    );
  }

  if (report.rejectedReasons.length > 0 || report.repairs.length > 0) {
    write();
    write("Rejections, repairs and warnings, by reason (every run)");
    write(
      formatTable(
        ["RECORDS", "OUTCOME", "REASON"],
        [...report.rejectedReasons, ...report.repairs].map((entry) => [entry.count, entry.kind, entry.reason]),
      ),
    );
  }
  if (report.rejectedRecords.length > 0) {
    write();
    write(`Rejected records, examples (first ${report.rejectedRecords.length} of ${report.rejectedTotal})`);
    for (const record of report.rejectedRecords) {
      write(`  ${record.source} line ${record.line}: ${describeReasons(record.reasons)}`);
    }
  }
  if (report.repairedRecords.length > 0) {
    write();
    write(`Repaired records and warnings, examples (first ${report.repairedRecords.length})`);
    for (const record of report.repairedRecords) {
      write(`  ${record.source} line ${record.line}: ${describeQuality(record)}`);
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

/** A kept record's repairs and warnings: `employee_count "310" -> 310; location.address is null`. */
function describeQuality(record: Record<string, unknown>): string {
  const repairs = (record.repairs ?? []) as { field: string; received: unknown; kept: unknown }[];
  const warnings = (record.warnings ?? []) as { field: string; message: string }[];
  return [
    ...repairs.map((r) => `${r.field} ${JSON.stringify(r.received)} -> ${JSON.stringify(r.kept)}`),
    ...warnings.map((w) => `${w.field} ${w.message}`),
  ].join("; ");
}

/** A long name cut for the table. */
function cut(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Counts per reason summed over the runs, most frequent first. */
function mergedCounts(
  runs: readonly ExecutionResult[],
  field: "reasonCounts" | "repairCounts" | "warningCounts",
  kind: ReasonCount["kind"],
): ReasonCount[] {
  const totals = new Map<string, number>();
  for (const run of runs) {
    const counts = ((run.ingest as Record<string, unknown> | null)?.[field] ?? {}) as Record<string, number>;
    for (const [reason, count] of Object.entries(counts)) totals.set(reason, (totals.get(reason) ?? 0) + count);
  }
  return [...totals].map(([reason, count]) => ({ reason, kind, count })).sort((a, b) => b.count - a.count);
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
  const repairedRecords: Record<string, unknown>[] = [];
  for (const run of runs) {
    const ingest = run.ingest as (Record<string, number> & { outputs?: Record<string, string> }) | null;
    // Only the first lines are shown: read the head of each object, not all of it.
    for (const [output, count, into] of [
      ["rejected", ingest?.rejected ?? 0, rejectedRecords],
      ["quality", (ingest?.repaired ?? 0) + (ingest?.warnings ?? 0), repairedRecords],
    ] as const) {
      const key = ingest?.outputs?.[output];
      const wanted = MAX_REJECTED_SHOWN - into.length;
      if (key === undefined || count === 0 || wanted <= 0) continue;
      for (const line of await readJsonLines(pipeline, key, REJECTED_HEAD_BYTES, wanted)) {
        into.push({ source: run.source, ...line });
      }
    }
  }
  const rejectedExpiring = runs.flatMap((run) =>
    (((run.ingest as Record<string, unknown> | null)?.rejectedExpiringRecords ?? []) as Record<string, unknown>[]).map(
      (record) => ({ source: run.source, ...record }),
    ),
  );
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
    rejectedReasons: mergedCounts(runs, "reasonCounts", "rejected"),
    repairs: [
      ...mergedCounts(runs, "repairCounts", "repaired"),
      ...mergedCounts(runs, "warningCounts", "warning"),
    ].sort((a, b) => b.count - a.count),
    repairedRecords,
    rejectedExpiring,
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
        repaired: run.ingest.repaired,
        warnings: run.ingest.warnings,
        rejectedExpiring: run.ingest.rejectedExpiring,
        expiring: run.ingest.expiring,
        expired: run.ingest.expired,
      },
      error: run.error,
    })),
    stateCounts: report.stateCounts,
    expiringFacilities: report.expiringFacilities,
    rejectedReasons: report.rejectedReasons,
    repairs: report.repairs,
    rejectedExpiring: report.rejectedExpiring,
    notifications: report.runs.flatMap((run) => run.notifications),
  };
}
