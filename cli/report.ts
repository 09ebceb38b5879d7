/**
 * The CLI's output for a person: per-file counts, the per-state table, expiring accreditations,
 * the first rejected reasons and where every output object is.
 */
import type { ExecutionResult, LocalPipelineOptions } from "../local/pipeline";

export interface Report {
  readonly bucket: string;
  readonly stateDir: string;
  readonly outbox: string;
  readonly options: LocalPipelineOptions;
  readonly runs: readonly ExecutionResult[];
  readonly stateCounts: readonly { state: string; accredited_facility_count: number }[];
  readonly expiringFacilities: readonly Record<string, unknown>[];
  /** The first rejected records (at most MAX_REJECTED_SHOWN), with their source. */
  readonly rejectedRecords: readonly Record<string, unknown>[];
  /** Rejected records in every run. */
  readonly rejectedTotal: number;
  readonly objects: readonly string[];
}

export const MAX_REJECTED_SHOWN = 5;

/** Formats rows as an aligned text table with a header. */
export function formatTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => row[column].length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) =>
          typeof rows[0]?.[column] === "number" ? cell.padStart(widths[column]) : cell.padEnd(widths[column]),
        )
        .join("  ")
        .trimEnd(),
    )
    .map((line) => `  ${line}`)
    .join("\n");
}

export function printReport(report: Report, out: NodeJS.WritableStream): void {
  const write = (text = "") => out.write(`${text}\n`);
  const asOf = report.options.asOf ?? new Date().toISOString().slice(0, 10);
  write(`Facility pipeline (local) - as of ${asOf}, expiry window ${report.options.windowMonths ?? 6} months`);
  write();
  for (const run of report.runs) {
    write(
      `${run.source}  ${run.status}  ${(run.durationMs / 1000).toFixed(1)} s${run.retries > 0 ? `  (${run.retries} retries)` : ""}`,
    );
    if (run.ingest) {
      const { records, valid, rejected, expiring, expired } = run.ingest;
      write(`  records ${records}  valid ${valid}  rejected ${rejected}  expiring ${expiring}  expired ${expired}`);
    }
    if (run.error) write(`  error ${run.error.error}: ${firstLine(run.error.cause)}`);
  }

  write();
  write("Accredited facilities per state");
  write(
    report.stateCounts.length > 0
      ? formatTable(
          ["STATE", "FACILITIES"],
          report.stateCounts.map((row) => [row.state, row.accredited_facility_count]),
        )
      : "  (no successful run)",
  );

  write();
  write(`Accreditations expiring within ${report.options.windowMonths ?? 6} months of ${asOf}`);
  const expiringRows = report.expiringFacilities.flatMap((facility) =>
    ((facility.accreditations as Record<string, unknown>[] | undefined) ?? []).map((accreditation) => [
      String(facility.facility_id),
      String(facility.state ?? ""),
      String(accreditation.accreditation_body),
      String(accreditation.accreditation_id),
      String(accreditation.valid_until),
      Number(accreditation.days_until_expiry),
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
  write(`Objects in s3://${report.bucket}/ (stored in ${report.stateDir})`);
  for (const key of report.objects) write(`  ${key}`);
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
