/**
 * The Trino dialect (Athena engine v3) on DuckDB, for the local stand-in for Athena.
 *
 * DuckDB runs most Athena SQL as written. Where the two differ, the difference is bridged in three
 * small layers, each named so that a test can pin it down:
 * - macros that give Trino's functions their Trino meaning (`TRINO_MACROS`, `currentDateMacro`);
 * - rewrites of the parsed query where DuckDB reads the same syntax differently
 *   (`prepareTrinoQuery`; a query that needs none runs as written, byte for byte);
 * - rendering of result values as Athena writes them in its CSV (`renderTrinoValue`), and
 *   Trino-style error codes for DuckDB's errors (`toTrinoError`).
 */
import { isCalendarDate } from "../core/calendar-date";
import {
  DuckDBTypeId,
  type DuckDBConnection,
  type DuckDBDateValue,
  type DuckDBDecimalValue,
  type DuckDBListValue,
  type DuckDBMapValue,
  type DuckDBStructValue,
  type DuckDBTimestampTZValue,
  type DuckDBTimestampValue,
  type DuckDBType,
  type DuckDBValue,
} from "@duckdb/node-api";

/**
 * Trino functions whose DuckDB namesake means something else, redefined as temporary macros
 * (a temporary macro shadows DuckDB's built-in function of the same name).
 */
export const TRINO_MACROS: readonly string[] = [
  // cardinality(array): DuckDB's cardinality() accepts only maps.
  `CREATE OR REPLACE TEMP MACRO cardinality(x) AS len(x)`,
  // Trino's date units as a DuckDB interval; an unknown unit fails the query as in Trino.
  `CREATE OR REPLACE TEMP MACRO __trino_interval(unit, value) AS CASE lower(unit)
     WHEN 'millisecond' THEN to_milliseconds(CAST(value AS DOUBLE))
     WHEN 'second' THEN to_seconds(CAST(value AS DOUBLE))
     WHEN 'minute' THEN to_minutes(CAST(value AS BIGINT))
     WHEN 'hour' THEN to_hours(CAST(value AS BIGINT))
     WHEN 'day' THEN to_days(CAST(value AS INTEGER))
     WHEN 'week' THEN to_weeks(CAST(value AS INTEGER))
     WHEN 'month' THEN to_months(CAST(value AS INTEGER))
     WHEN 'quarter' THEN to_months(CAST(3 * value AS INTEGER))
     WHEN 'year' THEN to_years(CAST(value AS INTEGER))
     ELSE error('''' || unit || ''' is not a valid TIMESTAMP field') END`,
  // date_add(unit, value, date): Trino's argument order (DuckDB's date_add is (date, interval)).
  // Month arithmetic clamps to the month's end as in Trino: 2026-08-31 + 6 months = 2027-02-28.
  // A DATE stays a DATE (DuckDB's date + interval is a TIMESTAMP), and a DATE takes date units only.
  `CREATE OR REPLACE TEMP MACRO date_add(unit, value, d DATE) AS CASE
     WHEN lower(unit) IN ('day', 'week', 'month', 'quarter', 'year') THEN CAST(d + __trino_interval(unit, value) AS DATE)
     ELSE error('''' || unit || ''' is not a valid DATE field') END,
   (unit, value, d TIMESTAMP) AS d + __trino_interval(unit, value),
   (unit, value, d TIMESTAMP WITH TIME ZONE) AS d + __trino_interval(unit, value)`,
  // date_diff(unit, a, b): Trino counts whole units (2026-01-15 to 2026-02-01 is 0 months);
  // DuckDB's date_diff counts boundaries crossed (1), its datesub counts whole units.
  `CREATE OR REPLACE TEMP MACRO date_diff(unit, a, b) AS datesub(unit, a, b)`,
  // arr[i] in Trino fails the query when i is out of bounds; DuckDB returns NULL (or, for a
  // negative i, counts from the end). Used by the strict-array-subscript rewrite.
  `CREATE OR REPLACE TEMP MACRO __trino_subscript(arr, i) AS CASE
     WHEN arr IS NULL OR i IS NULL THEN NULL
     WHEN i = 0 THEN error('SQL array indices start at 1')
     WHEN i < 0 THEN error('Array subscript is negative: ' || i)
     WHEN i > len(arr) THEN error('Array subscript must be less than or equal to array length: ' || i || ' > ' || len(arr))
     ELSE arr[i] END`,
];

