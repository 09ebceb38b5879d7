/**
 * Validation of one facility record against FACILITY_COLUMNS, the one schema definition, plus
 * the domain rules that a Glue type cannot express (REFINEMENTS below).
 *
 * The checker is compiled once from the column definitions, so a column added to the schema is
 * validated (as required, with its type) without touching this file. Every problem is reported,
 * each with the path of its field ("accreditations[1].valid_until"). Fields the schema does not
 * know are dropped from the canonical output and counted.
 */
import { FACILITY_COLUMNS, type ColumnType, type FieldDefinition } from "../../core/facility-schema";
import { isCalendarDate } from "../../core/calendar-date";

/** A valid facility record, in column order. Mirrors FACILITY_COLUMNS (the validator is derived from it). */
export interface Facility {
  readonly facility_id: string;
  readonly facility_name: string;
  readonly location: { readonly address: string; readonly city: string; readonly state: string; readonly zip: string };
  readonly employee_count: number;
  readonly services: readonly string[];
  readonly labs: readonly { readonly lab_name: string; readonly certifications: readonly string[] }[];
  readonly accreditations: readonly Accreditation[];
}

export interface Accreditation {
  readonly accreditation_body: string;
  readonly accreditation_id: string;
  /** A calendar date, YYYY-MM-DD. */
  readonly valid_until: string;
}

export interface ValidationProblem {
  /** Path of the field, e.g. "location.state" or "accreditations[1].valid_until"; "(record)" for the whole record. */
  readonly field: string;
  readonly message: string;
}

export type FacilityValidation =
  | {
      readonly valid: true;
      readonly facility: Facility;
      /** The record as canonical JSON: schema fields only, in column order, no insignificant whitespace. */
      readonly canonicalJson: string;
      /** Patterns of the fields dropped because the schema does not know them ("labs[].extra"), one per occurrence; usually empty. */
      readonly unknownFields: readonly string[];
    }
  | { readonly valid: false; readonly problems: readonly ValidationProblem[] };

/** The field path used for problems with the record as a whole. */
export const RECORD_FIELD = "(record)";

/** The two-letter USPS codes of the 50 states, the District of Columbia and the inhabited territories. */
export const US_STATE_AND_TERRITORY_CODES: ReadonlySet<string> = new Set(
  (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR " +
    "PA RI SC SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR VI UM"
  ).split(" "),
);

/** A rule on top of a column's type: returns a problem message, or undefined when the value is fine. */
type Refinement = (value: never) => string | undefined;

/**
 * The domain rules, keyed by field pattern ("[]" stands for any array index). Each pattern must
 * name a column of FACILITY_COLUMNS; the module refuses to load otherwise.
 */
const REFINEMENTS: Readonly<Record<string, Refinement>> = {
  facility_id: (value: string) => (value.trim() === "" ? "must not be empty" : undefined),
  facility_name: (value: string) => (value.trim() === "" ? "must not be empty" : undefined),
  "location.state": (value: string) =>
    US_STATE_AND_TERRITORY_CODES.has(value)
      ? undefined
      : `expected a two-letter US state or territory code such as "TX", received ${quoted(value)}`,
  employee_count: (value: number) => (value < 0 ? `must not be negative, received ${value}` : undefined),
  "accreditations[].valid_until": (value: string) =>
    isCalendarDate(value) ? undefined : `expected a calendar date written YYYY-MM-DD, received ${quoted(value)}`,
};

/** Hive's int is 32-bit; a larger number would not load in Athena. */
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** State of one validation walk; reused across records to avoid allocating per record. */
class Walk {
  /** Patterns of the fields the schema does not know ("labs[].extra"), one per occurrence. */
  unknownFields: string[] | undefined;
  /** Every object's keys were exactly its schema fields, in column order. */
  ordered = true;
  /** Length of the canonical JSON if no string needed an escape. */
  canonicalLength = 0;
  /** An integer that a shorter exponent form (1e3) could have written; disables the copy shortcut. */
  exponentForm = false;

