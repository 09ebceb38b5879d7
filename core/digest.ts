/**
 * The expiry digest's result as the targets report it (core/target.ts DigestRun): from the
 * execution's output (state-machines/expiry-digest.asl.json, DigestSucceeded) and the CSV it
 * published. One reading for the deployed workflow and the local one.
 */
import { resultRows } from "./athena-csv";
import type { DigestRow, DigestRun, ExecutionFailure, ExecutionStatus } from "./target";

/** The parts of the execution output (DigestSucceeded) read here. */
interface DigestOutput {
  readonly digest?: { readonly asOf: string; readonly windowMonths: number; readonly lookbackDays: number };
  readonly published?: { readonly runKey: string; readonly digest?: { readonly horizons: Record<string, number> } };
}

export interface DigestRunParts {
  readonly executionArn: string;
  readonly status: ExecutionStatus;
  readonly failure: ExecutionFailure | null;
  /** The execution's output, when it succeeded. */
  readonly output: unknown;
  /** The published CSV's text, when there is one. */
  readonly csvText: string | null;
  readonly notification: DigestRun["notification"];
}

export function digestRunOf(parts: DigestRunParts): DigestRun {
  const output = (parts.output ?? {}) as DigestOutput;
  const rows: DigestRow[] = [];
  for (const row of parts.csvText === null ? [] : resultRows(parts.csvText)) {
    rows.push({
      facility_id: row.facility_id ?? "",
      facility_name: row.facility_name ?? "",
      state: row.state ?? "",
      accreditation_body: row.accreditation_body ?? "",
      accreditation_id: row.accreditation_id ?? "",
      valid_until: row.valid_until ?? "",
      days_until_expiry: Number(row.days_until_expiry),
      horizon: row.horizon ?? "",
    });
  }
  return {
    executionArn: parts.executionArn,
    status: parts.status,
    failure: parts.failure,
    settings: output.digest
      ? {
          asOf: output.digest.asOf,
          windowMonths: output.digest.windowMonths,
          lookbackDays: output.digest.lookbackDays,
        }
      : null,
    horizons: output.published?.digest?.horizons ?? {},
    rows,
    runKey: output.published?.runKey ?? null,
    notification: parts.notification,
  };
}