/**
 * `current_date` as a macro returning a fixed date: Athena's current_date is the UTC date when
 * the query starts, and a test or the local runner pins it to an as-of date.
 */
export function currentDateMacro(date: string): string {
  if (!isCalendarDate(date))
    throw new RangeError(`current_date must be a date written YYYY-MM-DD (received "${date}")`);
  return `CREATE OR REPLACE TEMP MACRO current_date() AS DATE '${date}'`;
}

/** A query error with the Trino error code Athena would report (`COLUMN_NOT_FOUND`, ...). */
export class TrinoQueryError extends Error {
  override readonly name = "TrinoQueryError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** Athena's StateChangeReason: `CODE: message`. */
  get reason(): string {
    return `${this.code}: ${this.message}`;
  }
}

/** The names of the rewrites `prepareTrinoQuery` can apply. */
export type TrinoRewrite = "row-unnest" | "strict-array-subscript" | "anonymous-column-names";

export interface PreparedQuery {
  /** The SQL to run in DuckDB: the text received when `rewrites` is empty. */
  readonly sql: string;
  /** The rewrites applied, in the order listed in `TrinoRewrite`. */
  readonly rewrites: readonly TrinoRewrite[];
  /** Tables the query names (lower case, as written: `facilities`, `db.facilities`). */
  readonly tables: readonly string[];
}

type JsonObject = { [key: string]: unknown };

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Parses a query with DuckDB's parser and applies the rewrites it needs:
 * - `row-unnest`: `CROSS JOIN UNNEST(arr) AS a (x, y, z)` over an array of rows gives one column
 *   per row field in Trino; DuckDB gives one struct column and rejects the three aliases. Becomes
 *   `(SELECT r.* FROM (SELECT unnest(arr) AS r)) AS a (x, y, z)`, a lateral join with the same rows.
 * - `strict-array-subscript`: `arr[i]` becomes `__trino_subscript(arr, i)`, which fails the query
 *   when i is out of bounds, as Athena does (DuckDB returns NULL).
 * - `anonymous-column-names`: an output column without a name is `_col0`, `_col1`... in Trino
 *   (DuckDB names it after the expression); `row.field` is named `field` in both.
 * Throws `TrinoQueryError` for a syntax error, several statements, or anything but a query.
 */
export async function prepareTrinoQuery(connection: DuckDBConnection, query: string): Promise<PreparedQuery> {
  const parsed = await serialize(connection, query);
  const statements = parsed.statements as JsonObject[];
  if (statements.length !== 1) {
    throw new TrinoQueryError("SYNTAX_ERROR", `Only one sql statement is allowed (received ${statements.length})`);
  }
  const templates = await rewriteTemplates(connection);
  const rewrites = new Set<TrinoRewrite>();
  const tables = new Set<string>();

  const rewritten = transform(statements[0], (node) => {
    if (node.type === "BASE_TABLE" && typeof node.table_name === "string") {
      tables.add([node.catalog_name, node.schema_name, node.table_name].filter(Boolean).join(".").toLowerCase());
    }
    if (isRowUnnest(node)) {
      rewrites.add("row-unnest");
      const subquery = structuredClone(templates.rowUnnest);
      subquery.alias = node.alias;
      subquery.column_name_alias = node.column_name_alias;
      const unnest = findNode(subquery, (n) => n.class === "FUNCTION" && n.function_name === "unnest");
      unnest!.children = (node.function as JsonObject).children;
      return subquery;
    }
    if (node.class === "OPERATOR" && node.type === "ARRAY_EXTRACT" && !isStringConstant(children(node)[1])) {
      rewrites.add("strict-array-subscript");
      const call = structuredClone(templates.subscript);
      call.children = node.children;
      call.alias = node.alias;
      call.query_location = node.query_location;
      return call;
    }
    return undefined;
  }) as JsonObject;

  if (nameAnonymousColumns(rewritten.node as JsonObject)) rewrites.add("anonymous-column-names");
  const ordered = (["row-unnest", "strict-array-subscript", "anonymous-column-names"] as const).filter((r) =>
    rewrites.has(r),
  );
  if (ordered.length === 0) return { sql: query, rewrites: [], tables: [...tables] };
  return {
    sql: await deserialize(connection, { ...parsed, statements: [rewritten] }),
    rewrites: ordered,
    tables: [...tables],
  };
}

