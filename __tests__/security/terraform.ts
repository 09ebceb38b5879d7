/**
 * The synthesized Terraform JSON as AWS would see it after apply, for the security tests.
 *
 * Synthesized values still hold Terraform references (`${aws_s3_bucket.x.arn}`,
 * `${data.aws_caller_identity.x.account_id}`). resolveReferences() replaces each one it knows
 * with the value it takes in a test account, so the controls compare real ARNs and the IAM
 * simulator is never handed a `${token}` (it would answer Allowed for it). A reference it does not
 * know is left as it is, for the tests to report.
 */
import { createHash } from "node:crypto";
import type { SynthesizedStack } from "../helpers/synth";

export const TEST_ACCOUNT = "111122223333";
export const TEST_PARTITION = "aws";

export type Attributes = Record<string, unknown>;

/** One resource of the synthesized JSON. */
export interface TerraformResource {
  readonly type: string;
  readonly name: string;
  /** `type.name`, as Terraform names it in plans and errors. */
  readonly address: string;
  readonly body: Attributes;
}

/** Where the stack deploys: the test account and partition, the region of the default provider. */
interface Deployment {
  readonly account: string;
  readonly partition: string;
  readonly region: string;
}

/** Reads one field of a resource as a string, or undefined when it is missing or unresolved. */
type FieldReader = (field: string) => string | undefined;

/** The attributes a resource exports once created, as AWS shapes them, from its arguments. */
type AttributeTable = (field: FieldReader, where: Deployment, address: string) => Record<string, string | undefined>;

const RESOURCE_ATTRIBUTES: Record<string, AttributeTable> = {
  aws_s3_bucket: (field, where) => {
    const bucket = field("bucket");
    return { id: bucket, bucket, arn: bucket && `arn:${where.partition}:s3:::${bucket}` };
  },
  aws_iam_role: (field, where) => {
    const name = field("name");
    return {
      id: name,
      name,
      arn: name && `arn:${where.partition}:iam::${where.account}:role${field("path") ?? "/"}${name}`,
    };
  },
  aws_iam_policy: (field, where) => {
    const name = field("name");
    const arn = name && `arn:${where.partition}:iam::${where.account}:policy${field("path") ?? "/"}${name}`;
    return { id: arn, name, arn };
  },
  aws_lambda_function: (field, where) => {
    const name = field("function_name");
    return {
      id: name,
      function_name: name,
      arn: name && `arn:${where.partition}:lambda:${where.region}:${where.account}:function:${name}`,
    };
  },
  aws_cloudwatch_log_group: (field, where) => {
    const name = field("name");
    return {
      id: name,
      name,
      arn: name && `arn:${where.partition}:logs:${where.region}:${where.account}:log-group:${name}`,
    };
  },
  aws_athena_workgroup: (field, where) => {
    const name = field("name");
    return {
      id: name,
      name,
      arn: name && `arn:${where.partition}:athena:${where.region}:${where.account}:workgroup/${name}`,
    };
  },
  aws_glue_catalog_database: (field, where) => {
    const name = field("name");
    return {
      id: name && `${where.account}:${name}`,
      name,
      arn: name && `arn:${where.partition}:glue:${where.region}:${where.account}:database/${name}`,
    };
  },
  aws_glue_catalog_table: (field, where) => {
    const name = field("name");
    const database = field("database_name");
    return {
      id: name && database && `${where.account}:${database}:${name}`,
      name,
      arn: name && database && `arn:${where.partition}:glue:${where.region}:${where.account}:table/${database}/${name}`,
    };
  },
  aws_sns_topic: (field, where) => {
    const name = field("name");
    const arn = name && `arn:${where.partition}:sns:${where.region}:${where.account}:${name}`;
    return { id: arn, name, arn };
  },
  aws_sqs_queue: (field, where) => {
    const name = field("name");
    const url = name && `https://sqs.${where.region}.amazonaws.com/${where.account}/${name}`;
    return { id: url, url, name, arn: name && `arn:${where.partition}:sqs:${where.region}:${where.account}:${name}` };
  },
  aws_kms_key: (_field, where, address) => {
    // A key's id is a UUID chosen by KMS; derive a stable one from the address.
    const hex = createHash("sha256").update(address).digest("hex");
    const keyId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
    return {
      id: keyId,
      key_id: keyId,
      arn: `arn:${where.partition}:kms:${where.region}:${where.account}:key/${keyId}`,
    };
  },
  aws_kms_alias: (field, where) => {
    const name = field("name");
    return { id: name, name, arn: name && `arn:${where.partition}:kms:${where.region}:${where.account}:${name}` };
  },
  aws_sfn_state_machine: (field, where) => {
    const name = field("name");
    const arn = name && `arn:${where.partition}:states:${where.region}:${where.account}:stateMachine:${name}`;
    return { id: arn, name, arn };
  },
  aws_scheduler_schedule: (field, where) => {
    const name = field("name");
    const group = field("group_name") ?? "default";
    const arn = name && `arn:${where.partition}:scheduler:${where.region}:${where.account}:schedule/${group}/${name}`;
    return { id: name && `${group}/${name}`, name, arn };
  },
  aws_cloudwatch_event_rule: (field, where) => {
    const name = field("name");
    const bus = field("event_bus_name");
    const path = bus && bus !== "default" ? `${bus}/${name}` : name;
    return {
      id: name,
      name,
      arn: name && `arn:${where.partition}:events:${where.region}:${where.account}:rule/${path}`,
    };
  },
};

