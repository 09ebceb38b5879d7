/**
 * The Athena queries in sql/, read by name.
 *
 * The same text is used by the Athena named queries, the state machine and the local engine.
 * Uses only node:fs and node:path so it stays free of cdktf.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_ROOT } from "./package-root";

export const SQL_DIR = join(PACKAGE_ROOT, "sql");

export class UnknownQueryError extends Error {
  override readonly name = "UnknownQueryError";
}

/** Returns the text of `sql/<name>.sql`, without a trailing semicolon (Athena rejects it). */
export function readQuery(name: string): string {
  const available = listQueries();
  if (!available.includes(name)) {
    throw new UnknownQueryError(
      `Unknown query "${name}": expected one of ${available.join(", ")} (files in ${SQL_DIR})`,
    );
  }
  return readFileSync(join(SQL_DIR, `${name}.sql`), "utf8")
    .trim()
    .replace(/;\s*$/, "");
}

/** The names of every query file in sql/, sorted. */
export function listQueries(): string[] {
  return readdirSync(SQL_DIR)
    .filter((file) => file.endsWith(".sql"))
    .map((file) => file.slice(0, -".sql".length))
    .sort();
}

/** The kinds of value a query parameter takes. */
export type QueryParameterType = "date" | "integer" | "string";

/** A `?` placeholder of a query, declared in its file as `-- @parameter NAME TYPE: description`. */
export interface QueryParameter {
  readonly name: string;
  readonly type: QueryParameterType;
  readonly description: string;
}

export class QueryParameterError extends Error {
  override readonly name = "QueryParameterError";
}

const PARAMETER_LINE = /^--\s*@parameter\s+([a-z_][a-z0-9_]*)\s+(date|integer|string)\s*:\s*(.*)$/;

/**
 * The parameters `sql/<name>.sql` declares, in the order its `?` placeholders bind them. Throws
 * when the declarations and the placeholders disagree in number, so a query cannot run with a
 * value bound to the wrong placeholder.
 */
export function queryParameters(name: string): QueryParameter[] {
  const text = readQuery(name);
  const parameters: QueryParameter[] = [];
  const code: string[] = [];
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    const declared = PARAMETER_LINE.exec(trimmed);
    if (declared)
      parameters.push({ name: declared[1], type: declared[2] as QueryParameterType, description: declared[3] });
    else if (!trimmed.startsWith("--")) code.push(line.replace(/--.*$/, "").replace(/'(?:[^']|'')*'/g, "''"));
  }
  const placeholders = (code.join("\n").match(/\?/g) ?? []).length;
  if (placeholders !== parameters.length) {
    throw new QueryParameterError(
      `sql/${name}.sql has ${placeholders} "?" placeholder(s) but declares ${parameters.length} ` +
        `"-- @parameter NAME date|integer|string: description" line(s): declare one per placeholder, in order`,
    );
  }
  return parameters;
}

/**
 * A parameter's value as Athena's ExecutionParameters take it: a SQL literal (`'2026-11-26'`, `6`).
 * Throws QueryParameterError naming the parameter when the value is not of its type.
 */
export function parameterLiteral(parameter: QueryParameter, value: string | number): string {
  if (parameter.type === "integer") {
    if (!Number.isSafeInteger(typeof value === "number" ? value : Number(value)) || String(value).trim() === "") {
      throw new QueryParameterError(`${parameter.name}: expected a whole number (received ${JSON.stringify(value)})`);
    }
    return String(Number(value));
  }
  if (parameter.type === "string") {
    if (typeof value !== "string" || value === "") {
      throw new QueryParameterError(`${parameter.name}: expected a non-empty text (received ${JSON.stringify(value)})`);
    }
    return `'${value.replaceAll("'", "''")}'`;
  }
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    throw new QueryParameterError(
      `${parameter.name}: expected a date written YYYY-MM-DD (received ${JSON.stringify(value)})`,
    );
  }
  return `'${value}'`;
}

/**
 * The SQL of `sql/<name>.sql` without its comments, on one line (lines trimmed and joined by a
 * space): the form the state machine inlines into an intrinsic function. A `--` inside a string
 * literal is kept.
 */
export function queryCode(name: string): string {
  return readQuery(name)
    .split("\n")
    .map((line) => withoutComment(line).trim())
    .filter((line) => line !== "")
    .join(" ");
}

function withoutComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "'") quoted = !quoted;
    else if (!quoted && line.startsWith("--", i)) return line.slice(0, i);
  }
  return line;
}
