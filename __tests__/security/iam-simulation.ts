/**
 * Simulating the stack's IAM roles with @cloud-copilot/iam-simulate (AGPL, dev dependency only).
 *
 * Works on a stack whose references are resolved (terraform.ts): the simulator matches any
 * request against a policy resource that still holds a `${token}` (it reads it as a policy
 * variable), so a role whose policies keep one must fail before any request is simulated;
 * unresolvedResources() finds them.
 */
import { runSimulation, type EvaluationResult } from "@cloud-copilot/iam-simulate";
import type { SynthesizedStack } from "../helpers/synth";
import {
  attributeOf,
  blocks,
  listOf,
  parsePolicy,
  resourcesOf,
  TEST_ACCOUNT,
  type PolicyDocument,
  type TerraformResource,
} from "./terraform";

/** A role as the simulator sees it: who it is and every policy that grants it anything. */
export interface SimulatedRole {
  readonly address: string;
  readonly name: string;
  readonly arn: string;
  /** The principal of the requests a session of the role makes (what AWS evaluates). */
  readonly sessionArn: string;
  readonly identityPolicies: ReadonlyArray<{ readonly name: string; readonly policy: PolicyDocument }>;
  readonly permissionsBoundary?: PolicyDocument;
}

/** One request a role's session makes; context adds to `aws:SecureTransport: "true"`. */
export interface SimulatedRequest {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string>>;
}

function policyOf(where: string, value: unknown): PolicyDocument {
  const document = parsePolicy(value);
  if (!document) throw new Error(`${where}: the policy is not literal JSON, so it cannot be simulated`);
  return document;
}

/** The stack's own customer managed policy with this ARN; throws for any other (e.g. AWS managed). */
function stackPolicy(stack: SynthesizedStack, arn: string, usedBy: string): PolicyDocument {
  const policy = resourcesOf(stack, "aws_iam_policy").find((candidate) => attributeOf(stack, candidate, "arn") === arn);
  if (!policy) throw new Error(`${usedBy} uses ${arn}, which this stack does not define: it cannot be simulated`);
  return policyOf(policy.address, policy.body.policy);
}

/**
 * Every aws_iam_role of the stack with all the policies that apply to it: inline role policies
 * (aws_iam_role_policy, inline_policy blocks), attached policies and the permissions boundary.
 * Throws if a role uses a policy the stack does not define, since its grants cannot be known.
 */
export function rolesOf(stack: SynthesizedStack): SimulatedRole[] {
  return resourcesOf(stack, "aws_iam_role").map((role: TerraformResource) => {
    const name = attributeOf(stack, role, "name");
    const arn = attributeOf(stack, role, "arn");
    if (!name || !arn) throw new Error(`${role.address}: no literal name, so it cannot be simulated`);
    const appliesToRole = (value: unknown) => value === name || value === arn;

    const inline = resourcesOf(stack, "aws_iam_role_policy")
      .filter((policy) => appliesToRole(policy.body.role))
      .map((policy) => ({ name: policy.address, policy: policyOf(policy.address, policy.body.policy) }));
    const inlineBlocks = blocks(role.body.inline_policy).map((inlinePolicy, index) => ({
      name: `${role.address}.inline_policy[${index}]`,
      policy: policyOf(role.address, inlinePolicy.policy),
    }));
    const attachedArns = [
      ...resourcesOf(stack, "aws_iam_role_policy_attachment")
        .filter((attachment) => appliesToRole(attachment.body.role))
        .map((attachment) => String(attachment.body.policy_arn)),
      ...listOf(role.body.managed_policy_arns),
    ];
    const attached = attachedArns.map((policyArn) => ({
      name: policyArn,
      policy: stackPolicy(stack, policyArn, role.address),
    }));
    const boundary = role.body.permissions_boundary;
    return {
      address: role.address,
      name,
      arn,
      sessionArn: `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/${name}/simulated-session`,
      identityPolicies: [...inline, ...inlineBlocks, ...attached],
      permissionsBoundary: typeof boundary === "string" ? stackPolicy(stack, boundary, role.address) : undefined,
    };
  });
}

/**
 * Every Resource or NotResource of a policy that is not a concrete ARN or "*": a `${...}`
 * left unresolved, or anything else the simulator would misread.
 */
export function unresolvedResources(policy: PolicyDocument): string[] {
  return policy.Statement.flatMap((statement) => [
    ...listOf(statement.Resource),
    ...listOf(statement.NotResource),
  ]).filter(
    (resource) => resource.includes("${") || !(resource === "*" || /^arn:aws[a-z-]*:[a-z0-9-]+:/.test(resource)),
  );
}

/** The resource-based policy AWS evaluates with a request to a resource of this stack, if any. */
export function resourcePolicyFor(stack: SynthesizedStack, resourceArn: string): PolicyDocument | undefined {
  const bucket = /^arn:aws:s3:::([^/]+)/.exec(resourceArn)?.[1];
  if (bucket) {
    const policy = resourcesOf(stack, "aws_s3_bucket_policy").find((candidate) => candidate.body.bucket === bucket);
    return policy && policyOf(policy.address, policy.body.policy);
  }
  if (resourceArn.startsWith("arn:aws:sns:")) {
    const policy = resourcesOf(stack, "aws_sns_topic_policy").find((candidate) => candidate.body.arn === resourceArn);
    return policy && policyOf(policy.address, policy.body.policy);
  }
  if (resourceArn.startsWith("arn:aws:sqs:")) {
    const queue = resourcesOf(stack, "aws_sqs_queue").find(
      (candidate) => attributeOf(stack, candidate, "arn") === resourceArn,
    );
    const url = queue && attributeOf(stack, queue, "url");
    const policy = resourcesOf(stack, "aws_sqs_queue_policy").find((candidate) => candidate.body.queue_url === url);
    return policy && policyOf(policy.address, policy.body.policy);
  }
  if (resourceArn.startsWith("arn:aws:kms:")) {
    const key = resourcesOf(stack, "aws_kms_key").find(
      (candidate) => attributeOf(stack, candidate, "arn") === resourceArn,
    );
    if (!key) return undefined;
    // A key created without a policy gets the default one: the account's IAM policies decide.
    return key.body.policy === undefined
      ? {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` },
              Action: "kms:*",
              Resource: "*",
            },
          ],
        }
      : policyOf(key.address, key.body.policy);
  }
  return undefined;
}

/**
 * What AWS decides for one request of the role, with its policies, its boundary and the
 * resource's policy. Throws when the simulator rejects the request (an unknown action, an ARN
 * of the wrong type for it): a typo in a table must not read as "denied".
 */
export async function decide(
  stack: SynthesizedStack,
  role: SimulatedRole,
  request: SimulatedRequest,
): Promise<EvaluationResult> {
  const result = await runSimulation(
    {
      request: {
        principal: role.sessionArn,
        action: request.action,
        resource: { resource: request.resource, accountId: TEST_ACCOUNT },
        contextVariables: { "aws:SecureTransport": "true", ...request.context },
      },
      identityPolicies: role.identityPolicies.map(({ name, policy }) => ({ name, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: resourcePolicyFor(stack, request.resource),
      permissionBoundaryPolicies: role.permissionsBoundary
        ? [{ name: "permissions-boundary", policy: role.permissionsBoundary }]
        : undefined,
    },
    { simulationMode: "Strict" },
  );
  if (result.resultType === "error") {
    throw new Error(`cannot simulate ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`);
  }
  if (result.resultType === "wildcard") {
    throw new Error(`${request.resource} is a pattern: simulate concrete ARNs (or "*" for wildcard-only actions)`);
  }
  return result.overallResult;
}
