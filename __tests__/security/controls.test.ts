/**
 * Security controls over the synthesized Terraform, one test per control id (controls.ts says
 * what each checks). Then each check is shown to fail: on a copy of the stack broken in one
 * place, and on a second resource of each governed type added with provider defaults.
 */
import { TerraformStack, Testing } from "cdktf";
import { listEnvironments } from "../../config/load";
import { buildApp } from "../../main";
import { synthStack, TEST_CONFIG, type SynthesizedStack } from "../helpers/synth";
import { CONTROLS, control, violationsOf } from "./controls";
import {
  awsProviders,
  block,
  parsePolicy,
  resolveReferences,
  TEST_ACCOUNT,
  unresolvedReferences,
  type Attributes,
} from "./terraform";

const stack = resolveReferences(synthStack());

/** The stack of one environment as `npm run synth` builds it from config/<environment>.json. */
function environmentStack(environment: string): SynthesizedStack {
  const app = Testing.app();
  buildApp(environment, app);
  const synthesized = app.node.children.find((child): child is TerraformStack => child instanceof TerraformStack);
  if (!synthesized) throw new Error(`no stack for ${environment}`);
  return resolveReferences(JSON.parse(Testing.synth(synthesized)) as SynthesizedStack);
}

describe("controls on the synthesized Terraform", () => {
  test.each(CONTROLS.map((c) => [c.id, c.title, c] as const))("%s: %s", (_id, _title, c) => {
    expect(violationsOf(c, stack)).toEqual([]);
  });

  test("Tagging: default_tags carry the configured tags, managed-by and name-prefix", () => {
    expect(awsProviders(stack)).toHaveLength(1);
    expect(block(awsProviders(stack)[0].default_tags)?.tags).toEqual(
      expect.objectContaining({ ...TEST_CONFIG.tags, "managed-by": "cdktf", "name-prefix": TEST_CONFIG.namePrefix }),
    );
  });

  test("no Terraform reference is left unresolved in a resource or provider argument", () => {
    // The checks compare concrete ARNs; a reference they cannot resolve would read as a mismatch.
    expect(unresolvedReferences({ resource: stack.resource, provider: stack.provider })).toEqual([]);
  });
});

describe.each(listEnvironments())("controls on the stack of config/%s.json", (environment) => {
  const deployed = environmentStack(environment);

  test.each(CONTROLS.map((c) => [c.id, c.title, c] as const))("%s: %s", (_id, _title, c) => {
    expect(violationsOf(c, deployed)).toEqual([]);
  });
});

/** The first resource of a type in a (copied) stack, to break it. */
function first(json: SynthesizedStack, type: string): Attributes {
  const found = Object.values(json.resource[type] ?? {})[0];
  if (!found) throw new Error(`no ${type} to mutate`);
  return found;
}

/** The resource of a type whose name ends with `suffix` (of several, the one a breakage is about). */
function endingIn(json: SynthesizedStack, type: string, suffix: string): Attributes {
  const found = Object.values(json.resource[type] ?? {}).find((body) => String(body.name).endsWith(suffix));
  if (!found) throw new Error(`no ${type} named *${suffix} to mutate`);
  return found;
}

function add(json: SynthesizedStack, type: string, name: string, body: Attributes): void {
  json.resource[type] = { ...(json.resource[type] ?? {}), [name]: body };
}

/** Rewrites a policy argument through a function of its statements. */
function editPolicy(body: Attributes, argument: string, edit: (statements: Attributes[]) => void): void {
  const document = parsePolicy(body[argument]) as unknown as { Statement: Attributes[] };
  edit(document.Statement);
  body[argument] = JSON.stringify(document);
}

function roleNamed(json: SynthesizedStack, suffix: string): Attributes {
  const role = Object.values(json.resource.aws_iam_role).find((candidate) => String(candidate.name).endsWith(suffix));
  if (!role) throw new Error(`no role named *${suffix}`);
  return role;
}

