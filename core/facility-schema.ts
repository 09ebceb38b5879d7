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
  | { readonly kind: "array"; readonly element: ColumnType }
  | { readonly kind: "struct"; readonly fields: readonly FieldDefinition[] };

export interface FieldDefinition {
  readonly name: string;
  readonly type: ColumnType;
  /** Shown as the Glue column comment and in validation messages. */
  readonly comment?: string;
}

const string: ColumnType = { kind: "string" };
const int: ColumnType = { kind: "int" };
const arrayOf = (element: ColumnType): ColumnType => ({ kind: "array", element });
const struct = (...fields: FieldDefinition[]): ColumnType => ({ kind: "struct", fields });
const field = (name: string, type: ColumnType, comment?: string): FieldDefinition => ({ name, type, comment });

/** The columns of `healthcare_facility_db.facilities`, in table order. */
export const FACILITY_COLUMNS: readonly FieldDefinition[] = [
  field("facility_id", string, "Unique facility identifier"),
  field("facility_name", string, "Facility display name"),
  field(
    "location",
    struct(field("address", string), field("city", string), field("state", string), field("zip", string)),
    "Street address; state is a two-letter USPS code",
  ),
  field("employee_count", int, "Number of employees, non-negative"),
  field("services", arrayOf(string), "Services offered"),
  field(
    "labs",
    arrayOf(struct(field("lab_name", string), field("certifications", arrayOf(string)))),
    "On-site laboratories and their certifications",
  ),
  field(
    "accreditations",
    arrayOf(
      struct(field("accreditation_body", string), field("accreditation_id", string), field("valid_until", string)),
    ),
    "Accreditations; valid_until is an ISO date (YYYY-MM-DD)",
  ),
];

/** Renders a column type in Hive DDL syntax, as Glue and Athena expect it. */
export function toHiveType(type: ColumnType): string {
  switch (type.kind) {
    case "string":
      return "string";
    case "int":
      return "int";
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
    case "array":
      return `${toDuckDbType(type.element)}[]`;
    case "struct":
      return `STRUCT(${type.fields.map((f) => `"${f.name}" ${toDuckDbType(f.type)}`).join(", ")})`;
  }
}