  reset(): void {
    this.unknownFields = undefined;
    this.ordered = true;
    this.canonicalLength = 0;
    this.exponentForm = false;
  }
}

/**
 * Checks a value; returns undefined when it is valid, else its problems with field paths relative
 * to the value ("" for the value itself). Paths are built on the way back up, only for invalid
 * records, so the common case allocates nothing.
 */
type Checker = (value: unknown, walk: Walk) => ValidationProblem[] | undefined;

interface CompiledField {
  readonly name: string;
  readonly check: Checker;
}

const problem = (message: string): ValidationProblem[] => [{ field: "", message }];

/** Re-roots relative problem paths under a field name or an array index. */
function under(
  segment: string | number,
  problems: ValidationProblem[],
  into: ValidationProblem[] | undefined,
): ValidationProblem[] {
  const result = into ?? [];
  const prefix = typeof segment === "number" ? `[${segment}]` : segment;
  for (const found of problems) {
    const rest = found.field;
    const field = rest === "" ? prefix : rest.startsWith("[") ? `${prefix}${rest}` : `${prefix}.${rest}`;
    result.push({ field, message: found.message });
  }
  return result;
}

function compile(type: ColumnType, pattern: string, used: Set<string>): Checker {
  const refinement = REFINEMENTS[pattern];
  if (refinement !== undefined) used.add(pattern);
  const refine = refinement as ((value: unknown) => string | undefined) | undefined;
  switch (type.kind) {
    case "string":
      return (value, walk) => {
        if (typeof value !== "string") return problem(`expected a string, received ${quoted(value)}`);
        walk.canonicalLength += value.length + 2;
        const message = refine?.(value);
        return message === undefined ? undefined : problem(message);
      };
    case "int":
      return (value, walk) => {
        if (typeof value !== "number" || !Number.isInteger(value) || value < INT_MIN || value > INT_MAX) {
          return problem(`expected a whole number (32-bit integer), received ${quoted(value)}`);
        }
        walk.canonicalLength += decimalLength(value);
        if (value !== 0 && value % 1000 === 0) walk.exponentForm = true;
        const message = refine?.(value);
        return message === undefined ? undefined : problem(message);
      };
    case "array": {
      const element = compile(type.element, `${pattern}[]`, used);
      return (value, walk) => {
        if (!Array.isArray(value)) return problem(`expected an array, received ${quoted(value)}`);
        walk.canonicalLength += value.length === 0 ? 2 : value.length + 1;
        let problems: ValidationProblem[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const found = element(value[i], walk);
          if (found !== undefined) problems = under(i, found, problems);
        }
        return problems;
      };
    }
    case "struct":
      return compileStruct(type.fields, pattern, used);
    case "boolean":
      throw new Error(`${pattern}: records have no boolean field; only provenance columns do`);
  }
}

function compileStruct(definitions: readonly FieldDefinition[], pattern: string, used: Set<string>): Checker {
  const fields: CompiledField[] = definitions.map((definition) => ({
    name: definition.name,
    check: compile(definition.type, pattern === "" ? definition.name : `${pattern}.${definition.name}`, used),
  }));
  const names = new Set(fields.map((field) => field.name));
  const count = fields.length;
  // Braces, the commas between fields and each `"name":`.
  const overhead = 2 + (count - 1) + fields.reduce((sum, field) => sum + field.name.length + 3, 0);
  const what = pattern === "" ? "a JSON object" : "an object";
  return (value, walk) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return problem(`expected ${what}, received ${quoted(value)}`);
    }
    const record = value as Record<string, unknown>;
    let inOrder = 0;
    for (const key in record) {
      if (inOrder < count && key === fields[inOrder].name) {
        inOrder++;
      } else {
        inOrder = count + 1; // out of order, extra or unknown: no longer comparable
        if (!names.has(key)) (walk.unknownFields ??= []).push(pattern === "" ? key : `${pattern}.${key}`);
      }
    }
    if (inOrder !== count) walk.ordered = false;
    walk.canonicalLength += overhead;
    let problems: ValidationProblem[] | undefined;
    for (let i = 0; i < count; i++) {
      const field = fields[i];
      const fieldValue = record[field.name];
      // JSON has no undefined, and no schema name is an Object.prototype property.
      const found = fieldValue === undefined ? problem("is required") : field.check(fieldValue, walk);
      if (found !== undefined) problems = under(field.name, found, problems);
    }
    return problems;
  };
}

