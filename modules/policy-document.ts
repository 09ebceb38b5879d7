/**
 * IAM policy documents as plain objects.
 *
 * Policies are built as data, not with data sources, so tests can read them and simulate them
 * with concrete ARNs, and the synthesized JSON shows exactly what is granted.
 */
import { Fn, type IResolvable } from "cdktf";
export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: "*" | { readonly [kind: string]: string | readonly string[] };
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: {
    readonly [operator: string]: { readonly [key: string]: string | boolean | readonly string[] };
  };
  /**
   * Not IAM: a Terraform condition under which the statement is part of the policy (a key that a
   * module variable may leave out, modules/byo.ts). Such a policy is rendered with jsonencode.
   */
  readonly onlyIf?: IResolvable;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

export function policyDocument(...statements: PolicyStatement[]): PolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * Renders a policy for a resource argument as a JSON string. Terraform references in it (ARNs
 * known only at apply time) become `${...}` interpolations, so the synthesized policy stays
 * plain JSON that tests can parse.
 */
export function renderPolicy(document: PolicyDocument): string {
  const conditional = document.Statement.filter((statement) => statement.onlyIf !== undefined);
  if (conditional.length === 0) return JSON.stringify(document);
  // Some statements depend on a value Terraform decides: the policy becomes a Terraform
  // expression, jsonencode of the statements that always apply and of each conditional one.
  const always = document.Statement.filter((statement) => statement.onlyIf === undefined);
  return Fn.jsonencode({
    Version: document.Version,
    Statement: Fn.concat([
      always,
      ...conditional.map(({ onlyIf, ...statement }) => Fn.conditional(onlyIf, [statement], [])),
    ]),
  });
}
