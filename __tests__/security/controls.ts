/**
 * The security controls the stack must meet, each as a function from the synthesized Terraform
 * (references resolved, see terraform.ts) to its violations. Every check walks ALL resources of
 * the types it governs, so a second bucket, function or role added later is covered without a
 * change here.
 *
 * Sources: AWS Security Hub Foundational Security Best Practices (FSBP) control ids, checkov
 * check ids (bridgecrewio/checkov, checkov/terraform/checks/resource/aws/), and project rules.
 */
import type { SynthesizedStack } from "../helpers/synth";
import {
  attributeOf,
  awsProviders,
  block,
  blocks,
  listOf,
  parsePolicy,
  resourcesOf,
  TEST_ACCOUNT,
  type Attributes,
  type PolicyStatement,
  type TerraformResource,
} from "./terraform";

export interface Control {
  /** The Security Hub or checkov id, or a project name; the test is named after it. */
  readonly id: string;
  /** What holds when the control is met, in one line. */
  readonly title: string;
  /**
   * A resource type the stack must hold at least one of, or the check would pass having checked
   * nothing (see violationsOf).
   */
  readonly mustExist?: string;
  /** Every violation, as "address: what is wrong"; empty when the control is met. */
  violations(stack: SynthesizedStack): string[];
}

/** A control's violations, plus one if the stack holds none of the resources it must check. */
export function violationsOf(control: Control, stack: SynthesizedStack): string[] {
  const nothingChecked =
    control.mustExist !== undefined && resourcesOf(stack, control.mustExist).length === 0
      ? [`no ${control.mustExist} in the stack: nothing was checked`]
      : [];
  return [...nothingChecked, ...control.violations(stack)];
}

/** The oldest Node.js major Lambda.2 accepts here: the runtime DESIGN.md chose (nodejs22.x). */
export const MIN_NODE_RUNTIME = 22;

/** Service principals whose trust statements must name the account and the resource. */
export const CONFUSED_DEPUTY_GUARDED_SERVICES = ["states.amazonaws.com", "events.amazonaws.com"] as const;

/** Identity policy arguments: [resource type, argument]. */
const IDENTITY_POLICIES: ReadonlyArray<readonly [string, string]> = [
  ["aws_iam_role_policy", "policy"],
  ["aws_iam_policy", "policy"],
  ["aws_iam_user_policy", "policy"],
  ["aws_iam_group_policy", "policy"],
];

/** Arguments holding a policy that are not resource policies: identity and trust policies. */
const NOT_RESOURCE_POLICY = new Set([...IDENTITY_POLICIES.map(([type]) => type), "aws_iam_role"]);

/** The configuration resources of one type that apply to a bucket (by name, as resolved). */
function bucketSettings(stack: SynthesizedStack, type: string, bucket: TerraformResource): TerraformResource[] {
  return resourcesOf(stack, type).filter((setting) => setting.body.bucket === bucket.body.bucket);
}

/** One violation per bucket that lacks a setting, or has more than one (only one applies). */
function perBucket(
  stack: SynthesizedStack,
  settingType: string,
  check: (setting: Attributes, bucket: TerraformResource) => string | undefined,
): string[] {
  return resourcesOf(stack, "aws_s3_bucket").flatMap((bucket) => {
    const settings = bucketSettings(stack, settingType, bucket);
    if (settings.length === 0) return [`${bucket.address}: no ${settingType}`];
    if (settings.length > 1) return [`${bucket.address}: ${settings.length} ${settingType} (only one applies)`];
    const problem = check(settings[0].body, bucket);
    return problem ? [`${settings[0].address}: ${problem}`] : [];
  });
}

/** A control over every resource of one type, one check per resource. */
function perResource(
  control: Omit<Control, "violations"> & { readonly type: string },
  check: (body: Attributes, resource: TerraformResource, stack: SynthesizedStack) => string | string[] | undefined,
): Control {
  const { type, ...rest } = control;
  return {
    ...rest,
    violations: (stack) =>
      resourcesOf(stack, type).flatMap((resource) =>
        listOf(check(resource.body, resource, stack)).map((problem) => `${resource.address}: ${problem}`),
      ),
  };
}

