/**
 * The CLI's output for a person: per-file counts, the per-state table, expiring accreditations,
 * the first rejected reasons and where every output object is.
 */
import { todayUtc } from "../core/calendar-date";
import { EXPIRY_WINDOW_MONTHS } from "../core/settings";
import { readResultRows } from "../local/athena";
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
  readonly stateCounts: readonly { state: string; accredited_facility_count: number }[];
  readonly expiringFacilities: readonly Record<string, unknown>[];
  /** The first rejected records (at most MAX_REJECTED_SHOWN), with their source. */
  readonly rejectedRecords: readonly Record<string, unknown>[];
  /** Rejected records in every run. */
  readonly rejectedTotal: number;
  readonly objects: readonly string[];
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
  write(`Accreditations expiring within ${windowMonths} months of ${asOf}`);
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
  write(`Objects in s3://${report.bucket}/`);
  for (const key of report.objects) write(`  ${key}`);
  write(
    report.stateDirIsTemporary
      ? `The bucket was kept in a temporary directory, removed when this program ends. Keep it with --state-dir DIR,
` +
          `then read an object with: facility-pipeline cat KEY --target local --state-dir DIR`
      : `The bucket is kept in ${report.stateDir} (the endpoint's own file format). Read an object with:
` +
          `  facility-pipeline cat KEY --target local --state-dir ${report.stateDir}`,
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

/** Gathers what the report shows from the runs and the bucket. */
export async function buildReport(pipeline: LocalPipeline, runs: readonly ExecutionResult[]): Promise<Report> {
  const lastSucceeded = [...runs].reverse().find((run) => run.status === "SUCCEEDED");
  // The execution output names where PublishStateCounts wrote (state-machines/: SummarizeRun).
  const stateCountsKey = (lastSucceeded?.output as { analytics?: { stateCounts?: { runKey?: string } } } | undefined)
    ?.analytics?.stateCounts?.runKey;
  const stateCounts = stateCountsKey
    ? readResultRows(await pipeline.readObject(stateCountsKey)).map((row) => ({
        state: row.state ?? "",
        accredited_facility_count: Number(row.accredited_facility_count),
      }))
    : [];
  const expiringFacilities: Record<string, unknown>[] = [];
  const rejectedRecords: Record<string, unknown>[] = [];
  for (const run of runs) {
    const outputs = run.ingest?.outputs as { expiring?: string; rejected?: string } | undefined;
    if (run.status === "SUCCEEDED" && outputs?.expiring)
      // One at a time: spreading hundreds of thousands of arguments overflows the stack.
      for (const facility of await readJsonLines(pipeline, outputs.expiring)) expiringFacilities.push(facility);
    const wanted = MAX_REJECTED_SHOWN - rejectedRecords.length;
    if (outputs?.rejected && (run.ingest?.rejected ?? 0) > 0 && wanted > 0) {
      // Only the first lines are shown: read the head of the object, not all of it.
      for (const line of await readJsonLines(pipeline, outputs.rejected, REJECTED_HEAD_BYTES, wanted)) {
        rejectedRecords.push({ source: run.source, ...line });
      }
    }
  }
  // What the executions used (the ingest result says), else what the options asked for.
  const settingsUsed = runs.find((run) => run.ingest)?.ingest as { asOf?: string; windowMonths?: number } | undefined;
  return {
    bucket: pipeline.bucket,
    stateDir: pipeline.stateDir,
    stateDirIsTemporary: pipeline.isTemporary,
    outbox: pipeline.outboxFile,
    asOf: settingsUsed?.asOf ?? pipeline.options.asOf ?? todayUtc(),
    windowMonths: settingsUsed?.windowMonths ?? pipeline.options.windowMonths ?? EXPIRY_WINDOW_MONTHS.default,
    runs,
    stateCounts,
    expiringFacilities,
    rejectedRecords,
    rejectedTotal: runs.reduce((total, run) => total + (run.ingest?.rejected ?? 0), 0),
    objects: await pipeline.listKeys(),
  };
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
