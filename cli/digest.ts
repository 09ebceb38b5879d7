/**
 * `digest`: runs the expiry-digest workflow (the one the schedule starts every week) and shows
 * what compliance receives: the accreditations per horizon, every accreditation of the digest,
 * soonest first, and the message sent. Locally it runs on the state directory's current table;
 * with --target aws it starts the deployed state machine and waits for it.
 */
import { HORIZONS, horizonLabel } from "../core/horizons";
import type { DigestRequest, DigestRun, Target } from "../core/target";
import { readableCause, type CommandOutput } from "./output";
import { formatTable } from "./table";

export interface DigestOptions extends DigestRequest {
  readonly timeoutMs: number;
}

/** What `digest --json` prints (see docs/compliance.md). */
export interface DigestJson {
  readonly asOf: string | null;
  readonly windowMonths: number | null;
  readonly lookbackDays: number | null;
  readonly horizons: Readonly<Record<string, number>>;
  readonly expiringAccreditations: DigestRun["rows"];
  readonly notification: DigestRun["notification"];
  readonly status: DigestRun["status"];
  readonly executionArn: string;
  /** Where the full list was published. */
  readonly csv: string | null;
}

export async function digest(target: Target, options: DigestOptions): Promise<CommandOutput> {
  const { timeoutMs, ...request } = options;
  const run = await target.runDigest(request, timeoutMs);
  return digestOutput(run, target.bucket);
}

export function digestOutput(run: DigestRun, bucket: string): CommandOutput {
  const csv = run.runKey === null ? null : `s3://${bucket}/${run.runKey}`;
  const json: DigestJson = {
    asOf: run.settings?.asOf ?? null,
    windowMonths: run.settings?.windowMonths ?? null,
    lookbackDays: run.settings?.lookbackDays ?? null,
    horizons: Object.fromEntries(HORIZONS.map((horizon) => [horizon, run.horizons[horizon] ?? 0])),
    expiringAccreditations: run.rows,
    notification: run.notification,
    status: run.status,
    executionArn: run.executionArn,
    csv,
  };
  if (run.status !== "SUCCEEDED") {
    const failure = run.failure;
    return {
      exitCode: 1,
      text:
        `The digest ${run.status}${failure?.state ? ` in ${failure.state}` : ""}: ${failure?.error ?? ""}` +
        `${failure?.cause ? ` ${readableCause(failure.cause)}` : ""}\nExecution: ${run.executionArn}\n`,
      json,
    };
  }
  const settings = run.settings!;
  const lines = [
    `Accreditation expiry digest as of ${settings.asOf}: expired in the last ${settings.lookbackDays} days, ` +
      `or expiring within ${settings.windowMonths} months (current state, each facility once)`,
    "",
    formatTable(
      ["HORIZON", "ACCREDITATIONS"],
      HORIZONS.map((horizon) => [horizonLabel(horizon), json.horizons[horizon]]),
    ),
    "",
  ];
  if (run.rows.length > 0) {
    lines.push(
      formatTable(
        ["DAYS", "VALID UNTIL", "HORIZON", "STATE", "FACILITY", "NAME", "BODY", "ACCREDITATION"],
        run.rows.map((row) => [
          row.days_until_expiry,
          row.valid_until,
          row.horizon,
          row.state,
          row.facility_id,
          row.facility_name,
          row.accreditation_body,
          row.accreditation_id,
        ]),
      ),
      "",
    );
  }
  lines.push(
    `${run.rows.length} accreditation(s); the full list: ${csv ?? "(not published)"}`,
    run.notification
      ? `Sent to the compliance topic: "${run.notification.subject}"`
      : "Nothing sent to the compliance topic: nothing to report (the config's digestSendAllClear sends an all clear)",
  );
  return { exitCode: 0, text: `${lines.join("\n")}\n`, json };
}