function isWildcardAction(action: string): boolean {
  return action === "*" || /^[^:]+:\*$/.test(action);
}

function principalIsEveryone(principal: PolicyStatement["Principal"]): boolean {
  if (principal === "*") return true;
  if (principal && typeof principal === "object") return listOf(principal.AWS).includes("*");
  return false;
}

/** Values of one condition key under any of the operators given. */
/** What an Allow statement grants too broadly: service-wide actions, or everything but a list. */
function broadAllows(where: string, statement: PolicyStatement): string[] {
  const label = `${where} ${statement.Sid ?? "(no Sid)"}`;
  return [
    ...listOf(statement.Action)
      .filter(isWildcardAction)
      .map((action) => `${label}: allows ${action}`),
    ...(statement.NotAction !== undefined ? [`${label}: Allow with NotAction`] : []),
  ];
}

function conditionValues(statement: PolicyStatement, operators: readonly string[], key: string): string[] {
  return operators.flatMap((operator) => listOf(statement.Condition?.[operator]?.[key]));
}

/** Every statement of every policy argument of the given kind, with where it comes from. */
function policyStatements(
  stack: SynthesizedStack,
  kind: "identity" | "resource",
): Array<{ where: string; statement?: PolicyStatement; unreadable?: boolean }> {
  const found: Array<{ where: string; statement?: PolicyStatement; unreadable?: boolean }> = [];
  const add = (where: string, value: unknown) => {
    const document = parsePolicy(value);
    if (!document) found.push({ where, unreadable: true });
    else for (const statement of document.Statement) found.push({ where, statement });
  };
  if (kind === "identity") {
    for (const [type, argument] of IDENTITY_POLICIES) {
      for (const resource of resourcesOf(stack, type)) add(resource.address, resource.body[argument]);
    }
    for (const role of resourcesOf(stack, "aws_iam_role")) {
      blocks(role.body.inline_policy).forEach((inline, index) =>
        add(`${role.address}.inline_policy[${index}]`, inline.policy),
      );
    }
  } else {
    for (const [type, byName] of Object.entries(stack.resource)) {
      if (NOT_RESOURCE_POLICY.has(type)) continue;
      for (const [name, body] of Object.entries(byName)) {
        for (const argument of ["policy", "policy_document", "access_policies"]) {
          if (body[argument] !== undefined) add(`${type}.${name}.${argument}`, body[argument]);
        }
      }
    }
  }
  return found;
}

function alarmTopicArns(stack: SynthesizedStack): Set<string> {
  return new Set(
    resourcesOf(stack, "aws_cloudwatch_metric_alarm").flatMap((alarm) => [
      ...listOf(alarm.body.alarm_actions),
      ...listOf(alarm.body.ok_actions),
      ...listOf(alarm.body.insufficient_data_actions),
    ]),
  );
}

function arnsOf(stack: SynthesizedStack, type: string): string[] {
  return resourcesOf(stack, type)
    .map((resource) => attributeOf(stack, resource, "arn"))
    .filter((arn): arn is string => arn !== undefined);
}

/** The ARNs a role's trust statement must name as aws:SourceArn: the resources that use the role. */
function resourcesUsingRole(stack: SynthesizedStack, service: string, roleArn: string | undefined): string[] {
  if (service === "states.amazonaws.com") {
    return resourcesOf(stack, "aws_sfn_state_machine")
      .filter((machine) => machine.body.role_arn === roleArn)
      .map((machine) => attributeOf(stack, machine, "arn")!);
  }
  if (service === "events.amazonaws.com") {
    const ruleNames = new Set(
      resourcesOf(stack, "aws_cloudwatch_event_target")
        .filter((target) => target.body.role_arn === roleArn)
        .map((target) => target.body.rule),
    );
    return resourcesOf(stack, "aws_cloudwatch_event_rule")
      .filter((rule) => ruleNames.has(rule.body.name))
      .map((rule) => attributeOf(stack, rule, "arn")!);
  }
  return [];
}

const LOG_LEVELS = ["ALL", "ERROR", "FATAL"];
const RESULT_ENCRYPTION = ["SSE_S3", "SSE_KMS", "CSE_KMS"];

