/**
 * The state machines in state-machines/: loading, placeholder rendering and validation.
 *
 * Pure (node:fs and asl-validator only, no cdktf), so the orchestration module, the local runner,
 * the tests and the pre-commit lint all render and check a definition the same way.
 *
 * Placeholders are strings of the form `${Name}` where Name is PascalCase (`/^[A-Z][A-Za-z0-9]*$/`).
 * Terraform and cdktf references (`${aws_lambda_function.x.arn}`, `${TfToken[TOKEN.1]}`) do not
 * match, so they may appear in rendered values and are never taken for placeholders.
 * Substitution happens on the parsed JSON, never on the file's text, so a value may contain quotes,
 * backslashes and newlines (SQL does) without breaking the document:
 * - a string that is exactly one placeholder is replaced by the value, whatever it contains;
 * - a placeholder inside a longer string is replaced in place (single pass: values are not scanned
 *   again). In a `.$` field (a path or intrinsic function such as `States.Format('...')`) such a
 *   value must be plain text or a single Terraform reference, since quotes or braces would change
 *   the expression.
 * Object keys are never substituted.
 */
import { readFileSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import aslValidator from "asl-validator";
import { LOCAL_DATABASE } from "./data-layout";
import { queryCode, queryParameters } from "./sql";
import { PACKAGE_ROOT } from "./package-root";
import { DIGEST_LOOKBACK_DAYS, EXPIRY_WINDOW_MONTHS } from "./settings";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };
/** A parsed Amazon States Language document (JSONPath query language). */
export type StateMachineDefinition = JsonObject;

export const STATE_MACHINES_DIR = join(PACKAGE_ROOT, "state-machines");
export const STATE_MACHINE_SUFFIX = ".asl.json";

/**
 * The workflow of DESIGN.md (ingest, analyze in parallel, notify on failure): the name of its file
 * in state-machines/ and the end of its state machine's name, in AWS and locally.
 */
export const FACILITY_PIPELINE = "facility-pipeline";
/** The scheduled workflow: the compliance digest over the current state, then table upkeep. */
export const EXPIRY_DIGEST = "expiry-digest";

/** The placeholders of state-machines/facility-pipeline.asl.json. */
export const FACILITY_PIPELINE_PLACEHOLDERS = [
  "AccreditedFacilitiesByStateQuery",
  "AthenaWorkgroup",
  "AwsRegion",
  "DataBucket",
  "ExpiryWindowMonths",
  "FacilitySummaryQuery",
  "MergeCurrentStateQuery",
  "FailureTopicArn",
  "FilterExpiringFunctionArn",
  "GlueDatabase",
  "RelocateResultsFunctionArn",
] as const;

/** The placeholders of state-machines/expiry-digest.asl.json. */
export const EXPIRY_DIGEST_PLACEHOLDERS = [
  "AthenaWorkgroup",
  "AwsRegion",
  "ComplianceTopicArn",
  "DataBucket",
  "DigestLookbackDays",
  "DigestSendAllClear",
  "ExpiryDigestQuery",
  "ExpiryWindowMonths",
  "FacilityPipelineStateMachineArn",
  "FailureTopicArn",
  "GlueDatabase",
  "OptimizeCurrentStateQuery",
  "RelocateResultsFunctionArn",
  "VacuumCurrentStateQuery",
] as const;

/** Every placeholder the state machines of this project may use. */
export const PLACEHOLDER_NAMES = [...new Set([...FACILITY_PIPELINE_PLACEHOLDERS, ...EXPIRY_DIGEST_PLACEHOLDERS])] as (
  (typeof FACILITY_PIPELINE_PLACEHOLDERS)[number] | (typeof EXPIRY_DIGEST_PLACEHOLDERS)[number]
)[];
export type PlaceholderName = (typeof PLACEHOLDER_NAMES)[number];
/** One value per placeholder: what the orchestration module passes to renderAndValidate. */
export type PlaceholderValues = Readonly<Record<PlaceholderName, string>>;

/** The placeholders that hold SQL, and the file in sql/ (without `.sql`) each one comes from. */
export const QUERY_PLACEHOLDERS = {
  AccreditedFacilitiesByStateQuery: "accredited_facilities_by_state",
  FacilitySummaryQuery: "facility_summary",
  MergeCurrentStateQuery: "merge_current_state",
  ExpiryDigestQuery: "expiry_digest",
  OptimizeCurrentStateQuery: "optimize_current_state",
  VacuumCurrentStateQuery: "vacuum_current_state",
} as const satisfies Partial<Record<PlaceholderName, string>>;
export type QueryPlaceholderName = keyof typeof QUERY_PLACEHOLDERS;