function compileSchema(): Checker {
  const used = new Set<string>();
  const check = compileStruct(FACILITY_COLUMNS, "", used);
  const unused = Object.keys(REFINEMENTS).filter((pattern) => !used.has(pattern));
  if (unused.length > 0) {
    throw new Error(`facility-validation: refinements for fields not in FACILITY_COLUMNS: ${unused.join(", ")}`);
  }
  return check;
}

const NO_FIELDS: readonly string[] = [];
const STRUCT_OF_COLUMNS: ColumnType = { kind: "struct", fields: FACILITY_COLUMNS };
const checkFacility = compileSchema();
const walk = new Walk();

/**
 * The fast path for the common record: valid, its keys exactly the schema's in column order, no
 * integer with an exponent form. Returns the canonical length (as Walk computes it), or -1 for
 * any other record, which then takes the full walk above: the fast path never rejects a record
 * itself, so it cannot change what is valid or how problems are reported, only how fast a good
 * record passes.
 *
 * It is generated from FACILITY_COLUMNS as straight-line JavaScript (the technique of ajv and
 * fast-json-stringify): property reads on records of one shape then stay monomorphic and inline,
 * about 3 times faster than the generic closures above on a million records. Field names enter
 * the code only as JSON string literals; refinements and constants are passed in, not inlined.
 * Where code generation is disallowed (node --disallow-code-generation-from-strings), every
 * record takes the full walk.
 */
function compileFastPath(): ((value: unknown) => number) | undefined {
  const constants: unknown[] = [];
  const constant = (value: unknown): string => `C[${constants.push(value) - 1}]`;
  let variables = 0;
  const variable = (prefix: string): string => `${prefix}${variables++}`;

  const generate = (type: ColumnType, value: string, pattern: string): string => {
    const refinement = REFINEMENTS[pattern];
    const refine = refinement === undefined ? "" : `if (${constant(refinement)}(${value}) !== undefined) return -1;`;
    switch (type.kind) {
      case "string":
        return `if (typeof ${value} !== "string") return -1; length += ${value}.length + 2; ${refine}`;
      case "int":
        return (
          `if (typeof ${value} !== "number" || !Number.isInteger(${value}) || ${value} < ${INT_MIN} || ${value} > ${INT_MAX}` +
          ` || (${value} !== 0 && ${value} % 1000 === 0)) return -1; length += ${constant(decimalLength)}(${value}); ${refine}`
        );
      case "array": {
        const index = variable("i");
        const element = variable("e");
        return (
          `if (!Array.isArray(${value})) return -1; length += ${value}.length === 0 ? 2 : ${value}.length + 1;` +
          `for (let ${index} = 0; ${index} < ${value}.length; ${index}++) { const ${element} = ${value}[${index}];` +
          `${generate(type.element, element, `${pattern}[]`)} }`
        );
      }
      case "struct": {
        const names = constant(type.fields.map((field) => field.name));
        const count = variable("n");
        const overhead =
          2 + (type.fields.length - 1) + type.fields.reduce((sum, field) => sum + field.name.length + 3, 0);
        let code =
          `if (typeof ${value} !== "object" || ${value} === null || Array.isArray(${value})) return -1;` +
          `let ${count} = 0; for (const key in ${value}) { if (key !== ${names}[${count}]) return -1; ${count}++; }` +
          `if (${count} !== ${type.fields.length}) return -1; length += ${overhead};`;
        for (const field of type.fields) {
          const fieldValue = variable("f");
          const fieldPattern = pattern === "" ? field.name : `${pattern}.${field.name}`;
          code += `const ${fieldValue} = ${value}[${JSON.stringify(field.name)}]; ${generate(field.type, fieldValue, fieldPattern)}`;
        }
        return code;
      }
      case "boolean":
        return "return -1;";
    }
  };

  const body = generate(STRUCT_OF_COLUMNS, "record", "");
  try {
    const factory = new Function(
      "C",
      `return function facilityFastPath(record) { let length = 0; ${body} return length; };`,
    );
    return factory(constants) as (value: unknown) => number;
  } catch {
    return undefined;
  }
}