/** DuckDB's parse tree of a query as JSON; a syntax error becomes Trino's SYNTAX_ERROR with its position. */
async function serialize(connection: DuckDBConnection, query: string): Promise<JsonObject> {
  const reader = await connection.runAndReadAll("SELECT json_serialize_sql($1::VARCHAR)", [query]);
  const parsed = parseJson(String(reader.getRows()[0][0]));
  if (parsed.error) {
    const message = String(parsed.error_message);
    if (parsed.error_type === "parser") {
      const position = Number(parsed.position ?? 0);
      const before = query.slice(0, position).split("\n");
      throw new TrinoQueryError(
        "SYNTAX_ERROR",
        `line ${before.length}:${before[before.length - 1].length + 1}: ${message}`,
      );
    }
    throw new TrinoQueryError("NOT_SUPPORTED", `The local Athena runs queries (SELECT, WITH, VALUES) only: ${message}`);
  }
  return parsed;
}

async function deserialize(connection: DuckDBConnection, tree: JsonObject): Promise<string> {
  const reader = await connection.runAndReadAll("SELECT json_deserialize_sql($1::JSON)", [stringifyJson(tree)]);
  return String(reader.getRows()[0][0]);
}

/**
 * DuckDB writes "no position" as 2^64-1, and big constants as bare integers; JSON.parse would round
 * them. They travel through the tree as marked strings and go back as the same digits (Node 22:
 * the reviver's source text and JSON.rawJSON).
 */
const BIG_INTEGER = "\u0000integer:";
const json = JSON as unknown as { rawJSON?: (text: string) => unknown };

function parseJson(text: string): JsonObject {
  const reviver = (_key: string, value: unknown, context?: { source?: string }) =>
    typeof value === "number" && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)
      ? `${BIG_INTEGER}${context.source}`
      : value;
  return JSON.parse(text, reviver as (key: string, value: unknown) => unknown) as JsonObject;
}

function stringifyJson(tree: JsonObject): string {
  const rawJSON = json.rawJSON;
  if (typeof rawJSON !== "function") throw new Error("The local Athena needs Node 22 or later (JSON.rawJSON)");
  return JSON.stringify(tree, (_key, value: unknown) =>
    typeof value === "string" && value.startsWith(BIG_INTEGER) ? rawJSON(value.slice(BIG_INTEGER.length)) : value,
  );
}

/** Parse trees of the replacement shapes, taken from DuckDB itself so they match its version. */
interface RewriteTemplates {
  readonly rowUnnest: JsonObject;
  readonly subscript: JsonObject;
}
const templatesByConnection = new WeakMap<DuckDBConnection, Promise<RewriteTemplates>>();

function rewriteTemplates(connection: DuckDBConnection): Promise<RewriteTemplates> {
  let templates = templatesByConnection.get(connection);
  if (!templates) {
    templates = (async () => {
      const unnest = await serialize(
        connection,
        "SELECT * FROM t, (SELECT __trino_row.* FROM (SELECT unnest(t.a) AS __trino_row)) AS u (x, y)",
      );
      const subscript = await serialize(connection, "SELECT __trino_subscript(a, 1)");
      const unnestNode = (unnest.statements as JsonObject[])[0].node as JsonObject;
      const subscriptNode = (subscript.statements as JsonObject[])[0].node as JsonObject;
      return {
        rowUnnest: (unnestNode.from_table as JsonObject).right as JsonObject,
        subscript: (subscriptNode.select_list as JsonObject[])[0],
      };
    })();
    templatesByConnection.set(connection, templates);
  }
  return templates;
}

