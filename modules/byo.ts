/**
 * Bring-your-own inputs that Terraform decides. In a cdktf app an existing bucket, key or topic is
 * a literal, so the constructs decide at synth whether to create their own. In the plain module
 * (terraform-module.ts) it is a variable that may be null, known only at plan: then the resource
 * a given input replaces is created with `count = var.x == null ? 1 : 0`, what refers to it uses
 * `coalesce(var.x, one(resource[*].attribute))`, and a policy statement that only applies when
 * the input is given carries a condition (`onlyIf`, rendered by policy-document.ts).
 *
 * Every condition here is built from the inputs themselves, never from a created resource's
 * attributes, so each count is known at plan.
 */
import { Fn, Op, TerraformStack, Token, ref, type IResolvable, type TerraformResource } from "cdktf";
import type { PolicyStatement } from "./policy-document";

/** Whether an optional input is a Terraform value (a module variable, maybe null) rather than a literal. */
export function decidedAtPlan(value: unknown): value is string {
  return value !== undefined && Token.isUnresolved(value);
}

/** Whether an optional input is a literal the construct can decide on at synth. */
export function knownAtSynth(value: string | undefined): value is string {
  return value !== undefined && !Token.isUnresolved(value);
}

/** `value == null`, as a Terraform condition. */
export function isNull(value: string): IResolvable {
  return Op.eq(value, Token.nullValue());
}

/** `value != null`, as a Terraform condition. */
export function isGiven(value: string): IResolvable {
  return Op.neq(value, Token.nullValue());
}

/** A count of 1 while the condition holds, else 0 (undefined: always one, no count at all). */
export function countWhile(condition: Presence): number | undefined {
  if (condition === true) return undefined;
  return condition === false ? 0 : Token.asNumber(Fn.conditional(condition, 1, 0));
}

/** An attribute of each instance of a resource created 0 or 1 times (`resource[*].attribute`). */
function instancesOf(resource: TerraformResource, attribute: string): string[] {
  const stack = TerraformStack.of(resource);
  return Token.asList(ref(`${resource.terraformResourceType}.${resource.friendlyUniqueId}[*].${attribute}`, stack));
}

/** An attribute of a resource created 0 or 1 times: its value, or null when it was not created. */
export function attributeOfOptional(resource: TerraformResource, attribute: string): string {
  return Token.asString(Fn.one(instancesOf(resource, attribute)));
}

/**
 * The given value when not null, else the attribute of the resource created in its place; null
 * when neither (`one(concat(compact([given]), resource[*].attribute))`, which never fails).
 */
export function givenOrCreated(given: string | undefined, resource: TerraformResource, attribute: string): string {
  if (given === undefined) return attributeOfOptional(resource, attribute);
  return Token.asString(Fn.one(Fn.concat([Fn.compact([given]), instancesOf(resource, attribute)])));
}

/**
 * Whether an optional input of the construct's props is there: false when left out, true for a
 * literal, and for a Terraform value (a module variable) the condition that it is not null. Only
 * for the props a user gives: a created resource's attribute is a token too, but never null.
 */
export type Presence = boolean | IResolvable;
export function presenceOf(value: string | undefined): Presence {
  if (value === undefined) return false;
  return decidedAtPlan(value) ? isGiven(value) : true;
}

/** A statement that applies while `present` holds: none, itself, or itself with a condition. */
export function whilePresent(statement: PolicyStatement, present: Presence): PolicyStatement[] {
  if (present === false) return [];
  return present === true ? [statement] : [{ ...statement, onlyIf: present }];
}

/** A queue's encryption: the key when there is one, else SSE-SQS (`kmsKeyArn` as the user gave it). */
export function queueEncryption(kmsKeyArn: string | undefined): {
  kmsMasterKeyId?: string;
  sqsManagedSseEnabled?: boolean | IResolvable;
} {
  if (kmsKeyArn === undefined) return { sqsManagedSseEnabled: true };
  if (!decidedAtPlan(kmsKeyArn)) return { kmsMasterKeyId: kmsKeyArn };
  // Null, not false, with a key: the provider refuses sqs_managed_sse_enabled beside kms_master_key_id.
  return {
    kmsMasterKeyId: kmsKeyArn,
    sqsManagedSseEnabled: Fn.conditional(isNull(kmsKeyArn), true, Token.nullValue()),
  };
}

/** Both hold. */
export function allOf(a: Presence, b: Presence): Presence {
  if (a === false || b === false) return false;
  if (a === true) return b;
  if (b === true) return a;
  return Op.and(a, b);
}

/** Either holds. */
export function anyOf(a: Presence, b: Presence): Presence {
  if (a === true || b === true) return true;
  if (a === false) return b;
  if (b === false) return a;
  return Op.or(a, b);
}

/** It does not hold. */
export function not(a: Presence): Presence {
  return typeof a === "boolean" ? !a : Op.not(a);
}
