import { Testing } from "cdktf";
import { FacilityPipelineStack } from "../../main";
import { parseConfig, type FacilityPipelineConfigInput } from "../../config/schema";

/** The synthesized Terraform JSON of one stack. */
export interface SynthesizedStack {
  readonly resource: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, { value: unknown }>;
  readonly provider: Record<string, unknown[]>;
  readonly terraform: Record<string, unknown>;
}

export const TEST_CONFIG: FacilityPipelineConfigInput = {
  namePrefix: "hfap-test",
  region: "us-east-1",
  alertEmails: ["alerts@example.org"],
  tags: { project: "healthcare-facility-accreditation" },
};

/** Synthesizes the stack for a config (the test config by default) and parses the JSON. */
export function synthStack(overrides: Partial<FacilityPipelineConfigInput> = {}): SynthesizedStack {
  const app = Testing.app();
  const stack = new FacilityPipelineStack(app, "facility-pipeline-test", parseConfig({ ...TEST_CONFIG, ...overrides }));
  return JSON.parse(Testing.synth(stack)) as SynthesizedStack;
}

/** Every resource of one type, by its Terraform name. */
export function resourcesOfType(stack: SynthesizedStack, type: string): Record<string, Record<string, unknown>> {
  return stack.resource[type] ?? {};
}

/** The resources of a type, by Terraform name; only the one whose `name` is `named` when given. */
function candidates(stack: SynthesizedStack, type: string, named?: string): [string, Record<string, unknown>][] {
  return Object.entries(resourcesOfType(stack, type)).filter(([, body]) => named === undefined || body.name === named);
}

function single(stack: SynthesizedStack, type: string, named?: string): [string, Record<string, unknown>] {
  const all = candidates(stack, type, named);
  const which = named === undefined ? type : `${type} named ${named}`;
  if (all.length !== 1) throw new Error(`expected exactly one ${which}, found ${all.length}`);
  return all[0];
}

/** The single resource of a type (or of a type and name); fails if there is not exactly one. */
export function onlyResource(stack: SynthesizedStack, type: string, named?: string): Record<string, unknown> {
  return single(stack, type, named)[1];
}

/** The Terraform reference `${type.name.attribute}` of the single resource of a type (and name). */
export function referenceTo(stack: SynthesizedStack, type: string, attribute: string, named?: string): string {
  return `\${${type}.${single(stack, type, named)[0]}.${attribute}}`;
}

type PolicyStatementJson = Record<string, unknown> & { Sid: string };

/** A role the stack creates, by name: its trust policy and its (single, inline) permissions. */
export function roleNamed(stack: SynthesizedStack, name: string) {
  const roles = resourcesOfType(stack, "aws_iam_role");
  const id = Object.keys(roles).find((key) => roles[key].name === name);
  if (id === undefined) throw new Error(`the stack creates no role ${name}`);
  const policy = Object.values(resourcesOfType(stack, "aws_iam_role_policy")).find(
    (p) => p.role === `\${aws_iam_role.${id}.id}`,
  )!;
  const permissions = JSON.parse(policy.policy as string) as { Statement: PolicyStatementJson[] };
  return {
    trust: JSON.parse(roles[id].assume_role_policy as string) as { Statement: Array<Record<string, unknown>> },
    permissions,
    /** The permissions' statements by Sid. */
    bySid: Object.fromEntries(permissions.Statement.map((statement) => [statement.Sid, statement])),
  };
}