const fastPath = compileFastPath();

/**
 * Validates a parsed record. `originalText` is the text it was parsed from: when it already is
 * the canonical JSON it is returned as is, which saves re-serializing the common case of a
 * producer that writes compact JSON in column order.
 *
 * Why comparing lengths is enough: for a record whose keys are exactly the schema's, in order,
 * every token of any JSON text that parses to it is at least as long as the same token in the
 * canonical text written without escapes (an escape, whitespace, a repeated key, "1.0" for 1 only
 * add characters; strings cannot hold raw control characters or lone surrogates). The single
 * exception is an integer such as 1000 written as 1e3, hence `exponentForm`. So a text exactly
 * as long as that lower bound is the canonical text itself.
 */
/**
 * Reasons kept per rejected record: a hostile line (a million wrong-typed array elements) must not
 * make the rejected output many times larger than the input.
 */
export const MAX_REPORTED_PROBLEMS = 20;

export function validateFacility(value: unknown, originalText?: string): FacilityValidation {
  const fastLength = fastPath === undefined ? -1 : fastPath(value);
  if (fastLength >= 0) {
    const canonicalJson = originalText?.length === fastLength ? originalText : JSON.stringify(value);
    return { valid: true, facility: value as Facility, canonicalJson, unknownFields: NO_FIELDS };
  }
  walk.reset();
  const problems = checkFacility(value, walk);
  if (problems !== undefined) {
    const reported = problems.slice(0, MAX_REPORTED_PROBLEMS);
    if (problems.length > MAX_REPORTED_PROBLEMS) {
      reported.push({ field: RECORD_FIELD, message: `and ${problems.length - MAX_REPORTED_PROBLEMS} more problems` });
    }
    return {
      valid: false,
      problems: reported.map((found) => (found.field === "" ? { ...found, field: RECORD_FIELD } : found)),
    };
  }
  let facility = value as Facility;
  let canonicalJson: string;
  if (!walk.ordered) {
    facility = canonicalize(value, STRUCT_OF_COLUMNS) as Facility;
    canonicalJson = JSON.stringify(facility);
  } else if (originalText !== undefined && !walk.exponentForm && originalText.length === walk.canonicalLength) {
    canonicalJson = originalText;
  } else {
    canonicalJson = JSON.stringify(value);
  }
  return { valid: true, facility, canonicalJson, unknownFields: walk.unknownFields ?? NO_FIELDS };
}

/** A copy of a valid value with only the schema's fields, in column order. */
function canonicalize(value: unknown, type: ColumnType): unknown {
  switch (type.kind) {
    case "string":
    case "int":
    case "boolean":
      return value;
    case "array":
      return (value as unknown[]).map((element) => canonicalize(element, type.element));
    case "struct": {
      const record = value as Record<string, unknown>;
      const copy: Record<string, unknown> = {};
      for (const field of type.fields) copy[field.name] = canonicalize(record[field.name], field.type);
      return copy;
    }
  }
}

function decimalLength(value: number): number {
  let length = value < 0 ? 2 : 1;
  for (let rest = Math.abs(value); rest >= 10; rest = Math.floor(rest / 10)) length++;
  return length;
}

/** A value quoted for a message, cut to a readable length. */
export function quoted(value: unknown): string {
  if (value === undefined) return "nothing";
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    // A value nested deeper than the stack allows: reject the record, not the whole file.
    json = Array.isArray(value)
      ? "[...] (an array nested too deep to show)"
      : "{...} (an object nested too deep to show)";
  }
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}
