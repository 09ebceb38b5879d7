/**
 * Where the deployed pipeline is: the Terraform outputs of the FacilityPipeline construct
 * (modules/pipeline.ts), read from the file `cdktf output --outputs-file` writes, or given as flags.
 *
 * cdktf prefixes output keys with the construct path and a hash (`pipeline_bucket_name_8AA69213`),
 * and `cdktf deploy --outputs-file` nests them by construct id instead
 * (`{ "<stack>": { "pipeline": { "bucket_name": ... } } }`); `terraform output -json` has no stack
 * level and wraps each value in `{ "value": ... }`. All of them are read, matching outputs by suffix.
 */
import { existsSync, readFileSync } from "node:fs";
import { OutputsFileError } from "./errors";

/** The outputs the CLI uses, by the output id modules/pipeline.ts gives them. */
export const OUTPUT_IDS = {
  bucket: "bucket_name",
  stateMachineArn: "state_machine_arn",
  topicArn: "failure_topic_arn",
  workgroup: "athena_workgroup",
  database: "glue_database",
  digestStateMachineArn: "expiry_digest_arn",
} as const;

export type DeploymentSetting = keyof typeof OUTPUT_IDS;
export type Deployment = { readonly [S in DeploymentSetting]?: string };

/** The flag that gives each setting instead of the outputs file. */
export const SETTING_FLAGS: Readonly<Record<DeploymentSetting, string>> = {
  bucket: "--bucket",
  stateMachineArn: "--state-machine-arn",
  topicArn: "--topic-arn",
  workgroup: "--workgroup",
  database: "--database",
  digestStateMachineArn: "--digest-state-machine-arn",
};

export const DEFAULT_OUTPUTS_FILE = "cdktf-outputs.json";

export interface ResolveDeploymentOptions {
  /** The settings the subcommand needs. */
  readonly needed: readonly DeploymentSetting[];
  /** Values given as flags; they win over the file. */
  readonly flags: Deployment;
  /** @default "cdktf-outputs.json" */
  readonly outputsFile?: string;
  /** The stack to read when the file holds several. */
  readonly stack?: string;
}

/**
 * The needed settings, from the flags and then the outputs file (read only when a flag is
 * missing). Throws OutputsFileError saying how to create the file or which flag to pass.
 */
export function resolveDeployment(options: ResolveDeploymentOptions): Deployment {
  const resolved: Record<string, string> = {};
  for (const [setting, value] of Object.entries(options.flags)) if (value) resolved[setting] = value;
  const missing = options.needed.filter((setting) => !resolved[setting]);
  if (missing.length === 0) return resolved;

  const file = options.outputsFile ?? DEFAULT_OUTPUTS_FILE;
  const flagHint = missing.map((setting) => `${SETTING_FLAGS[setting]} VALUE`).join(" ");
  if (!existsSync(file)) {
    throw new OutputsFileError(
      `No outputs file ${file}: it tells the CLI where the deployed pipeline is ` +
        `(${missing.map((setting) => OUTPUT_IDS[setting]).join(", ")}).\n` +
        `Create it after deploying, in the project directory:\n` +
        `  npx cdktf output --outputs-file ${file}${options.stack ? ` ${options.stack}` : ""}\n` +
        `or pass --outputs FILE, or the values themselves: ${flagHint}`,
    );
  }
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new OutputsFileError(
      `${file} is not JSON (${(error as Error).message}). Recreate it: npx cdktf output --outputs-file ${file}`,
    );
  }
  const outputs = stackOutputs(document, file, options.stack);
  const problems: string[] = [];
  for (const setting of missing) {
    const id = OUTPUT_IDS[setting];
    const matches = outputs.filter(([path]) => matchesOutputId(path, id));
    if (matches.length === 1) resolved[setting] = matches[0][1];
    else if (matches.length === 0)
      problems.push(`no output named ${id} (or ending in _${id}): pass ${SETTING_FLAGS[setting]}`);
    else {
      problems.push(
        `several outputs match ${id} (${matches.map(([path]) => path).join(", ")}): pass ${SETTING_FLAGS[setting]}`,
      );
    }
  }
  if (problems.length > 0) {
    throw new OutputsFileError(
      `${file}${options.stack ? ` (stack ${options.stack})` : ""}: ${problems.join("; ")}.\n` +
        `Outputs found: ${outputs.map(([path]) => path).join(", ") || "none"}.\n` +
        `If the stack was deployed before these outputs existed, deploy it again and rerun ` +
        `npx cdktf output --outputs-file ${file}`,
    );
  }
  return resolved;
}

/** Every output of the chosen stack as [path joined with "_", value]. */
function stackOutputs(document: unknown, file: string, stack: string | undefined): [string, string][] {
  if (!isObject(document)) throw new OutputsFileError(`${file} does not hold a JSON object of stack outputs`);
  let scope: Record<string, unknown>;
  if (stack !== undefined) {
    const chosen = document[stack];
    if (!isObject(chosen)) {
      throw new OutputsFileError(
        `${file} has no stack "${stack}"; it has: ${Object.keys(document).join(", ") || "nothing"}`,
      );
    }
    scope = chosen;
  } else if (Object.values(document).some((value) => leafValue(value) !== undefined)) {
    scope = document; // one stack's outputs at the top level (terraform output -json)
  } else {
    const stacks = Object.keys(document).filter((name) => isObject(document[name]));
    if (stacks.length === 0) throw new OutputsFileError(`${file} holds no outputs`);
    if (stacks.length > 1) {
      throw new OutputsFileError(
        `${file} holds the outputs of several stacks (${stacks.join(", ")}): pass --stack NAME`,
      );
    }
    scope = document[stacks[0]] as Record<string, unknown>;
  }
  const outputs: [string, string][] = [];
  const visit = (value: unknown, path: string[]) => {
    const leaf = leafValue(value);
    if (leaf !== undefined) outputs.push([path.join("_"), leaf]);
    else if (isObject(value)) for (const [key, child] of Object.entries(value)) visit(child, [...path, key]);
  };
  visit(scope, []);
  return outputs;
}

/** Whether an output key is the output `id`: itself, under a construct path, or with cdktf's hash suffix. */
export function matchesOutputId(path: string, id: string): boolean {
  return path === id || path.endsWith(`_${id}`) || new RegExp(`(^|_)${id}_[0-9A-F]{8}$`).test(path);
}

function leafValue(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (isObject(value) && "value" in value && !isObject(value.value)) return leafValue(value.value);
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
