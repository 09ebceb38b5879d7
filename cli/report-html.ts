/**
 * `report --out FILE.html`: the digest as a page people open. Runs the expiry-digest workflow
 * (as `digest` does), reads where the current state comes from (sql/current_state_uploads.sql),
 * and writes one self-contained HTML file (./html-report.ts) built here, by the CLI, from the
 * digest's results: no Lambda renders it, and nothing in it loads from the network.
 */
import { writeFileSync } from "node:fs";
import { UsageError, type Target } from "../core/target";
import { digestOutput, type DigestOptions } from "./digest";
import { renderDigestHtml, type DigestAccreditation, type Horizon } from "./html-report";
import type { CommandOutput } from "./output";
import { queryRequest } from "./query";

export interface HtmlReportOptions extends DigestOptions {
  /** The file to write, ending in .html. */
  readonly out: string;
}

export async function htmlReport(target: Target, options: HtmlReportOptions): Promise<CommandOutput> {
  const { out, timeoutMs, ...request } = options;
  const run = await target.runDigest(request, timeoutMs);
  if (run.status !== "SUCCEEDED" || run.settings === null) return digestOutput(run, target.bucket);
  const uploads = await target.runQuery(queryRequest({ name: "current_state_uploads" }), timeoutMs);
  if (uploads.state !== "SUCCEEDED") {
    throw new UsageError(`report: reading the current state's uploads ${uploads.state}: ${uploads.reason ?? ""}`);
  }
  const column = (name: string) => uploads.columns.indexOf(name);
  const html = renderDigestHtml({
    asOf: run.settings.asOf,
    windowMonths: run.settings.windowMonths,
    lookbackDays: run.settings.lookbackDays,
    horizons: run.horizons as Record<Horizon, number>,
    expiringAccreditations: run.rows as DigestAccreditation[],
    provenance: {
      generatedAt: new Date().toISOString(),
      uploads: uploads.rows.map((row) => ({
        source_key: row[column("source_key")] ?? "",
        event_time: row[column("event_time")] ?? "",
        facilities: Number(row[column("facilities")]),
      })),
    },
  });
  writeFileSync(out, html);
  const digested = digestOutput(run, target.bucket);
  return {
    exitCode: 0,
    text: `Wrote ${out}: ${run.rows.length} accreditation(s) as of ${run.settings.asOf}, from ${uploads.rows.length} upload(s).\n`,
    json: { ...(digested.json as object), report: out },
  };
}