/** Rebuilds a JSON tree bottom-up; `replace` returns a replacement for a node, or undefined to keep it. */
function transform(value: unknown, replace: (node: JsonObject) => JsonObject | undefined): unknown {
  if (Array.isArray(value)) return value.map((item) => transform(item, replace));
  if (!isObject(value)) return value;
  const copy: JsonObject = {};
  for (const [key, child] of Object.entries(value)) copy[key] = transform(child, replace);
  return replace(copy) ?? copy;
}

function findNode(value: unknown, predicate: (node: JsonObject) => boolean): JsonObject | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findNode(item, predicate);
      if (found) return found;
    }
    return undefined;
  }
  if (!isObject(value)) return undefined;
  if (predicate(value)) return value;
  return findNode(Object.values(value), predicate);
}

const children = (node: JsonObject): JsonObject[] =>
  Array.isArray(node.children) ? (node.children as JsonObject[]) : [];

function isStringConstant(node: JsonObject | undefined): boolean {
  const value = node?.value as { type?: { id?: string } } | undefined;
  return node?.class === "CONSTANT" && value?.type?.id === "VARCHAR";
}

/** `UNNEST(one_array) AS a (x, y, ...)` without ORDINALITY: Trino expands the rows' fields. */
function isRowUnnest(node: JsonObject): boolean {
  const fn = node.function as JsonObject | undefined;
  return (
    node.type === "TABLE_FUNCTION" &&
    isObject(fn) &&
    String(fn.function_name).toLowerCase() === "unnest" &&
    children(fn).length === 1 &&
    Array.isArray(node.column_name_alias) &&
    node.column_name_alias.length >= 2 &&
    node.with_ordinality !== "WITH_ORDINALITY"
  );
}

/** Names the unnamed output columns of the outermost query as Trino does; true when any was named. */
function nameAnonymousColumns(root: JsonObject): boolean {
  let select = root;
  while (select.type === "SET_OPERATION_NODE") select = select.left as JsonObject;
  if (select.type !== "SELECT_NODE" || !Array.isArray(select.select_list)) return false;
  let named = false;
  const list = select.select_list as JsonObject[];
  for (const [index, expression] of list.entries()) {
    // A star expands to an unknown number of columns: later positions are unknown here.
    if (expression.class === "STAR") break;
    if (expression.alias !== "" || expression.class === "COLUMN_REF") continue;
    const [, field] = children(expression);
    expression.alias =
      expression.type === "STRUCT_EXTRACT" && isStringConstant(field)
        ? String((field.value as { value: unknown }).value)
        : `_col${index}`;
    named = true;
  }
  return named;
}

/** Trino error codes for DuckDB's errors, first match wins. */
const ERROR_CODES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^Parser Error/, "SYNTAX_ERROR"],
  [
    /^Binder Error: (Referenced column|Values list .* does not have a column|Table .* does not have a column)/,
    "COLUMN_NOT_FOUND",
  ],
  [/^Catalog Error: Table with name/, "TABLE_NOT_FOUND"],
  [/^Catalog Error: Schema with name/, "SCHEMA_NOT_FOUND"],
  [/^Catalog Error: (Scalar Function|Table Function|Function|Macro Function) with name/, "FUNCTION_NOT_FOUND"],
  [/^Binder Error: No function matches/, "FUNCTION_NOT_FOUND"],
  [/^Binder Error: Macro .* does not support the supplied arguments/, "FUNCTION_NOT_FOUND"],
  [/^Binder Error: .*(must appear in the GROUP BY|aggregate function)/, "EXPRESSION_NOT_AGGREGATE"],
  [/^Binder Error: Ambiguous reference/, "AMBIGUOUS_NAME"],
  [/^Conversion Error/, "INVALID_CAST_ARGUMENT"],
  [/^Invalid Input Error: (Array subscript|SQL array indices)/, "INVALID_FUNCTION_ARGUMENT"],
  [/^Invalid Input Error: '.*' is not a valid/, "INVALID_FUNCTION_ARGUMENT"],
  [/^Out of Range Error/, "NUMERIC_VALUE_OUT_OF_RANGE"],
  [/^Permission Error/, "PERMISSION_DENIED"],
];

