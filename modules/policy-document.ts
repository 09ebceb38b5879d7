/**
 * IAM policy documents as plain objects.
 *
 * Policies are built as data, not with data sources, so tests can read them and simulate them
 * with concrete ARNs, and the synthesized JSON shows exactly what is granted.
 */
export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: "*" | { readonly [kind: string]: string | readonly string[] };
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: {
    readonly [operator: string]: { readonly [key: string]: string | boolean | readonly string[] };
  };
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
  return JSON.stringify(document);
}
