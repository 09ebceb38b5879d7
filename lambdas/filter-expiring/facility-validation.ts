/**
 * Validation of one facility record against FACILITY_COLUMNS, the one schema definition, plus
 * the domain rules that a Glue type cannot express (REFINEMENTS below).
 *
 * The checker is compiled once from the column definitions, so a column added to the schema is
 * validated (with its type and its policy: optional, repairs) without touching this file. Every
 * problem is reported, each with the path of its field ("accreditations[1].valid_until"). A value
 * a field's repairs can normalize is repaired and recorded (field, value received, value kept); an
 * optional field that is null or missing is kept as null with a warning. Fields the schema does
 * not know are dropped from the canonical output and counted.
 */
import {
  DEFAULT_REPAIRS,
  FACILITY_COLUMNS,
  type ColumnType,
  type FieldDefinition,
  type Repair,
} from "../../core/facility-schema";
import { isCalendarDate } from "../../core/calendar-date";

/** A valid facility record, in column order. Mirrors FACILITY_COLUMNS (the validator is derived from it). */
export interface Facility {
  readonly facility_id: string;
  readonly facility_name: string;
  readonly location: {
    readonly address: string | null;
    readonly city: string;
    readonly state: string;
    readonly zip: string | null;
  };
  readonly employee_count: number | null;
  readonly services: readonly string[] | null;
  readonly labs: readonly { readonly lab_name: string; readonly certifications: readonly string[] }[] | null;
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

/** A value normalized instead of rejected: where, which repairs, what was received and what is kept. */
export interface AppliedRepair {
  readonly field: string;
  readonly repairs: readonly Repair[];
  readonly received: unknown;
  readonly kept: unknown;
}

/** An optional field that is null or missing: kept as null. */
export interface ValidationWarning {
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
      /** The repairs applied, in field order; usually empty. */
      readonly repairs: readonly AppliedRepair[];
      /** The optional fields that were null or missing; usually empty. */
      readonly warnings: readonly ValidationWarning[];
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
  /** A value was repaired in place or an optional field is null or missing: the text is no longer canonical. */
  modified = false;