/** DuckDB's error as the Trino error Athena would report: the first line, without DuckDB's prefix. */
export function toTrinoError(error: unknown): TrinoQueryError {
  if (error instanceof TrinoQueryError) return error;
  // Not `instanceof Error`: errors from the native binding may come from another realm (jest).
  const message = (error as { message?: unknown } | null)?.message;
  const text = typeof message === "string" ? message : String(error);
  const firstLine = text.split("\n")[0].trim();
  const code = ERROR_CODES.find(([pattern]) => pattern.test(firstLine))?.[1] ?? "GENERIC_USER_ERROR";
  return new TrinoQueryError(code, firstLine.replace(/^[A-Za-z ]+ Error: /, ""));
}

/**
 * A result value as Athena writes it in its CSV: integers without decimals, dates as YYYY-MM-DD,
 * timestamps as `YYYY-MM-DD HH:MM:SS.mmm`, doubles as Java prints them, arrays as `[a, b]`,
 * rows and maps as `{name=value, ...}`. NULL is `null` inside an array or row; at the top level
 * it returns null (an empty, unquoted CSV field).
 */
export function renderTrinoValue(value: DuckDBValue, type: DuckDBType): string | null {
  return value === null ? null : renderNested(value, type);
}

function renderNested(value: DuckDBValue, type: DuckDBType): string {
  if (value === null) return "null";
  switch (type.typeId) {
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return javaDoubleToString(Number(value));
    case DuckDBTypeId.DATE:
      return (value as DuckDBDateValue).toString();
    case DuckDBTypeId.TIMESTAMP:
      return timestampText(value as DuckDBTimestampValue);
    case DuckDBTypeId.TIMESTAMP_TZ:
      // The session time zone of Athena is UTC.
      return `${timestampText(value as DuckDBTimestampTZValue)} UTC`;
    case DuckDBTypeId.DECIMAL:
      return (value as DuckDBDecimalValue).toString();
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const items = (value as DuckDBListValue).items;
      return `[${items.map((item) => renderNested(item, type.valueType)).join(", ")}]`;
    }
    case DuckDBTypeId.STRUCT: {
      const entries = (value as DuckDBStructValue).entries;
      const fields = type.entryNames.map((name, i) => `${name}=${renderNested(entries[name], type.entryTypes[i])}`);
      return `{${fields.join(", ")}}`;
    }
    case DuckDBTypeId.MAP: {
      const entries = (value as DuckDBMapValue).entries;
      return `{${entries.map((e) => `${renderNested(e.key, type.keyType)}=${renderNested(e.value, type.valueType)}`).join(", ")}}`;
    }
    default:
      return String(value);
  }
}

/** Trino's timestamp(3) text, `2026-01-05 10:00:00.000`, from microseconds since the epoch. */
function timestampText(value: DuckDBTimestampValue | DuckDBTimestampTZValue): string {
  if (!value.isFinite) return String(value);
  const millis = value.micros / 1000n - (value.micros % 1000n < 0n ? 1n : 0n);
  return new Date(Number(millis)).toISOString().replace("T", " ").replace("Z", "");
}

/** Java's Double.toString, which Trino uses for DOUBLE: 1.0, 0.001, 1.0E7, 1.2345E-5. */
export function javaDoubleToString(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    const text = String(value);
    return text.includes(".") ? text : `${text}.0`;
  }
  const [mantissa, exponent] = value.toExponential().split("e");
  return `${mantissa.includes(".") ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}
