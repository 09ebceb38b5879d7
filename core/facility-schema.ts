/**
 * The facility record schema, defined once.
 *
 * The Glue table's columns, the local query engine's table and the ingest validation all derive
 * from FACILITY_COLUMNS, so a new field is added here and nowhere else. This module is pure: it
 * imports nothing, so Lambda bundles, cdktf modules and the local runner can all use it.
 */

/** A column type, small enough to render as a Hive (Glue) type and as a DuckDB type. */
export type ColumnType =
  | { readonly kind: "string" }
  | { readonly kind: "int" }
  | { readonly kind: "boolean" }
  | { readonly kind: "array"; readonly element: ColumnType }
  | { readonly kind: "struct"; readonly fields: readonly FieldDefinition[] };

export interface FieldDefinition {
  readonly name: string;
  readonly type: ColumnType;
  /** Shown as the Glue column comment and in validation messages. */
  readonly comment?: string;
  /**
   * Optional for the product: null or missing, the record is kept with a warning and the column
   * holds NULL (every Glue and DuckDB column is nullable). Otherwise null or missing rejects it.
   */
  readonly optional?: boolean;
  /** The unambiguous normalizations applied to a value that is not already right (REPAIRS). */
  readonly repairs?: readonly Repair[];
}

/**
 * A normalization the validator applies and records (field, value received, value kept) instead
 * of rejecting the record. Each is unambiguous: it cannot change what the value means.
 */
export type Repair = keyof typeof REPAIRS;

/** What each repair does, as the docs' policy table and the quality report describe it. */
export const REPAIRS = {
  trim: "surrounding whitespace removed",
  "integer-text": 'a whole number written as text ("310") read as the number',
  "state-code": 'a state code in lower case or with spaces ("vt", "T X") upper-cased, spaces removed',
  "zip-number": 'a ZIP written as a number (2115) zero-padded to 5 digits ("02115")',
  "date-of-datetime":
    'a date-time with a zero time ("2027-01-31T00:00:00") or in UTC ("2027-01-31T18:30:00Z") read as its date',
} as const;

const string: ColumnType = { kind: "string" };
const int: ColumnType = { kind: "int" };
const boolean: ColumnType = { kind: "boolean" };
const arrayOf = (element: ColumnType): ColumnType => ({ kind: "array", element });
const struct = (...fields: FieldDefinition[]): ColumnType => ({ kind: "struct", fields });
/** The validation policy of a field: optional (null or missing kept with a warning), repairs beyond the default. */
interface Policy {
  readonly optional?: boolean;
  readonly repairs?: readonly Repair[];
}

/**
 * The repairs of a field whose policy names none: every int reads "310". Surrounding whitespace
 * is trimmed only where it changes an answer (ids, codes, dates: the `TRIMMED` fields); free text
 * such as a name or an address is kept as written.
 */
export const DEFAULT_REPAIRS: Readonly<Record<ColumnType["kind"], readonly Repair[]>> = {
  string: [],
  int: ["integer-text"],
  boolean: [],
  array: [],
  struct: [],
};

const field = (name: string, type: ColumnType, comment?: string, policy: Policy = {}): FieldDefinition => ({
  name,
  type,
  comment,
  ...(policy.optional && { optional: true }),
  repairs: [...DEFAULT_REPAIRS[type.kind], ...(policy.repairs ?? [])],
});
const OPTIONAL: Policy = { optional: true };
const TRIMMED: Policy = { repairs: ["trim"] };

/**
 * The columns of a facility record, as uploaded and validated, in table order. Each field's policy
 * (optional, repairs) is the validation policy: what blocks a record, what is repaired, what is
 * kept with a warning (docs/data-quality.md shows it as a table).
 */
export const FACILITY_COLUMNS: readonly FieldDefinition[] = [
  field("facility_id", string, "Unique facility identifier", TRIMMED),
  field("facility_name", string, "Facility display name"),
  field(
    "location",
    struct(
      field("address", string, undefined, OPTIONAL),
      field("city", string),
      field("state", string, undefined, { repairs: ["trim", "state-code"] }),
      field("zip", string, undefined, { optional: true, repairs: ["trim", "zip-number"] }),
    ),
    "Street address; state is a two-letter USPS code",
  ),
  field("employee_count", int, "Number of employees, non-negative", OPTIONAL),
  field("services", arrayOf(string), "Services offered", OPTIONAL),
  field(
    "labs",
    arrayOf(struct(field("lab_name", string), field("certifications", arrayOf(string)))),
    "On-site laboratories and their certifications",
    OPTIONAL,
  ),
  field(
    "accreditations",
    arrayOf(
      struct(
        field("accreditation_body", string),
        field("accreditation_id", string, undefined, TRIMMED),
        field("valid_until", string, undefined, { repairs: ["trim", "date-of-datetime"] }),
      ),
    ),
    "Accreditations; valid_until is an ISO date (YYYY-MM-DD)",
  ),
];

/**
 * Where a staged record comes from, appended to each valid record by the ingest Lambda. The MERGE
 * compares (event_time, sequencer) to decide which upload is newer: both are written at a fixed
 * width (ISO 8601 with milliseconds, UTC; 32 hex digits), so their text order is their time order.
 */
export const PROVENANCE_COLUMNS: readonly FieldDefinition[] = [
  field("source_key", string, "The uploaded object's key (raw/...)"),
  field("source_version", string, "The object's version id, or etag:<ETag> when the bucket is not versioned"),
  field("event_time", string, "When S3 created the object version (the event's time), ISO 8601 UTC with milliseconds"),
  field(
    "sequencer",
    string,
    "The S3 event's sequencer, 32 hex digits (zero-padded on the left); orders events of one key",
  ),
  field("source_line", int, "The record's line (or array element) in the uploaded object, from 1"),
  field("retired", boolean, "True for a retirement: the facility closed and is left out of every answer"),
];

/**
 * The columns of the staging table (`facility_uploads`) and of the current-state table
 * (`facilities`), in table order: the facility record, then its provenance.
 */
export const RECORD_COLUMNS: readonly FieldDefinition[] = [...FACILITY_COLUMNS, ...PROVENANCE_COLUMNS];

/** Renders a column type in Hive DDL syntax, as Glue and Athena expect it. */
export function toHiveType(type: ColumnType): string {
  switch (type.kind) {
    case "string":
      return "string";
    case "int":
      return "int";
    case "boolean":
      return "boolean";
    case "array":
      return `array<${toHiveType(type.element)}>`;
    case "struct":
      return `struct<${type.fields.map((f) => `${f.name}:${toHiveType(f.type)}`).join(",")}>`;
  }
}

/** Renders a column type in DuckDB syntax, for the local query engine. */
export function toDuckDbType(type: ColumnType): string {
  switch (type.kind) {
    case "string":
      return "VARCHAR";
    case "int":
      return "INTEGER";
    case "boolean":
      return "BOOLEAN";
    case "array":
      return `${toDuckDbType(type.element)}[]`;
    case "struct":
      return `STRUCT(${type.fields.map((f) => `"${f.name}" ${toDuckDbType(f.type)}`).join(", ")})`;
  }
}
