/**
 * docs/data-quality.md's policy table says, field by field, what FACILITY_COLUMNS says: whether a
 * null or missing value is kept with a warning or rejected, and which repairs apply. Docs are
 * code: a field whose policy changes without its row fails here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  DEFAULT_REPAIRS,
  FACILITY_COLUMNS,
  REPAIRS,
  type ColumnType,
  type FieldDefinition,
} from "../../core/facility-schema";

const DOC = readFileSync(join(__dirname, "..", "..", "docs", "data-quality.md"), "utf8");

interface Policy {
  readonly optional: boolean;
  readonly repairs: readonly string[];
  readonly type: string;
}

/**
 * Every field path of the schema ("labs[].lab_name", "services[]") with its policy. An array of
 * objects has no row of its own for its elements: its elements' fields have theirs.
 */
function schemaPolicies(): Map<string, Policy> {
  const policies = new Map<string, Policy>();
  const typeName = (type: ColumnType) => (type.kind === "struct" ? "object" : type.kind);
  const visit = (path: string, type: ColumnType, definition?: FieldDefinition) => {
    if (type.kind !== "struct" || definition !== undefined) {
      policies.set(path, {
        optional: definition?.optional === true,
        repairs: definition?.repairs ?? DEFAULT_REPAIRS[type.kind],
        type: typeName(type),
      });
    }
    if (type.kind === "array") visit(`${path}[]`, type.element);
    if (type.kind === "struct") for (const field of type.fields) visit(`${path}.${field.name}`, field.type, field);
  };
  for (const column of FACILITY_COLUMNS) visit(column.name, column.type, column);
  return policies;
}

/** The rows of the table whose header starts with "| Field", keyed by the field in backticks. */
function docPolicies(): Map<string, Policy> {
  const lines = DOC.split("\n");
  const start = lines.findIndex((line) => line.startsWith("| Field "));
  const after = lines.slice(start + 2);
  const end = after.findIndex((line) => !line.startsWith("|"));
  const rows = end === -1 ? after : after.slice(0, end);
  return new Map(
    rows.map((row) => {
      const [field, type, missing, repairs] = row
        .split("|")
        .slice(1, -1)
        .map((cell) => cell.trim());
      const named = [...repairs.matchAll(/`([^`]+)`/g)].map((match) => match[1]);
      return [field.replaceAll("`", ""), { optional: missing === "kept with a warning", repairs: named, type }];
    }),
  );
}

test("the table has one row per schema field, each with the field's type, null-or-missing outcome and repairs", () => {
  const schema = schemaPolicies();
  const doc = docPolicies();
  expect([...doc.keys()]).toEqual([...schema.keys()]);
  for (const [path, policy] of schema) expect({ path, ...doc.get(path) }).toEqual({ path, ...policy });
});

test("every repair a field names is described in the repairs table", () => {
  for (const repair of Object.keys(REPAIRS)) expect(DOC).toMatch(new RegExp(`^\\| \`${repair}\` +\\|`, "m"));
});
