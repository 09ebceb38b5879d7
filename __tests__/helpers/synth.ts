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

/** The single resource of a type; fails if there is not exactly one. */
export function onlyResource(stack: SynthesizedStack, type: string): Record<string, unknown> {
  const all = Object.values(resourcesOfType(stack, type));
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0];
}

/** The Terraform reference `${type.name.attribute}` of the single resource of a type. */
export function referenceTo(stack: SynthesizedStack, type: string, attribute: string): string {
  const names = Object.keys(resourcesOfType(stack, type));
  if (names.length !== 1) throw new Error(`expected exactly one ${type}, found ${names.length}`);
  return `\${${type}.${names[0]}.${attribute}}`;
}