  reset(): void {
    this.unknownFields = undefined;
    this.ordered = true;
    this.canonicalLength = 0;
    this.exponentForm = false;
    this.modified = false;
  }
}

/**
 * What a check found at one field: a problem (the record is rejected), a repair (the value was
 * replaced by `kept`) or a warning. `field` is relative to the value checked ("" for itself).
 */
type Finding =
  | { readonly kind: "problem"; field: string; readonly message: string }
  | {
      readonly kind: "repair";
      field: string;
      readonly repairs: readonly Repair[];
      readonly received: unknown;
      readonly kept: unknown;
    }
  | { readonly kind: "warning"; field: string; readonly message: string };

/**
 * Checks a value; returns undefined when it is valid and needs nothing, else its findings with
 * field paths relative to the value ("" for the value itself). Paths are built on the way back
 * up, only for the records that have findings, so the common case allocates nothing.
 */
type Checker = (value: unknown, walk: Walk) => Finding[] | undefined;

interface CompiledField {
  readonly name: string;
  readonly optional: boolean;
  readonly check: Checker;
}

const problem = (message: string): Finding[] => [{ kind: "problem", field: "", message }];

/**
 * Re-roots relative findings under a field name or an array index. A repair of the value itself
 * ("") is applied to its container first: `container[segment] = kept`.
 */
function under(
  segment: string | number,
  findings: Finding[],
  container: Record<string | number, unknown>,
  into: Finding[] | undefined,
): Finding[] {
  const result = into ?? [];
  const prefix = typeof segment === "number" ? `[${segment}]` : segment;
  for (const found of findings) {
    const rest = found.field;
    if (rest === "" && found.kind === "repair") container[segment] = found.kept;
    found.field = rest === "" ? prefix : rest.startsWith("[") ? `${prefix}${rest}` : `${prefix}.${rest}`;
    result.push(found);
  }
  return result;
}

/**
 * Each repair: the normalized value, or undefined when it does not apply (the value is already
 * right, or is not one this repair can read unambiguously).
 */
const REPAIR_FUNCTIONS: Readonly<Record<Repair, (value: unknown) => unknown>> = {
  trim: (value) => (typeof value === "string" && value.trim() !== value ? value.trim() : undefined),
  "integer-text": (value) => {
    if (typeof value !== "string" || !/^\s*[+-]?\d{1,10}\s*$/.test(value)) return undefined;
    const number = Number(value);
    return number >= INT_MIN && number <= INT_MAX ? number : undefined;
  },
  "state-code": (value) => {
    if (typeof value !== "string") return undefined;
    const code = value.replace(/\s+/g, "").toUpperCase();
    return code !== value && code.length === 2 ? code : undefined;
  },
  "zip-number": (value) =>
    typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 99_999
      ? String(value).padStart(5, "0")
      : undefined,
  "date-of-datetime": (value) => {
    if (typeof value !== "string") return undefined;
    const match = DATE_TIME.exec(value.trim());
    if (match === null) return undefined;
    const [, date, time, zone] = match;
    const utc = zone !== undefined && /^(?:Z|[+-]00:?00)$/i.test(zone);
    const midnight = /^00:00(?::00(?:\.0+)?)?$/.test(time);
    return isCalendarDate(date) && (utc || (zone === undefined && midnight)) ? date : undefined;
  },
};

/** A date-time: date, time and optional zone (Z or an offset). */
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?$/i;

/** Applies `repairs` in order; returns the repaired value, or undefined when none applied. */
function repaired(value: unknown, repairs: readonly Repair[]): { value: unknown; applied: Repair[] } | undefined {
  let current = value;
  let applied: Repair[] | undefined;
  for (const repair of repairs) {
    const next = REPAIR_FUNCTIONS[repair](current);
    if (next !== undefined) {
      current = next;
      (applied ??= []).push(repair);
    }
  }
  return applied === undefined ? undefined : { value: current, applied };
}

/**
 * A checker that first tries the field's repairs: when the value as received has a problem and
 * the repaired value has none, the repair is kept. When no repair applies, the problems of the
 * value as received are reported; when one applies but does not suffice, those of the repaired
 * value ("   " is reported as empty, not as whitespace).
 */
function withRepairs(check: Checker, repairs: readonly Repair[]): Checker {
  if (repairs.length === 0) return check;
  return (value, walk) => {
    const found = check(value, walk);
    if (found === undefined) return undefined;
    const repair = repaired(value, repairs);
    if (repair === undefined) return found;
    const remaining = check(repair.value, walk);
    if (remaining !== undefined) return remaining;
    walk.modified = true;
    return [{ kind: "repair", field: "", repairs: repair.applied, received: value, kept: repair.value }];
  };
}

function compile(type: ColumnType, pattern: string, used: Set<string>, definition?: FieldDefinition): Checker {
  const repairs = definition?.repairs ?? DEFAULT_REPAIRS[type.kind];
  return withRepairs(compileType(type, pattern, used, repairs.includes("trim")), repairs);
}

/** `trims`: the field's repairs include "trim", so surrounding whitespace is a problem (repaired). */
function compileType(type: ColumnType, pattern: string, used: Set<string>, trims: boolean): Checker {
  const refinement = REFINEMENTS[pattern];
  if (refinement !== undefined) used.add(pattern);
  const refine = refinement as ((value: unknown) => string | undefined) | undefined;
  switch (type.kind) {
    case "string":
      return (value, walk) => {
        if (typeof value !== "string") return problem(`expected a string, received ${quoted(value)}`);
        if (
          trims &&
          value.length > 0 &&
          (isSpace(value.charCodeAt(0)) || isSpace(value.charCodeAt(value.length - 1)))
        ) {
          if (value.trim() !== value) return problem(`has surrounding whitespace: ${quoted(value)}`);
        }
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
        let findings: Finding[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const found = element(value[i], walk);
          if (found !== undefined) findings = under(i, found, value as unknown as Record<number, unknown>, findings);
        }
        return findings;
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
    optional: definition.optional === true,
    check: compile(
      definition.type,
      pattern === "" ? definition.name : `${pattern}.${definition.name}`,
      used,
      definition,
    ),
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
    let findings: Finding[] | undefined;
    for (let i = 0; i < count; i++) {
      const field = fields[i];
      const fieldValue = record[field.name];
      // JSON has no undefined, and no schema name is an Object.prototype property.
      let found: Finding[] | undefined;
      if (fieldValue === undefined || (fieldValue === null && field.optional)) {
        if (field.optional) {
          walk.modified = true;
          found = [{ kind: "warning", field: "", message: fieldValue === null ? "is null" : "is missing" }];
        } else {
          found = problem("is required");
        }
      } else {
        found = field.check(fieldValue, walk);
      }
      if (found !== undefined) findings = under(field.name, found, record, findings);
    }
    return findings;
  };
}

/** Whitespace that String.prototype.trim removes can only start with one of these code units. */
function isSpace(code: number): boolean {
  return code <= 0x20 || code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x3000) || code === 0xfeff;
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
const NO_REPAIRS: readonly AppliedRepair[] = [];
const NO_WARNINGS: readonly ValidationWarning[] = [];
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

  const generate = (type: ColumnType, value: string, pattern: string, definition?: FieldDefinition): string => {
    const refinement = REFINEMENTS[pattern];
    const refine = refinement === undefined ? "" : `if (${constant(refinement)}(${value}) !== undefined) return -1;`;
    switch (type.kind) {
      case "string": {
        const base = `if (typeof ${value} !== "string") return -1; length += ${value}.length + 2; ${refine}`;
        if (!(definition?.repairs ?? DEFAULT_REPAIRS.string).includes("trim")) return base;
        // Inline: most code units are ASCII letters, so the call to isSpace is rarely made.
        const first = variable("c");
        const last = variable("c");
        return (
          `${base} if (${value}.length > 0) { const ${first} = ${value}.charCodeAt(0), ${last} = ${value}.charCodeAt(${value}.length - 1);` +
          `if (${first} <= 32 || ${last} <= 32 || (${first} >= 160 && ${constant(isSpace)}(${first})) || (${last} >= 160 && ${constant(isSpace)}(${last}))) return -1; }`
        );
      }
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
          code += `const ${fieldValue} = ${value}[${JSON.stringify(field.name)}]; ${generate(field.type, fieldValue, fieldPattern, field)}`;
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

/**
 * Validates a parsed record; a valid one may have been repaired in place (`value` is the
 * caller's, freshly parsed).
 */
export function validateFacility(value: unknown, originalText?: string): FacilityValidation {
  const fastLength = fastPath === undefined ? -1 : fastPath(value);
  if (fastLength >= 0) {
    const canonicalJson = originalText?.length === fastLength ? originalText : JSON.stringify(value);
    return {
      valid: true,
      facility: value as Facility,
      canonicalJson,
      unknownFields: NO_FIELDS,
      repairs: NO_REPAIRS,
      warnings: NO_WARNINGS,
    };
  }
  walk.reset();
  const findings = checkFacility(value, walk) ?? [];
  const problems: ValidationProblem[] = [];
  const repairs: AppliedRepair[] = [];
  const warnings: ValidationWarning[] = [];
  for (const found of findings) {
    const field = found.field === "" ? RECORD_FIELD : found.field;
    if (found.kind === "problem") problems.push({ field, message: found.message });
    else if (found.kind === "repair")
      repairs.push({ field, repairs: found.repairs, received: found.received, kept: found.kept });
    else warnings.push({ field, message: found.message });
  }
  if (problems.length > 0) {
    const reported = problems.slice(0, MAX_REPORTED_PROBLEMS);
    if (problems.length > MAX_REPORTED_PROBLEMS) {
      reported.push({ field: RECORD_FIELD, message: `and ${problems.length - MAX_REPORTED_PROBLEMS} more problems` });
    }
    return { valid: false, problems: reported };
  }
  const found = {
    repairs: repairs.length > 0 ? repairs : NO_REPAIRS,
    warnings: warnings.length > 0 ? warnings : NO_WARNINGS,
  };
  let facility = value as Facility;
  let canonicalJson: string;
  if (!walk.ordered || walk.modified) {
    facility = canonicalize(value, STRUCT_OF_COLUMNS) as Facility;
    canonicalJson = JSON.stringify(facility);
  } else if (originalText !== undefined && !walk.exponentForm && originalText.length === walk.canonicalLength) {
    canonicalJson = originalText;
  } else {
    canonicalJson = JSON.stringify(value);
  }
  return { valid: true, facility, canonicalJson, unknownFields: walk.unknownFields ?? NO_FIELDS, ...found };
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
      for (const field of type.fields) {
        const fieldValue = record[field.name];
        // A missing optional field is written as null: every staged line has every column.
        copy[field.name] =
          fieldValue === undefined || fieldValue === null ? null : canonicalize(fieldValue, field.type);
      }
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