const MUTATIONS: Array<[id: string, breakage: string, mutate: (json: SynthesizedStack) => void]> = [
  [
    "S3.5",
    "the TLS deny names the bucket but not its objects",
    (json) =>
      editPolicy(first(json, "aws_s3_bucket_policy"), "policy", (statements) => {
        statements[0].Resource = [(statements[0].Resource as string[])[0]];
      }),
  ],
  [
    "S3.5",
    "the TLS deny's condition is aws:SecureTransport true",
    (json) =>
      editPolicy(first(json, "aws_s3_bucket_policy"), "policy", (statements) => {
        statements[0].Condition = { Bool: { "aws:SecureTransport": "true" } };
      }),
  ],
  [
    "S3.8",
    "block_public_policy is false",
    (json) => void (first(json, "aws_s3_bucket_public_access_block").block_public_policy = false),
  ],
  [
    "S3.12",
    "object ownership is ObjectWriter",
    (json) => void (first(json, "aws_s3_bucket_ownership_controls").rule = { object_ownership: "ObjectWriter" }),
  ],
  [
    "S3.12",
    "an aws_s3_bucket_acl is added",
    (json) => add(json, "aws_s3_bucket_acl", "acl", { bucket: first(json, "aws_s3_bucket").bucket, acl: "private" }),
  ],
  [
    "S3.13",
    "every lifecycle rule is Disabled",
    (json) => {
      for (const rule of first(json, "aws_s3_bucket_lifecycle_configuration").rule as Attributes[])
        rule.status = "Disabled";
    },
  ],
  [
    "S3.14",
    "versioning is Suspended",
    (json) => void (first(json, "aws_s3_bucket_versioning").versioning_configuration = { status: "Suspended" }),
  ],
  ["S3.11", "eventbridge is false", (json) => void (first(json, "aws_s3_bucket_notification").eventbridge = false)],
  [
    "CKV_AWS_300",
    "the abort rule applies to raw/ only",
    (json) => {
      const rules = first(json, "aws_s3_bucket_lifecycle_configuration").rule as Attributes[];
      for (const rule of rules) if (rule.abort_incomplete_multipart_upload) rule.filter = [{ prefix: "raw/" }];
    },
  ],
  [
    "Lambda.1",
    'a permission grants invoke to principal "*"',
    (json) =>
      add(json, "aws_lambda_permission", "public", {
        action: "lambda:InvokeFunction",
        function_name: "hfap-test-filter-expiring",
        principal: "*",
        source_arn: "arn:aws:s3:::hfap-test-facility-data",
      }),
  ],
  [
    "Lambda.1",
    "a permission grants invoke to events.amazonaws.com without source_arn",
    (json) =>
      add(json, "aws_lambda_permission", "events", {
        action: "lambda:InvokeFunction",
        function_name: "hfap-test-filter-expiring",
        principal: "events.amazonaws.com",
      }),
  ],
  [
    "Lambda.1 (function URLs)",
    "a function URL without authorization",
    (json) =>
      add(json, "aws_lambda_function_url", "open", {
        function_name: "hfap-test-filter-expiring",
        authorization_type: "NONE",
      }),
  ],
  [
    "Lambda.2",
    "a function runs nodejs20.x",
    (json) => void (first(json, "aws_lambda_function").runtime = "nodejs20.x"),
  ],
  [
    "StepFunctions.1",
    "logging level OFF",
    (json) => {
      const logging = first(json, "aws_sfn_state_machine").logging_configuration as Attributes;
      logging.level = "OFF";
    },
  ],
  ["SNS.1", "the topic has no key", (json) => void delete first(json, "aws_sns_topic").kms_master_key_id],
  [
    "SNS.1",
    "the topic alarms notify uses the AWS managed key",
    (json) => void (endingIn(json, "aws_sns_topic", "-failures").kms_master_key_id = "alias/aws/sns"),
  ],
  [
    "SQS.1",
    "the queue is not encrypted",
    (json) => void (first(json, "aws_sqs_queue").sqs_managed_sse_enabled = false),
  ],
  [
    "Athena.4",
    "metrics are not published",
    (json) => {
      (first(json, "aws_athena_workgroup").configuration as Attributes).publish_cloudwatch_metrics_enabled = false;
    },
  ],
  ["KMS.4", "the key does not rotate", (json) => void (first(json, "aws_kms_key").enable_key_rotation = false)],
  [
    "IAM.1/IAM.21",
    "a role policy allows s3:*",
    (json) =>
      editPolicy(first(json, "aws_iam_role_policy"), "policy", (statements) => {
        statements[0].Action = "s3:*";
      }),
  ],
  [
    "IAM.1/IAM.21",
    'a role policy allows "*"',
    (json) =>
      editPolicy(first(json, "aws_iam_role_policy"), "policy", (statements) => {
        statements.push({ Effect: "Allow", Action: "*", Resource: "*" });
      }),
  ],
  [
    "IAM.1/IAM.21 (resource policies)",
    "the queue policy allows sqs:* to everyone",
    (json) =>
      editPolicy(first(json, "aws_sqs_queue_policy"), "policy", (statements) => {
        statements.push({ Effect: "Allow", Principal: "*", Action: "sqs:*", Resource: "*" });
      }),
  ],
  [
    "CKV_AWS_82",
    "the workgroup does not enforce its configuration",
    (json) => {
      (first(json, "aws_athena_workgroup").configuration as Attributes).enforce_workgroup_configuration = false;
    },
  ],
  [
    "CKV_AWS_159",
    "results have no encryption configuration",
    (json) => {
      const configuration = first(json, "aws_athena_workgroup").configuration as Attributes;
      delete (configuration.result_configuration as Attributes).encryption_configuration;
    },
  ],
  [
    "CKV_AWS_50",
    "tracing is PassThrough",
    (json) => void (first(json, "aws_lambda_function").tracing_config = { mode: "PassThrough" }),
  ],
  [
    "CKV_AWS_284",
    "tracing is disabled",
    (json) => void (first(json, "aws_sfn_state_machine").tracing_configuration = { enabled: false }),
  ],
  [
    "CKV_AWS_285",
    "execution data is not logged",
    (json) => {
      (first(json, "aws_sfn_state_machine").logging_configuration as Attributes).include_execution_data = false;
    },
  ],
  [
    "CKV_AWS_66",
    "a log group has no retention",
    (json) => void delete first(json, "aws_cloudwatch_log_group").retention_in_days,
  ],
  [
    "CKV_AWS_66",
    "a function logs to a group the stack does not create",
    (json) =>
      void (first(json, "aws_lambda_function").logging_config = { log_format: "JSON", log_group: "/elsewhere" }),
  ],
  [
    "CKV_AWS_115",
    "a function has no reserved concurrency",
    (json) => void delete first(json, "aws_lambda_function").reserved_concurrent_executions,
  ],
  [
    "CKV_AWS_60/61",
    "a role trusts the account root",
    (json) =>
      editPolicy(roleNamed(json, "-lambda"), "assume_role_policy", (statements) => {
        statements[0].Principal = { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` };
      }),
  ],
  [
    "CKV_AWS_60/61",
    "the state machine role has no confused-deputy condition",
    (json) =>
      editPolicy(roleNamed(json, "-sfn"), "assume_role_policy", (statements) => {
        delete statements[0].Condition;
      }),
  ],
  [
    "CKV_AWS_60/61",
    "the EventBridge role names another rule as aws:SourceArn",
    (json) =>
      editPolicy(roleNamed(json, "-events"), "assume_role_policy", (statements) => {
        statements[0].Condition = {
          StringEquals: { "aws:SourceAccount": TEST_ACCOUNT },
          ArnEquals: { "aws:SourceArn": `arn:aws:events:us-east-1:${TEST_ACCOUNT}:rule/another-rule` },
        };
      }),
  ],
  ["Tagging", "the provider has no default_tags", (json) => void delete awsProviders(json)[0].default_tags],
];

describe("each control check fails when its control is broken", () => {
  test.each(MUTATIONS)("%s catches: %s", (id, _breakage, mutate) => {
    const broken = structuredClone(stack);
    mutate(broken);
    expect(violationsOf(control(id), broken)).not.toEqual([]);
  });

  test("every control has at least one breakage it catches", () => {
    const caught = new Set(MUTATIONS.map(([id]) => id));
    expect(CONTROLS.map((c) => c.id).filter((id) => !caught.has(id))).toEqual([]);
  });

  // A second resource of each type, added with nothing but the provider's defaults, must be
  // reported by every control governing that type: the checks iterate, they do not pick one.
  test.each([
    [
      "aws_s3_bucket",
      { bucket: "hfap-test-second-bucket" },
      ["S3.5", "S3.8", "S3.12", "S3.13", "S3.14", "S3.11", "CKV_AWS_300"],
    ],
    [
      "aws_lambda_function",
      { function_name: "hfap-test-third", runtime: "nodejs18.x", handler: "index.handler" },
      ["Lambda.2", "CKV_AWS_50", "CKV_AWS_115", "CKV_AWS_66"],
    ],
    ["aws_sfn_state_machine", { name: "hfap-test-second-machine" }, ["StepFunctions.1", "CKV_AWS_284", "CKV_AWS_285"]],
    ["aws_sns_topic", { name: "hfap-test-second-topic" }, ["SNS.1"]],
    ["aws_sqs_queue", { name: "hfap-test-second-queue", sqs_managed_sse_enabled: false }, ["SQS.1"]],
    ["aws_athena_workgroup", { name: "hfap-test-second-workgroup" }, ["Athena.4", "CKV_AWS_82", "CKV_AWS_159"]],
    ["aws_kms_key", { description: "second key" }, ["KMS.4"]],
    ["aws_cloudwatch_log_group", { name: "/hfap-test/second" }, ["CKV_AWS_66"]],
    [
      "aws_iam_role",
      {
        name: "hfap-test-second-role",
        assume_role_policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "states.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
      },
      ["CKV_AWS_60/61"],
    ],
  ] as Array<[string, Attributes, string[]]>)("a second %s with defaults is reported by %j", (type, body, ids) => {
    const extended = structuredClone(stack);
    add(extended, type, "second", body);
    for (const id of ids) {
      expect([id, violationsOf(control(id), extended).some((v) => v.includes(`${type}.second`))]).toEqual([id, true]);
    }
  });
});