/**
 * Where the state machine finds the value of each query parameter (`-- @parameter NAME` in sql/),
 * as a JSONPath into the state input: what the ingest Lambda returned, already checked by it (a
 * YYYY-MM-DD date; an S3 URI of [A-Za-z0-9._/%:=-] characters), so the value can be inlined into the
 * SQL text without quoting problems.
 */
export const QUERY_PARAMETER_PATHS: Readonly<Record<string, string>> = {
  as_of: "$.results.ingest.asOf",
  staged_object: "$.results.ingest.stagedObject",
};

/**
 * The same for the expiry-digest machine: its DigestDate state's values (a YYYY-MM-DD date and two
 * numbers from the input's settings or the configured defaults; a malformed one fails the query).
 */
export const DIGEST_QUERY_PARAMETER_PATHS: Readonly<Record<string, string>> = {
  as_of: "$.digest.asOf",
  window_months: "$.digest.windowMonths",
  lookback_days: "$.digest.lookbackDays",
};

/** Where each query placeholder's state machine finds its parameters. */
const PARAMETER_PATHS_OF: Readonly<Record<QueryPlaceholderName, Readonly<Record<string, string>>>> = {
  AccreditedFacilitiesByStateQuery: QUERY_PARAMETER_PATHS,
  FacilitySummaryQuery: QUERY_PARAMETER_PATHS,
  MergeCurrentStateQuery: QUERY_PARAMETER_PATHS,
  ExpiryDigestQuery: DIGEST_QUERY_PARAMETER_PATHS,
  OptimizeCurrentStateQuery: DIGEST_QUERY_PARAMETER_PATHS,
  VacuumCurrentStateQuery: DIGEST_QUERY_PARAMETER_PATHS,
};

/**
 * A query of sql/ as the `QueryString.$` of an Athena task: `States.Format('<sql>', <paths>)`,
 * each `?` an inlined string literal (`'{}'`), because Athena's ExecutionParameters are only for
 * SELECT, INSERT INTO, CTAS and UNLOAD (not MERGE), and only in a WHERE clause. The SQL is put on
 * one line without comments and escaped for the intrinsic function (`\\`, `\'`, `\{`, `\}`).
 * A parameter without a path in `parameterPaths` is an error.
 */