const DATA_ATTRIBUTES: Record<string, (where: Deployment) => Record<string, string>> = {
  aws_caller_identity: (where) => ({ account_id: where.account, id: where.account }),
  aws_partition: (where) => ({ partition: where.partition, id: where.partition, dns_suffix: "amazonaws.com" }),
  aws_region: (where) => ({ region: where.region, name: where.region, id: where.region }),
};

/** `${type.name.attribute}` or `${data.type.name.attribute}`. */
const REFERENCE = /\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}/g;

/** Every resource of one type, in the order of the JSON. */
export function resourcesOf(stack: SynthesizedStack, type: string): TerraformResource[] {
  return Object.entries(stack.resource[type] ?? {}).map(([name, body]) => ({
    type,
    name,
    address: `${type}.${name}`,
    body,
  }));
}

/** The AWS provider configurations (the default one and any aliases). */
export function awsProviders(stack: SynthesizedStack): Attributes[] {
  return (stack.provider.aws ?? []) as Attributes[];
}

function deploymentOf(stack: SynthesizedStack): Deployment {
  const defaultProvider = awsProviders(stack).find((provider) => provider.alias === undefined);
  const region = defaultProvider?.region;
  if (typeof region !== "string" || region.includes("${")) {
    throw new Error(`the default aws provider has no literal region: ${JSON.stringify(region)}`);
  }
  return { account: TEST_ACCOUNT, partition: TEST_PARTITION, region };
}

function readerOf(body: Attributes, resolve: (text: string) => string): FieldReader {
  return (field) => {
    const value = body[field];
    if (typeof value !== "string") return undefined;
    const resolved = resolve(value);
    return resolved.includes("${") ? undefined : resolved;
  };
}

/**
 * The concrete value of one attribute of a resource of a stack whose references are already
 * resolved (see resolveReferences), e.g. the ARN of a bucket added by a test. Undefined when the
 * attribute is not one this module knows how to derive.
 */
export function attributeOf(
  stack: SynthesizedStack,
  resource: TerraformResource,
  attribute: string,
): string | undefined {
  const table = RESOURCE_ATTRIBUTES[resource.type];
  if (!table) return undefined;
  return table(
    readerOf(resource.body, (text) => text),
    deploymentOf(stack),
    resource.address,
  )[attribute];
}

/**
 * A deep copy of the stack with every Terraform reference to a known resource or data source
 * replaced by its concrete value in the test account (TEST_ACCOUNT, partition "aws", the
 * provider's region). Unknown references stay as `${...}`.
 */
export function resolveReferences(stack: SynthesizedStack): SynthesizedStack {
  const where = deploymentOf(stack);
  const data = ((stack as { data?: Record<string, Record<string, unknown>> }).data ?? {}) as Record<
    string,
    Record<string, unknown>
  >;

  const valueOf = (isData: boolean, type: string, name: string, attribute: string, depth: number) => {
    if (depth > 10) return undefined;
    if (isData) {
      if (!data[type]?.[name]) return undefined;
      return DATA_ATTRIBUTES[type]?.(where)[attribute];
    }
    const body = stack.resource[type]?.[name];
    const table = RESOURCE_ATTRIBUTES[type];
    if (!body || !table) return undefined;
    const field = readerOf(body, (text) => resolveText(text, depth + 1));
    return table(field, where, `${type}.${name}`)[attribute];
  };

  const resolveText = (text: string, depth = 0): string =>
    text.replace(
      REFERENCE,
      (whole, isData: string | undefined, type: string, name: string, attribute: string) =>
        valueOf(isData !== undefined, type, name, attribute, depth) ?? whole,
    );

  const resolve = (value: unknown): unknown => {
    if (typeof value === "string") return resolveText(value);
    if (Array.isArray(value)) return value.map(resolve);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, resolve(inner)]));
    }
    return value;
  };
  return resolve(stack) as SynthesizedStack;
}

/**
 * Every reference to a resource or data source attribute (`${type.name.attribute}`) left in a
 * value, e.g. one resolveReferences() does not know. Expressions such as `${each.value}` are not
 * references to resources and are not reported.
 */
export function unresolvedReferences(value: unknown): string[] {
  return JSON.stringify(value).match(REFERENCE) ?? [];
}

/** A nested block as synthesized: cdktf writes some as an object, some as a one-element list. */
export function block(value: unknown): Attributes | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first !== null && typeof first === "object" ? (first as Attributes) : undefined;
}

/** The blocks of a repeated argument (`rule`, `filter`), whether written as a list or one object. */
export function blocks(value: unknown): Attributes[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).filter(
    (item): item is Attributes => item !== null && typeof item === "object",
  );
}

/** An IAM policy statement, as parsed from the JSON of a policy argument. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: "*" | Record<string, string | string[]>;
  readonly NotPrincipal?: unknown;
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: string | string[];
  readonly NotResource?: string | string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: PolicyStatement[];
}

/** Parses a policy argument; undefined when it is not literal JSON (e.g. a data source's `.json`). */
export function parsePolicy(value: unknown): PolicyDocument | undefined {
  if (typeof value !== "string") return undefined;
  try {
    const parsed = JSON.parse(value) as { Statement?: PolicyStatement | PolicyStatement[] };
    if (parsed.Statement === undefined) return undefined;
    return { ...parsed, Statement: Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement] };
  } catch {
    return undefined;
  }
}

/** A string-or-list policy element as a list. */
export function listOf(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}
