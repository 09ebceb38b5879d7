/**
 * `query`: run one of the sql/ queries (the text the workflow and the named queries use) or a
 * named query in the pipeline's workgroup, wait for it, and print its rows and the bytes it
 * scanned (what Athena bills).
 */
import { todayUtc } from "../core/calendar-date";
import { EXPIRY_WINDOW_MONTHS } from "../core/settings";
import { listQueries, parameterLiteral, queryParameters, readQuery, type QueryParameter } from "../core/sql";
import { formatTable } from "./table";
import { UsageError } from "../core/target";
import { formatBytes, formatDuration, type CommandOutput } from "./output";
import type { QueryRequest, Target } from "../core/target";

export interface QueryOptions {
  /** A file name in sql/ without .sql. */
  readonly name?: string;
  /** An Athena named query id (AWS only). */
  readonly namedQueryId?: string;
  readonly timeoutMs: number;
  /** The date the query answers for (its `as_of` parameter). @default - today, UTC */
  readonly asOf?: string;
  /** The window of a query with a `window_months` parameter. @default 6 (EXPIRY_WINDOW_MONTHS) */
  readonly windowMonths?: number;
}

export const DEFAULT_QUERY_TIMEOUT = "30m";

/** The request for a query name or named query id; an unknown name lists the known ones. */
/** What to run instead of a query whose parameters only a workflow or another subcommand supplies. */
const INSTEAD: Readonly<Record<string, string>> = {
  facility_history: ": use history FACILITY_ID",
  merge_current_state: ": the workflow runs it after each upload",
  expiry_digest: ": use digest (--as-of, --window-months, --lookback-days)",
};

export function queryRequest(
  options: Pick<QueryOptions, "name" | "namedQueryId" | "asOf" | "windowMonths"> & {
    /** Values of the query's other parameters, by name (history's facility_id). */
    readonly values?: Readonly<Record<string, string | number>>;
  },
  now = new Date(),
): QueryRequest {
  if (options.name && options.namedQueryId) throw new UsageError("query: give a NAME or --named-query ID, not both");
  if (options.namedQueryId) return { kind: "named-query", namedQueryId: options.namedQueryId };
  if (!options.name) throw new UsageError(`query: name a query: ${listQueries().join(", ")} (or --named-query ID)`);
  // readQuery throws UnknownQueryError listing the known names.
  const queryString = readQuery(options.name);
  const asOf = options.asOf ?? todayUtc(now);
  const values: Record<string, string | number> = {
    as_of: asOf,
    window_months: options.windowMonths ?? EXPIRY_WINDOW_MONTHS.default,
    ...options.values,
  };
  const parameters = queryParameters(options.name).map((parameter: QueryParameter) => {
    if (!Object.hasOwn(values, parameter.name)) {
      throw new UsageError(
        `query: sql/${options.name}.sql takes a parameter "${parameter.name}" that the CLI cannot supply ` +
          `(it supplies ${Object.keys(values).join(", ")})` +
          (INSTEAD[options.name ?? ""] ?? ""),
      );
    }
    return parameterLiteral(parameter, values[parameter.name]);
  });
  return { kind: "sql", name: options.name, queryString, parameters, asOf };
}

export async function query(target: Target, options: QueryOptions): Promise<CommandOutput> {
  const request = queryRequest(options);
  const result = await target.runQuery(request, options.timeoutMs);
  const what =
    request.kind === "sql"
      ? `sql/${request.name}.sql${request.parameters.length > 0 ? ` (parameters ${request.parameters.join(", ")})` : ""}`
      : `named query ${request.namedQueryId}`;
  const scanned = `${formatBytes(result.dataScannedInBytes)} scanned`;
  const timing =
    result.engineExecutionTimeInMillis === undefined ? "" : ` in ${formatDuration(result.engineExecutionTimeInMillis)}`;
  const lines: string[] = [];
  if (result.state === "SUCCEEDED") {
    lines.push(
      formatTable(
        result.columns,
        result.rows.map((row) => row.map((value) => value ?? "")),
      ),
    );
    lines.push("", `${result.rows.length} row(s) from ${what}; ${scanned}${timing}.`);
  } else {
    lines.push(`Query ${result.state}: ${what}`, `  ${result.reason ?? "(no reason given)"}`, `${scanned}.`);
  }
  lines.push(
    `Query execution ${result.queryExecutionId} in workgroup ${result.workgroup}, database ${result.database}`,
  );
  if (result.outputLocation) lines.push(`Results: ${result.outputLocation}`);
  return {
    exitCode: result.state === "SUCCEEDED" ? 0 : 1,
    text: `${lines.join("\n")}\n`,
    json: {
      query: what,
      queryExecutionId: result.queryExecutionId,
      state: result.state,
      ...(result.reason ? { reason: result.reason } : {}),
      workgroup: result.workgroup,
      database: result.database,
      dataScannedInBytes: result.dataScannedInBytes,
      outputLocation: result.outputLocation ?? null,
      columns: result.columns,
      rows: result.rows.map((row) => Object.fromEntries(result.columns.map((column, i) => [column, row[i] ?? null]))),
    },
  };
}