export const CONTROLS: readonly Control[] = [
  {
    id: "S3.5",
    title: "every bucket's policy denies requests not sent over TLS, to the bucket and to its objects",
    mustExist: "aws_s3_bucket",
    violations: (stack) =>
      perBucket(stack, "aws_s3_bucket_policy", (setting, bucket) => {
        const arn = attributeOf(stack, bucket, "arn");
        const document = parsePolicy(setting.policy);
        if (!document) return "policy is not literal JSON";
        const deniesPlainHttp = document.Statement.some(
          (statement) =>
            statement.Effect === "Deny" &&
            principalIsEveryone(statement.Principal) &&
            listOf(statement.Action).some((action) => action === "s3:*" || action === "*") &&
            listOf(statement.Resource).includes(arn!) &&
            listOf(statement.Resource).includes(`${arn}/*`) &&
            conditionValues(statement, ["Bool"], "aws:SecureTransport").includes("false"),
        );
        return deniesPlainHttp
          ? undefined
          : `no Deny of s3:* to Principal "*" on ${arn} and ${arn}/* when aws:SecureTransport is false`;
      }),
  },
  {
    id: "S3.8",
    title: "every bucket blocks public access with all four settings",
    mustExist: "aws_s3_bucket",
    violations: (stack) =>
      perBucket(stack, "aws_s3_bucket_public_access_block", (setting) => {
        const off = [
          "block_public_acls",
          "block_public_policy",
          "ignore_public_acls",
          "restrict_public_buckets",
        ].filter((flag) => setting[flag] !== true);
        return off.length > 0 ? `not true: ${off.join(", ")}` : undefined;
      }),
  },
  {
    id: "S3.12",
    title: "every bucket disables ACLs (object ownership BucketOwnerEnforced) and grants none",
    mustExist: "aws_s3_bucket",
    violations: (stack) => [
      ...perBucket(stack, "aws_s3_bucket_ownership_controls", (setting) => {
        const ownership = block(setting.rule)?.object_ownership;
        return ownership === "BucketOwnerEnforced" ? undefined : `object_ownership is ${String(ownership)}`;
      }),
      ...resourcesOf(stack, "aws_s3_bucket_acl").map((acl) => `${acl.address}: an ACL is set`),
      ...resourcesOf(stack, "aws_s3_bucket")
        .filter((bucket) => bucket.body.acl !== undefined || bucket.body.grant !== undefined)
        .map((bucket) => `${bucket.address}: sets acl or grant`),
    ],
  },
  {
    id: "S3.13",
    title: "every bucket has a lifecycle configuration with an enabled rule",
    mustExist: "aws_s3_bucket",
    violations: (stack) =>
      perBucket(stack, "aws_s3_bucket_lifecycle_configuration", (setting) =>
        blocks(setting.rule).some((rule) => rule.status === "Enabled") ? undefined : "no rule is Enabled",
      ),
  },
  {
    id: "S3.14",
    title: "every bucket has versioning enabled",
    mustExist: "aws_s3_bucket",
    violations: (stack) =>
      perBucket(stack, "aws_s3_bucket_versioning", (setting) => {
        const status = block(setting.versioning_configuration)?.status;
        return status === "Enabled" ? undefined : `versioning status is ${String(status)}`;
      }),
  },
  {
    id: "S3.11",
    title: "every bucket sends event notifications (to EventBridge, or to a queue, topic or function)",
    mustExist: "aws_s3_bucket",
    violations: (stack) =>
      perBucket(stack, "aws_s3_bucket_notification", (setting) =>
        setting.eventbridge === true ||
        ["lambda_function", "queue", "topic"].some((kind) => blocks(setting[kind]).length > 0)
          ? undefined
          : "no destination: eventbridge is off and no queue, topic or function is configured",
      ),
  },
  {
    id: "CKV_AWS_300",
    title: "every bucket aborts incomplete multipart uploads, in an enabled rule with an empty filter",
    mustExist: "aws_s3_bucket",
    violations: (stack) =>
      perBucket(stack, "aws_s3_bucket_lifecycle_configuration", (setting) => {
        const appliesToEverything = (rule: Attributes) =>
          (rule.prefix === undefined || rule.prefix === "") &&
          blocks(rule.filter).every((filter) =>
            Object.entries(filter).every(([key, value]) => key === "prefix" && value === ""),
          );
        const aborts = blocks(setting.rule).some((rule) => {
          const days = block(rule.abort_incomplete_multipart_upload)?.days_after_initiation;
          return rule.status === "Enabled" && typeof days === "number" && days >= 1 && appliesToEverything(rule);
        });
        return aborts ? undefined : "no Enabled rule with an empty filter sets abort_incomplete_multipart_upload";
      }),
  },
  perResource(
    {
      id: "Lambda.1",
      title: 'no function policy is public: no principal "*", and every grant names its source ARN',
      type: "aws_lambda_permission",
    },
    (permission) => {
      const principal = String(permission.principal);
      return [
        ...(principal.includes("*") ? [`principal is ${principal}`] : []),
        ...(typeof permission.source_arn === "string" && permission.source_arn !== "" ? [] : ["no source_arn"]),
        ...(principal === "s3.amazonaws.com" && !permission.source_account
          ? ["s3.amazonaws.com without source_account"]
          : []),
      ];
    },
  ),
  perResource(
    {
      id: "Lambda.1 (function URLs)",
      title: "every function URL requires IAM authorization",
      type: "aws_lambda_function_url",
    },
    (url) =>
      url.authorization_type === "AWS_IAM" ? undefined : `authorization_type is ${String(url.authorization_type)}`,
  ),
  perResource(
    {
      id: "Lambda.2",
      title: `every function runs on a supported runtime: nodejs${MIN_NODE_RUNTIME}.x or newer`,
      type: "aws_lambda_function",
      mustExist: "aws_lambda_function",
    },
    (fn) => {
      const major = /^nodejs(\d+)\.x$/.exec(String(fn.runtime))?.[1];
      return major !== undefined && Number(major) >= MIN_NODE_RUNTIME ? undefined : `runtime is ${String(fn.runtime)}`;
    },
  ),
  perResource(
    {
      id: "StepFunctions.1",
      title: "every state machine logs (level ALL, ERROR or FATAL) to a log group of this stack",
      type: "aws_sfn_state_machine",
      mustExist: "aws_sfn_state_machine",
    },
    (machine, _resource, stack) => {
      const logging = block(machine.logging_configuration);
      const destinations = new Set(arnsOf(stack, "aws_cloudwatch_log_group").map((arn) => `${arn}:*`));
      return [
        ...(LOG_LEVELS.includes(String(logging?.level)) ? [] : [`logging level is ${String(logging?.level)}`]),
        ...(destinations.has(String(logging?.log_destination))
          ? []
          : [`log_destination ${String(logging?.log_destination)} is not a log group of this stack`]),
      ];
    },
  ),
  perResource(
    {
      id: "SNS.1",
      title: "every topic is encrypted with KMS, and not with the AWS managed key if alarms notify it",
      type: "aws_sns_topic",
      mustExist: "aws_sns_topic",
    },
    (topic, resource, stack) => {
      const key = topic.kms_master_key_id;
      if (typeof key !== "string" || key === "") return "no kms_master_key_id";
      const notifiedByAlarms = alarmTopicArns(stack).has(attributeOf(stack, resource, "arn") ?? "");
      // The AWS managed key's policy cannot let CloudWatch use it: alarm notifications would be dropped.
      return notifiedByAlarms && key === "alias/aws/sns"
        ? "alarms notify this topic, but the AWS managed key alias/aws/sns cannot be used by CloudWatch"
        : undefined;
    },
  ),
  perResource(
    { id: "SQS.1", title: "every queue is encrypted at rest", type: "aws_sqs_queue", mustExist: "aws_sqs_queue" },
    (queue) =>
      queue.sqs_managed_sse_enabled === true || (typeof queue.kms_master_key_id === "string" && queue.kms_master_key_id)
        ? undefined
        : "neither sqs_managed_sse_enabled nor kms_master_key_id",
  ),
  perResource(
    {
      id: "Athena.4",
      title: "every workgroup publishes its metrics to CloudWatch",
      type: "aws_athena_workgroup",
      mustExist: "aws_athena_workgroup",
    },
    (workgroup) =>
      block(workgroup.configuration)?.publish_cloudwatch_metrics_enabled === true
        ? undefined
        : "publish_cloudwatch_metrics_enabled is not true",
  ),
  perResource(
    {
      id: "KMS.4",
      title: "every symmetric customer managed key rotates",
      type: "aws_kms_key",
    },
    (key) => {
      // Only symmetric encryption keys support automatic rotation; KMS.4 evaluates only those.
      const spec = key.key_spec ?? key.customer_master_key_spec ?? "SYMMETRIC_DEFAULT";
      return spec === "SYMMETRIC_DEFAULT" && key.enable_key_rotation !== true
        ? "enable_key_rotation is not true"
        : undefined;
    },
  ),
  {
    id: "IAM.1/IAM.21",
    title: 'no identity policy allows "*" or "service:*" actions, or uses Allow with NotAction',
    mustExist: "aws_iam_role_policy",
    violations: (stack) =>
      policyStatements(stack, "identity").flatMap(({ where, statement, unreadable }) => {
        if (unreadable || !statement) return [`${where}: policy is not literal JSON`];
        return statement.Effect === "Allow" ? broadAllows(where, statement) : [];
      }),
  },
  {
    id: "IAM.1/IAM.21 (resource policies)",
    title: 'resource policies use "service:*" only to Deny, and Allow nothing to Principal "*" unconditionally',
    mustExist: "aws_s3_bucket_policy",
    violations: (stack) =>
      policyStatements(stack, "resource").flatMap(({ where, statement, unreadable }) => {
        if (unreadable || !statement) return [`${where}: policy is not literal JSON`];
        // A Deny of "s3:*" narrows access (the TLS deny): wildcards are what a Deny should use.
        if (statement.Effect !== "Allow") return [];
        return [
          ...broadAllows(where, statement),
          ...(principalIsEveryone(statement.Principal) && statement.Condition === undefined
            ? [`${where} ${statement.Sid ?? "(no Sid)"}: allows Principal "*" without a condition`]
            : []),
        ];
      }),
  },
  perResource(
    {
      id: "CKV_AWS_82",
      title: "every workgroup enforces its configuration (clients cannot turn off result encryption)",
      type: "aws_athena_workgroup",
      mustExist: "aws_athena_workgroup",
    },
    (workgroup) =>
      block(workgroup.configuration)?.enforce_workgroup_configuration === true
        ? undefined
        : "enforce_workgroup_configuration is not true",
  ),
  perResource(
    {
      id: "CKV_AWS_159",
      title: "every workgroup encrypts query results",
      type: "aws_athena_workgroup",
      mustExist: "aws_athena_workgroup",
    },
    (workgroup) => {
      const option = block(
        block(block(workgroup.configuration)?.result_configuration)?.encryption_configuration,
      )?.encryption_option;
      return RESULT_ENCRYPTION.includes(String(option)) ? undefined : `result encryption_option is ${String(option)}`;
    },
  ),
  perResource(
    {
      id: "CKV_AWS_50",
      title: "every function traces with X-Ray (mode Active)",
      type: "aws_lambda_function",
      mustExist: "aws_lambda_function",
    },
    (fn) => {
      const mode = block(fn.tracing_config)?.mode;
      return mode === "Active" ? undefined : `tracing mode is ${String(mode)}`;
    },
  ),
  perResource(
    {
      id: "CKV_AWS_284",
      title: "every state machine traces with X-Ray",
      type: "aws_sfn_state_machine",
      mustExist: "aws_sfn_state_machine",
    },
    (machine) => (block(machine.tracing_configuration)?.enabled === true ? undefined : "tracing is not enabled"),
  ),
  perResource(
    {
      id: "CKV_AWS_285",
      title: "every state machine's log includes execution data (execution history)",
      type: "aws_sfn_state_machine",
      mustExist: "aws_sfn_state_machine",
    },
    (machine) =>
      block(machine.logging_configuration)?.include_execution_data === true
        ? undefined
        : "include_execution_data is not true",
  ),
  {
    id: "CKV_AWS_66",
    title: "every log group sets a retention, and every function logs to a log group of this stack",
    mustExist: "aws_cloudwatch_log_group",
    violations(stack) {
      const groups = resourcesOf(stack, "aws_cloudwatch_log_group");
      const groupNames = new Set(groups.map((group) => group.body.name));
      return [
        ...groups
          .filter((group) => !(typeof group.body.retention_in_days === "number" && group.body.retention_in_days > 0))
          .map((group) => `${group.address}: no retention_in_days`),
        // A function without its own log group writes to one Lambda creates, which never expires.
        ...resourcesOf(stack, "aws_lambda_function")
          .filter((fn) => {
            const logGroup = block(fn.body.logging_config)?.log_group ?? `/aws/lambda/${String(fn.body.function_name)}`;
            return !groupNames.has(logGroup);
          })
          .map((fn) => `${fn.address}: logs to a log group this stack does not create`),
      ];
    },
  },
  perResource(
    {
      id: "CKV_AWS_115",
      title: "every function has reserved concurrency",
      type: "aws_lambda_function",
      mustExist: "aws_lambda_function",
    },
    (fn) => {
      const reserved = fn.reserved_concurrent_executions;
      return typeof reserved === "number" && reserved >= 1
        ? undefined
        : `reserved_concurrent_executions is ${String(reserved)}`;
    },
  ),
  perResource(
    {
      id: "CKV_AWS_60/61",
      title:
        "every role trusts service principals only; the Step Functions and EventBridge roles also name the account and their resource",
      type: "aws_iam_role",
      mustExist: "aws_iam_role",
    },
    (role, resource, stack) => {
      const trust = parsePolicy(role.assume_role_policy);
      if (!trust) return "assume_role_policy is not literal JSON";
      const roleArn = attributeOf(stack, resource, "arn");
      return trust.Statement.flatMap((statement, index) => {
        const label = `trust statement ${statement.Sid ?? index}`;
        if (statement.Effect !== "Allow") return [];
        const principal = statement.Principal;
        const kinds = principal && typeof principal === "object" ? Object.keys(principal) : [String(principal)];
        const services = principal && typeof principal === "object" ? listOf(principal.Service) : [];
        const problems = [
          ...kinds.filter((kind) => kind !== "Service").map((kind) => `${label}: trusts a ${kind} principal`),
          ...services
            .filter((service) => !/^[a-z0-9.-]+\.amazonaws\.com$/.test(service))
            .map((s) => `${label}: trusts ${s}`),
          ...(statement.NotPrincipal !== undefined ? [`${label}: uses NotPrincipal`] : []),
          ...listOf(statement.Action)
            .filter((action) => action !== "sts:AssumeRole")
            .map((action) => `${label}: allows ${action}`),
        ];
        for (const service of services.filter((s) =>
          (CONFUSED_DEPUTY_GUARDED_SERVICES as readonly string[]).includes(s),
        )) {
          const accounts = conditionValues(statement, ["StringEquals"], "aws:SourceAccount");
          if (accounts.length !== 1 || accounts[0] !== TEST_ACCOUNT) {
            problems.push(`${label}: ${service} without StringEquals aws:SourceAccount = the stack's account`);
          }
          const expected = resourcesUsingRole(stack, service, roleArn);
          const named = conditionValues(
            statement,
            ["ArnEquals", "ArnLike", "StringEquals", "StringLike"],
            "aws:SourceArn",
          );
          if (expected.length === 0) problems.push(`${label}: no ${service} resource of this stack uses the role`);
          else if (named.length === 0 || named.some((arn) => !expected.includes(arn))) {
            problems.push(
              `${label}: aws:SourceArn is ${JSON.stringify(named)}, expected one of ${JSON.stringify(expected)}`,
            );
          }
        }
        return problems;
      });
    },
  ),
  {
    id: "Tagging",
    title: "every aws provider applies default_tags, so every taggable resource is tagged",
    violations: (stack) => {
      const providers = awsProviders(stack);
      if (providers.length === 0) return ["no aws provider"];
      return providers.flatMap((provider, index) => {
        const tags = block(provider.default_tags)?.tags;
        return tags && typeof tags === "object" && Object.keys(tags).length > 0
          ? []
          : [`provider aws[${index}]: no default_tags`];
      });
    },
  },
];

/** The control with this id; throws for an unknown id so a typo in a test cannot pass. */
export function control(id: string): Control {
  const found = CONTROLS.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no control ${id}`);
  return found;
}