export function queryStringExpression(
  name: string,
  parameterPaths: Readonly<Record<string, string>> = QUERY_PARAMETER_PATHS,
): string {
  const paths = queryParameters(name).map((parameter) => {
    const path = parameterPaths[parameter.name];
    if (path === undefined) {
      throw new PlaceholderError([
        `sql/${name}.sql takes a parameter "${parameter.name}" that the state machine cannot supply ` +
          `(its parameter paths in core/asl.ts have ${Object.keys(parameterPaths).join(", ")})`,
      ]);
    }
    return path;
  });
  // Each `?` outside a string literal is a slot; everything is escaped for the intrinsic function.
  const template = queryCode(name)
    .split(/('(?:[^']|'')*')/)
    .map((part, i) => {
      const escaped = part.replace(/[\\'{}]/g, (character) => `\\${character}`);
      return i % 2 === 1 ? escaped : escaped.replaceAll("?", "\\'{}\\'");
    })
    .join("");
  return `States.Format('${template}'${paths.map((path) => `, ${path}`).join("")})`;
}

/** The `QueryString.$` expression of each query placeholder, from sql/. */
export function queryPlaceholderValues(): Record<QueryPlaceholderName, string> {
  const entries = Object.keys(QUERY_PLACEHOLDERS).map((name) => [
    name,
    queryStringExpression(
      QUERY_PLACEHOLDERS[name as QueryPlaceholderName],
      PARAMETER_PATHS_OF[name as QueryPlaceholderName],
    ),
  ]);
  return Object.fromEntries(entries) as Record<QueryPlaceholderName, string>;
}

/**
 * A realistic value for each placeholder, used to validate a definition whose real values are not
 * known yet: at synth they are Terraform references, which are not ARNs, and asl-validator runs
 * with its ARN checks on. The queries are the real ones.
 */
export const PLACEHOLDER_EXAMPLES: PlaceholderValues = {
  AthenaWorkgroup: "example-facility-pipeline",
  AwsRegion: "us-east-1",
  DataBucket: "example-facility-data",
  ExpiryWindowMonths: String(EXPIRY_WINDOW_MONTHS.default),
  FailureTopicArn: "arn:aws:sns:us-east-1:123456789012:facility-pipeline-failures",
  FilterExpiringFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:example-filter-expiring",
  GlueDatabase: LOCAL_DATABASE,
  RelocateResultsFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:example-relocate-results",
  ComplianceTopicArn: "arn:aws:sns:us-east-1:123456789012:facility-pipeline-compliance",
  DigestLookbackDays: String(DIGEST_LOOKBACK_DAYS.default),
  DigestSendAllClear: "false",
  FacilityPipelineStateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:example-facility-pipeline",
  ...queryPlaceholderValues(),
};

/** What the facility-pipeline state machine calls and reads, in AWS (Terraform references) or locally. */
export interface FacilityPipelineWiring {
  readonly filterExpiringFunctionArn: string;
  readonly relocateResultsFunctionArn: string;
  readonly athenaWorkgroup: string;
  readonly glueDatabase: string;
  readonly failureTopicArn: string;
  readonly dataBucket: string;
  readonly awsRegion: string;
  /** The window used when an execution's input gives none: a number, or a Terraform reference to one. */
  readonly expiryWindowMonths: number | string;
}

/**
 * The one placeholder map of state-machines/facility-pipeline.asl.json, for the orchestration module
 * and the local runner alike: each resource it is wired to, and the SQL text of its queries.
 */
export function facilityPipelinePlaceholders(
  wiring: FacilityPipelineWiring,
): Record<(typeof FACILITY_PIPELINE_PLACEHOLDERS)[number], string> {
  const queries = queryPlaceholderValues();
  return {
    FilterExpiringFunctionArn: wiring.filterExpiringFunctionArn,
    RelocateResultsFunctionArn: wiring.relocateResultsFunctionArn,
    AthenaWorkgroup: wiring.athenaWorkgroup,
    GlueDatabase: wiring.glueDatabase,
    FailureTopicArn: wiring.failureTopicArn,
    DataBucket: wiring.dataBucket,
    AwsRegion: wiring.awsRegion,
    ExpiryWindowMonths: String(wiring.expiryWindowMonths),
    AccreditedFacilitiesByStateQuery: queries.AccreditedFacilitiesByStateQuery,
    FacilitySummaryQuery: queries.FacilitySummaryQuery,
    MergeCurrentStateQuery: queries.MergeCurrentStateQuery,
  };
}

/** What the expiry-digest state machine calls and reads, in AWS (Terraform references) or locally. */
export interface ExpiryDigestWiring {
  readonly relocateResultsFunctionArn: string;
  readonly athenaWorkgroup: string;
  readonly glueDatabase: string;
  readonly failureTopicArn: string;
  readonly complianceTopicArn: string;
  readonly facilityPipelineStateMachineArn: string;
  readonly dataBucket: string;
  readonly awsRegion: string;
  /** Defaults of an execution whose input gives none: numbers (or Terraform references) and a boolean. */
  readonly expiryWindowMonths: number | string;
  readonly lookbackDays: number | string;
  readonly sendAllClear: boolean | string;
}

/** The one placeholder map of state-machines/expiry-digest.asl.json (see facilityPipelinePlaceholders). */
export function expiryDigestPlaceholders(
  wiring: ExpiryDigestWiring,
): Record<(typeof EXPIRY_DIGEST_PLACEHOLDERS)[number], string> {
  const queries = queryPlaceholderValues();
  return {
    RelocateResultsFunctionArn: wiring.relocateResultsFunctionArn,
    AthenaWorkgroup: wiring.athenaWorkgroup,
    GlueDatabase: wiring.glueDatabase,
    FailureTopicArn: wiring.failureTopicArn,
    ComplianceTopicArn: wiring.complianceTopicArn,
    FacilityPipelineStateMachineArn: wiring.facilityPipelineStateMachineArn,
    DataBucket: wiring.dataBucket,
    AwsRegion: wiring.awsRegion,
    ExpiryWindowMonths: String(wiring.expiryWindowMonths),
    DigestLookbackDays: String(wiring.lookbackDays),
    DigestSendAllClear: String(wiring.sendAllClear),
    ExpiryDigestQuery: queries.ExpiryDigestQuery,
    OptimizeCurrentStateQuery: queries.OptimizeCurrentStateQuery,
    VacuumCurrentStateQuery: queries.VacuumCurrentStateQuery,
  };
}

const PLACEHOLDER = /\$\{([A-Z][A-Za-z0-9]*)\}/g;
const WHOLE_PLACEHOLDER = /^\$\{([A-Z][A-Za-z0-9]*)\}$/;
/** What may be inserted into a path or intrinsic function without changing its meaning. */
const PLAIN_TEXT = /^[A-Za-z0-9._:/-]*$/;
/** One Terraform (or cdktf token) reference; Terraform replaces it before AWS sees the text. */
const SINGLE_REFERENCE = /^\$\{[^{}]+\}$/;

export class StateMachineFileError extends Error {
  override readonly name = "StateMachineFileError";
}

/** A placeholder problem: every one found is listed in `problems` and in the message. */
export class PlaceholderError extends Error {
  override readonly name = "PlaceholderError";
  constructor(readonly problems: readonly string[]) {
    super(`Cannot render the state machine definition:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** An invalid definition: every message from asl-validator and the project conventions. */
export class AslValidationError extends Error {
  override readonly name = "AslValidationError";
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid state machine definition (fix the ASL in state-machines/, then run npm run lint:asl):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
  }
}

/** The names of the files in state-machines/ (without `.asl.json`), sorted. */
export function listStateMachines(): string[] {
  return readdirSync(STATE_MACHINES_DIR)
    .filter((file) => file.endsWith(STATE_MACHINE_SUFFIX))
    .map((file) => file.slice(0, -STATE_MACHINE_SUFFIX.length))
    .sort();
}

/** Reads `state-machines/<name>.asl.json` and returns the parsed definition, placeholders unrendered. */
export function loadStateMachine(name: string): StateMachineDefinition {
  const available = listStateMachines();
  if (!available.includes(name)) {
    throw new StateMachineFileError(
      `Unknown state machine "${name}": expected one of ${available.join(", ")} (files in ${STATE_MACHINES_DIR})`,
    );
  }
  return readStateMachineFile(join(STATE_MACHINES_DIR, `${name}${STATE_MACHINE_SUFFIX}`));
}

/** Reads and parses any ASL JSON file (the lint's entry point for staged files). */
export function readStateMachineFile(path: string): StateMachineDefinition {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new StateMachineFileError(`Cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new StateMachineFileError(`${basename(path)} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(parsed)) {
    throw new StateMachineFileError(`${basename(path)} must contain a JSON object with StartAt and States`);
  }
  return parsed;
}

/** Every placeholder name used in the definition's string values, sorted and unique. */
export function placeholdersOf(definition: JsonValue): string[] {
  const names = new Set<string>();
  for (const { text } of stringValues(definition)) {
    for (const match of text.matchAll(PLACEHOLDER)) names.add(match[1]);
  }
  return [...names].sort();
}

/**
 * Returns a copy of the definition with every placeholder replaced by its value (the input is not
 * modified). Throws one PlaceholderError listing every placeholder without a value, every value
 * the definition does not use, and every value that cannot go where its placeholder stands.
 */
export function renderStateMachine<T extends JsonValue>(definition: T, values: Readonly<Record<string, string>>): T {
  const problems: string[] = [];
  const used = placeholdersOf(definition);
  const usedAt = firstUseOfEachPlaceholder(definition);

  for (const name of used) {
    if (!Object.hasOwn(values, name)) {
      problems.push(`no value for \${${name}} (used at ${usedAt.get(name)}): add "${name}" to the values`);
    }
  }
  for (const [name, value] of Object.entries(values)) {
    if (!used.includes(name)) {
      problems.push(`a value is supplied for "${name}" but the definition does not use \${${name}}: remove it`);
    }
    if (typeof value !== "string") {
      problems.push(`the value for "${name}" must be a string (received ${JSON.stringify(value)})`);
    } else if (value.match(PLACEHOLDER)) {
      problems.push(
        `the value for "${name}" contains ${value.match(PLACEHOLDER)?.[0]}, which would read as a placeholder ` +
          `(received ${JSON.stringify(value)}): placeholders are substituted once, pass the final value`,
      );
    }
  }
  for (const { text, path, isExpression } of stringValues(definition)) {
    if (!isExpression || WHOLE_PLACEHOLDER.test(text)) continue;
    for (const match of text.matchAll(PLACEHOLDER)) {
      const value = values[match[1]];
      if (typeof value === "string" && !PLAIN_TEXT.test(value) && !SINGLE_REFERENCE.test(value)) {
        problems.push(
          `\${${match[1]}} is inside the expression at ${path}, so its value must be plain text ` +
            `(letters, digits, . _ : / -) or a single Terraform reference (received ${JSON.stringify(value)}): ` +
            `move it to a field of its own`,
        );
      }
    }
  }
  for (const path of keysWithPlaceholders(definition)) {
    problems.push(`the key at ${path} contains a placeholder: placeholders are substituted in string values only`);
  }
  if (problems.length > 0) throw new PlaceholderError(problems);

  return mapStrings(definition, (text) => {
    const whole = WHOLE_PLACEHOLDER.exec(text);
    if (whole) return values[whole[1]];
    return text.replace(PLACEHOLDER, (_, name: string) => values[name]);
  }) as T;
}

export interface AslValidationOptions {
  /** Check JSONPath and intrinsic-function syntax. @default true */
  readonly checkPaths?: boolean;
  /**
   * Check the project conventions as well (JSONPath only, machine and Task timeouts, Retry of named
   * transient errors with jitter, Catch of States.ALL on every Task, Parallel and Map). @default true
   */
  readonly conventions?: boolean;
}

/**
 * Every problem asl-validator (ARN checks on) and the project conventions find, as readable lines;
 * empty when the definition is valid. Validates a copy: asl-validator modifies its input.
 */
export function aslProblems(definition: StateMachineDefinition, options: AslValidationOptions = {}): string[] {
  const result = aslValidator(structuredClone(definition), { checkPaths: options.checkPaths ?? true, checkArn: true });
  const problems = result.errors.map((error) => `${error["Error code"]}: ${error.Message}`);
  if (options.conventions ?? true) problems.push(...conventionProblems(definition));
  return problems;
}

/** Throws an AslValidationError listing every problem of aslProblems(); the input is not modified. */
export function validateStateMachine(definition: StateMachineDefinition, options: AslValidationOptions = {}): void {
  const problems = aslProblems(definition, options);
  if (problems.length > 0) throw new AslValidationError(problems);
}

/**
 * What the orchestration module calls at synth: renders the definition with the real values (often
 * Terraform references, which asl-validator would reject as ARNs), validates a copy rendered with
 * example values instead, and returns the definition rendered with the real values.
 */
export function renderAndValidate(
  definition: StateMachineDefinition,
  values: Readonly<Record<string, string>>,
  exampleValues: Readonly<Record<string, string>> = PLACEHOLDER_EXAMPLES,
  options: AslValidationOptions = {},
): StateMachineDefinition {
  const rendered = renderStateMachine(definition, values);
  validateStateMachine(renderStateMachine(definition, examplesFor(definition, exampleValues)), options);
  return rendered;
}

/** The example value of each placeholder the definition uses; throws for a placeholder without one. */
export function examplesFor(
  definition: StateMachineDefinition,
  exampleValues: Readonly<Record<string, string>> = PLACEHOLDER_EXAMPLES,
): Record<string, string> {
  const { values, unknown } = exampleValuesOf(definition, exampleValues);
  if (unknown.length > 0)
    throw new PlaceholderError(unknown.map((name) => unknownPlaceholderProblem(name, exampleValues)));
  return values;
}

/**
 * Every problem of a definition file as written (placeholders unrendered): unknown placeholders,
 * then what asl-validator and the conventions find once it is rendered with example values. What
 * `npm run lint:asl` and the pre-commit hook report; empty when the file is valid.
 */
export function lintStateMachine(definition: StateMachineDefinition): string[] {
  const { values, unknown } = exampleValuesOf(definition, PLACEHOLDER_EXAMPLES);
  // An unknown placeholder gets a stand-in value, so the rest of the file is still checked.
  for (const name of unknown) values[name] = "unknown-placeholder";
  return [
    ...unknown.map((name) => `UNKNOWN_PLACEHOLDER: ${unknownPlaceholderProblem(name, PLACEHOLDER_EXAMPLES)}`),
    ...aslProblems(renderStateMachine(definition, values)),
  ];
}

function exampleValuesOf(
  definition: StateMachineDefinition,
  exampleValues: Readonly<Record<string, string>>,
): { values: Record<string, string>; unknown: string[] } {
  const used = placeholdersOf(definition);
  const unknown = used.filter((name) => !Object.hasOwn(exampleValues, name));
  const known = used.filter((name) => Object.hasOwn(exampleValues, name));
  return { values: Object.fromEntries(known.map((name) => [name, exampleValues[name]])), unknown };
}

function unknownPlaceholderProblem(name: string, exampleValues: Readonly<Record<string, string>>): string {
  return (
    `\${${name}} is not a known placeholder: use one of ${Object.keys(exampleValues).join(", ")}, ` +
    `or add "${name}" to PLACEHOLDER_NAMES and PLACEHOLDER_EXAMPLES in core/asl.ts (and to facilityPipelinePlaceholders)`
  );
}

/** A state found anywhere in a definition, including inside Parallel branches and Map processors. */
export interface StateEntry {
  readonly name: string;
  readonly state: JsonObject;
  /** Where the state is, e.g. `$.States.Analyze.Branches[0].States.PublishStateCounts`. */
  readonly path: string;
}

/** Every state of the definition, depth first, in document order. */
export function statesOf(definition: JsonValue): StateEntry[] {
  const found: StateEntry[] = [];
  const visit = (machine: JsonValue, path: string): void => {
    if (!isObject(machine) || !isObject(machine.States)) return;
    for (const [name, state] of Object.entries(machine.States)) {
      if (!isObject(state)) continue;
      const statePath = `${path}.States${pathSegment(name)}`;
      found.push({ name, state, path: statePath });
      if (Array.isArray(state.Branches)) {
        state.Branches.forEach((branch, index) => visit(branch, `${statePath}.Branches[${index}]`));
      }
      for (const key of ["ItemProcessor", "Iterator"]) {
        if (isObject(state[key])) visit(state[key], `${statePath}.${key}`);
      }
    }
  };
  visit(definition, "$");
  return found;
}

/** The Task states of the definition with their Resource: what a local runner has to provide. */
export function taskStatesOf(definition: JsonValue): Array<StateEntry & { readonly resource: string }> {
  return statesOf(definition)
    .filter(({ state }) => state.Type === "Task")
    .map((entry) => ({ ...entry, resource: String(entry.state.Resource) }));
}

/** The context object fields the definition reads (`$$.Execution...`), for running it locally. */
export interface ExecutionContext {
  Execution: { Id: string; Name: string; StartTime: string; RedriveCount: number; Input?: JsonValue };
  StateMachine: { Id: string; Name: string };
  [other: string]: unknown;
}

/**
 * The `$$` context of one execution of the state machine `stateMachineArn`, as Step Functions builds
 * it, for aws-local-stepfunctions' `run(input, { context })`. The definition reads
 * `$$.Execution.Id`, `Name`, `StartTime` and `RedriveCount`; a path that resolves to nothing fails
 * the local execution, so pass this rather than a partial object.
 */
export function executionContext(
  stateMachineArn: string,
  executionName: string,
  startTime: Date = new Date(),
): ExecutionContext {
  const match = /^(arn:[^:]+:states:[^:]*:\d*):stateMachine:([^:]+)$/.exec(stateMachineArn);
  if (!match) {
    throw new StateMachineFileError(
      `"${stateMachineArn}" is not a state machine ARN: expected arn:aws:states:<region>:<account>:stateMachine:<name>`,
    );
  }
  return {
    Execution: {
      Id: `${match[1]}:execution:${match[2]}:${executionName}`,
      Name: executionName,
      StartTime: startTime.toISOString(),
      RedriveCount: 0,
    },
    StateMachine: { Id: stateMachineArn, Name: match[2] },
  };
}

/** Errors that a Retry must never match: they would retry handler validation errors and failed queries. */
const CATCH_ALL_ERRORS = new Set(["States.ALL", "States.TaskFailed"]);

function conventionProblems(definition: StateMachineDefinition): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(definition.TimeoutSeconds)) {
    problems.push(
      "CONVENTION: the state machine has no TimeoutSeconds: set one so a stuck execution ends (and alarms) " +
        "instead of running for up to a year",
    );
  }
  if (definition.QueryLanguage === "JSONata") {
    problems.push(
      'CONVENTION: QueryLanguage "JSONata" at the top level: write the definition in JSONPath ' +
        "(the local interpreter, aws-local-stepfunctions, ignores JSONata)",
    );
  }
  for (const { name, state, path } of statesOf(definition)) {
    if (state.QueryLanguage === "JSONata") {
      problems.push(
        `CONVENTION: state ${name} (${path}) uses JSONata: write it in JSONPath ` +
          "(the local interpreter, aws-local-stepfunctions, ignores JSONata)",
      );
    }
    if (state.Type === "Task") {
      if (!Number.isInteger(state.TimeoutSeconds) && typeof state.TimeoutSecondsPath !== "string") {
        problems.push(
          `CONVENTION: Task ${name} has no TimeoutSeconds: set one a little above the integrated service's own limit`,
        );
      }
      problems.push(...retryProblems(name, state.Retry));
    }
    if (["Task", "Parallel", "Map"].includes(String(state.Type)) && !catchesAll(state.Catch)) {
      problems.push(
        `CONVENTION: ${state.Type} ${name} has no Catch for States.ALL: add one (with a ResultPath, so the input ` +
          "is kept) that leads to the failure notification, or inside a branch to a state that fails the branch",
      );
    }
  }
  return problems;
}

function retryProblems(stateName: string, retry: JsonValue | undefined): string[] {
  if (!Array.isArray(retry) || retry.length === 0) {
    return [
      `CONVENTION: Task ${stateName} has no Retry: retry the integrated service's transient errors ` +
        "(e.g. Lambda.ServiceException, Lambda.TooManyRequestsException, Athena.TooManyRequestsException)",
    ];
  }
  const problems: string[] = [];
  retry.forEach((retrier, index) => {
    if (!isObject(retrier)) return;
    const errors = Array.isArray(retrier.ErrorEquals) ? retrier.ErrorEquals : [];
    const catchAll = errors.filter((error) => CATCH_ALL_ERRORS.has(String(error)));
    if (catchAll.length > 0) {
      problems.push(
        `CONVENTION: Task ${stateName} Retry[${index}] matches ${catchAll.join(", ")}: retry named transient ` +
          "errors only, so handler validation errors and failed queries fail at once",
      );
    }
    if (retrier.JitterStrategy !== "FULL") {
      problems.push(
        `CONVENTION: Task ${stateName} Retry[${index}] has no "JitterStrategy": "FULL": add it so that ` +
          "executions throttled together do not retry together",
      );
    }
  });
  return problems;
}

function catchesAll(catchers: JsonValue | undefined): boolean {
  return (
    Array.isArray(catchers) &&
    catchers.some(
      (catcher) =>
        isObject(catcher) && Array.isArray(catcher.ErrorEquals) && catcher.ErrorEquals.includes("States.ALL"),
    )
  );
}

interface StringValue {
  readonly text: string;
  readonly path: string;
  /** The value of a `.$` field: a path or an intrinsic function. */
  readonly isExpression: boolean;
}

function* stringValues(value: JsonValue, path = "$", isExpression = false): Generator<StringValue> {
  if (typeof value === "string") {
    yield { text: value, path, isExpression };
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) yield* stringValues(item, `${path}[${index}]`);
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      yield* stringValues(item, `${path}${pathSegment(key)}`, key.endsWith(".$"));
    }
  }
}

function keysWithPlaceholders(value: JsonValue, path = "$"): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => keysWithPlaceholders(item, `${path}[${index}]`));
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([key, item]) => {
    const keyPath = `${path}${pathSegment(key)}`;
    return [...(key.match(PLACEHOLDER) ? [keyPath] : []), ...keysWithPlaceholders(item, keyPath)];
  });
}

function firstUseOfEachPlaceholder(definition: JsonValue): Map<string, string> {
  const usedAt = new Map<string, string>();
  for (const { text, path } of stringValues(definition)) {
    for (const match of text.matchAll(PLACEHOLDER)) {
      if (!usedAt.has(match[1])) usedAt.set(match[1], path);
    }
  }
  return usedAt;
}

function mapStrings(value: JsonValue, map: (text: string) => string): JsonValue {
  if (typeof value === "string") return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, map)]));
  }
  return value;
}

function pathSegment(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
