/**
 * Least privilege, simulated: for every role the stack creates, requests that must be Allowed
 * and requests that must be denied, decided by @cloud-copilot/iam-simulate on the policies as
 * synthesized, with Terraform references replaced by concrete ARNs of a test account. A role
 * without a table fails, so does a table without a role, and so does any policy resource that is
 * still a `${token}` (the simulator would answer Allowed for it).
 */
import { isWildcardOnlyAction } from "@cloud-copilot/iam-simulate";
import { synthStack, TEST_CONFIG } from "../helpers/synth";
import { decide, resourcePolicyFor, rolesOf, unresolvedResources, type SimulatedRole } from "./iam-simulation";
import { listOf, parsePolicy, resolveReferences, resourcesOf, TEST_ACCOUNT, type PolicyDocument } from "./terraform";

const synthesized = synthStack();
const stack = resolveReferences(synthesized);
const roles = rolesOf(stack);

const PREFIX = TEST_CONFIG.namePrefix;
const REGION = TEST_CONFIG.region;
const BUCKET = `arn:aws:s3:::${PREFIX}-facility-data`;
const OTHER_BUCKET = "arn:aws:s3:::another-teams-bucket";
const object = (key: string) => `${BUCKET}/${key}`;
const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${TEST_ACCOUNT}:function:${PREFIX}-${name}`;
const logStream = (group: string) =>
  `arn:aws:logs:${REGION}:${TEST_ACCOUNT}:log-group:${group}:log-stream:2025/01/01/[$LATEST]0123456789abcdef`;
const workgroupArn = (name: string) => `arn:aws:athena:${REGION}:${TEST_ACCOUNT}:workgroup/${name}`;
const glueArn = (resource: string) => `arn:aws:glue:${REGION}:${TEST_ACCOUNT}:${resource}`;
const stateMachineArn = (name: string) => `arn:aws:states:${REGION}:${TEST_ACCOUNT}:stateMachine:${name}`;
const topicArn = (name: string) => `arn:aws:sns:${REGION}:${TEST_ACCOUNT}:${name}`;

const WORKGROUP = workgroupArn(`${PREFIX}-facility-pipeline`);
const STATE_MACHINE = stateMachineArn(`${PREFIX}-facility-pipeline`);
const TOPIC = topicArn(`${PREFIX}-facility-pipeline-failures`);
const COMPLIANCE_TOPIC = topicArn(`${PREFIX}-facility-pipeline-compliance`);
const DIGEST_MACHINE = stateMachineArn(`${PREFIX}-expiry-digest`);
const DIGEST_DLQ = `arn:aws:sqs:${REGION}:${TEST_ACCOUNT}:${PREFIX}-expiry-digest-dlq`;
const DLQ = `arn:aws:sqs:${REGION}:${TEST_ACCOUNT}:${PREFIX}-facility-uploads-dlq`;
/** The key the failure topic is encrypted with, as the stack wires it. */
const TOPIC_KEY = String(
  resourcesOf(stack, "aws_sns_topic").find((topic) => topic.body.name === `${PREFIX}-facility-pipeline-failures`)?.body
    .kms_master_key_id,
);
const OTHER_KEY = `arn:aws:kms:${REGION}:${TEST_ACCOUNT}:key/00000000-1111-2222-3333-444444444444`;
const FILTER_LOGS = `/aws/lambda/${PREFIX}-filter-expiring`;
const RELOCATE_LOGS = `/aws/lambda/${PREFIX}-relocate-results`;
/** databaseNameFor(TEST_CONFIG.namePrefix): the default, derived from the name prefix. */
const DATABASE = `${PREFIX.replaceAll("-", "_")}_facility_pipeline`;
const STAGED = "staging/facilities/upload.jsonl/etag=0123abcd.jsonl";

/** Requests of one row: each action on the resource ("*" for actions with no resource-level scope). */
type Row = readonly [actions: string | readonly string[], resource: string];

interface RequestTable {
  readonly allowed: readonly Row[];
  readonly denied: readonly Row[];
}

const TRACES: Row = [["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*"];
/** What every state machine role may do on "*": deliver its execution logs and write traces. */
const STATE_MACHINE_TELEMETRY: readonly Row[] = [
  [
    [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ],
    "*",
  ],
  [["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"], "*"],
];
const OWN_LOGS = (group: string): Row => [["logs:CreateLogStream", "logs:PutLogEvents"], logStream(group)];

/** Keyed by role name. Every role the stack creates must have one (see the first test). */
const TABLES: Record<string, RequestTable> = {
  [`${PREFIX}-filter-expiring-lambda`]: {
    allowed: [
      [["s3:GetObject", "s3:GetObjectVersion"], object("raw/upload.jsonl")],
      ["s3:GetObject", object("raw/2025/upload.json.gz")],
      [["s3:PutObject", "s3:AbortMultipartUpload"], object(STAGED)],
      [["s3:PutObject", "s3:AbortMultipartUpload"], object("rejected/upload.jsonl")],
      [["s3:PutObject", "s3:AbortMultipartUpload"], object("quality/upload.jsonl")],
      [["s3:PutObject", "s3:AbortMultipartUpload"], object("transformed/expiring_facilities/upload.jsonl")],
      OWN_LOGS(FILTER_LOGS),
      TRACES,
    ],
    denied: [
      ["s3:PutObject", object("raw/upload.jsonl")],
      ["s3:GetObject", object("analytics/state_counts/upload.csv")],
      ["s3:GetObject", object("athena-results/0b9c6b7e.csv")],
      ["s3:PutObject", object("analytics/state_counts/upload.csv")],
      ["s3:PutObject", object("athena-results/0b9c6b7e.csv")],
      ["s3:PutObject", object("staging/other-table/upload.jsonl")],
      [["s3:PutObject", "s3:GetObject"], object("current/facilities/data/00000-0-a.parquet")],
      [["s3:DeleteObject", "s3:DeleteObjectVersion"], object("raw/upload.jsonl")],
      ["s3:DeleteObject", object(STAGED)],
      ["s3:DeleteObject", object("rejected/upload.jsonl")],
      [["s3:DeleteObject", "s3:GetObject"], object("quality/upload.jsonl")],
      ["s3:DeleteObject", object("transformed/expiring_facilities/upload.jsonl")],
      ["s3:DeleteObject", object("analytics/state_counts/upload.csv")],
      [["s3:GetObject", "s3:PutObject"], `${OTHER_BUCKET}/raw/upload.jsonl`],
      ["s3:PutObject", `${OTHER_BUCKET}/${STAGED}`],
      [["glue:GetTable", "glue:UpdateTable"], glueArn(`table/${DATABASE}/facilities`)],
      [["s3:ListBucket", "s3:PutBucketPolicy", "s3:DeleteBucket"], BUCKET],
      ["logs:PutLogEvents", logStream(RELOCATE_LOGS)],
      ["sns:Publish", TOPIC],
      ["lambda:InvokeFunction", functionArn("relocate-results")],
      ["states:StartExecution", STATE_MACHINE],
    ],
  },
  [`${PREFIX}-relocate-results-lambda`]: {
    allowed: [
      ["s3:GetObject", object("athena-results/0b9c6b7e-5d3f-4a51-9c1e-2f0a8b7d6e5c.csv")],
      [["s3:PutObject", "s3:AbortMultipartUpload"], object("analytics/state_counts/upload.csv")],
      [["s3:PutObject", "s3:AbortMultipartUpload"], object("analytics/facility_summary/upload.csv")],
      OWN_LOGS(RELOCATE_LOGS),
      TRACES,
    ],
    denied: [
      ["s3:PutObject", object(STAGED)],
      [["s3:GetObject", "s3:PutObject"], object("raw/upload.jsonl")],
      ["s3:GetObject", object(STAGED)],
      [["s3:GetObject", "s3:PutObject"], object("current/facilities/data/00000-0-a.parquet")],
      ["s3:GetObject", object("analytics/state_counts/upload.csv")],
      ["s3:PutObject", object("athena-results/0b9c6b7e.csv")],
      ["s3:PutObject", object("rejected/upload.jsonl")],
      ["s3:DeleteObject", object("athena-results/0b9c6b7e.csv")],
      ["s3:DeleteObject", object("analytics/state_counts/upload.csv")],
      ["s3:GetObject", `${OTHER_BUCKET}/athena-results/0b9c6b7e.csv`],
      ["s3:PutObject", `${OTHER_BUCKET}/analytics/state_counts/upload.csv`],
      ["logs:PutLogEvents", logStream(FILTER_LOGS)],
      ["lambda:InvokeFunction", functionArn("filter-expiring")],
    ],
  },
  [`${PREFIX}-facility-pipeline-sfn`]: {
    allowed: [
      ["lambda:InvokeFunction", functionArn("filter-expiring")],
      ["lambda:InvokeFunction", functionArn("relocate-results")],
      [["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:StopQueryExecution"], WORKGROUP],
      ["glue:GetDatabase", glueArn("catalog")],
      ["glue:GetDatabase", glueArn(`database/${DATABASE}`)],
      [["glue:GetTable", "glue:GetPartitions"], glueArn(`table/${DATABASE}/facility_uploads`)],
      [["glue:GetTable", "glue:GetPartitions"], glueArn(`table/${DATABASE}/facilities`)],
      // An Iceberg commit (the MERGE) points the current table at its new metadata file.
      ["glue:UpdateTable", glueArn(`table/${DATABASE}/facilities`)],
      [["glue:UpdateTable"], glueArn(`database/${DATABASE}`)],
      ["glue:UpdateTable", glueArn("catalog")],
      ["s3:GetObject", object(STAGED)],
      [
        ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
        object("current/facilities/data/00000-0-a.parquet"),
      ],
      [["s3:PutObject", "s3:DeleteObject"], object("current/facilities/metadata/00001-b.metadata.json")],
      [["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], BUCKET],
      [
        ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        object("athena-results/0b9c6b7e.csv"),
      ],
      ["sns:Publish", TOPIC],
      [["kms:GenerateDataKey", "kms:Decrypt"], TOPIC_KEY],
      ...STATE_MACHINE_TELEMETRY,
    ],
    denied: [
      ["athena:StartQueryExecution", workgroupArn("primary")],
      ["athena:StartQueryExecution", workgroupArn(`${PREFIX}-another-workgroup`)],
      ["lambda:InvokeFunction", functionArn("another-function")],
      ["sns:Publish", topicArn(`${PREFIX}-another-topic`)],
      ["kms:Decrypt", OTHER_KEY],
      ["glue:GetTable", glueArn(`table/${DATABASE}/another_table`)],
      ["glue:GetTable", glueArn(`table/another_teams_db/facilities`)],
      [["glue:DeleteTable", "glue:CreateTable"], glueArn(`table/${DATABASE}/facilities`)],
      // Only the current table is written: the staging table's definition and files stay as they are.
      ["glue:UpdateTable", glueArn(`table/${DATABASE}/facility_uploads`)],
      ["glue:UpdateTable", glueArn(`table/another_teams_db/facilities`)],
      [["s3:PutObject", "s3:DeleteObject"], object(STAGED)],
      ["s3:DeleteObject", object("raw/upload.jsonl")],
      ["s3:PutObject", `${OTHER_BUCKET}/current/facilities/data/00000-0-a.parquet`],
      ["s3:GetObject", object("raw/upload.jsonl")],
      ["s3:GetObject", object("rejected/upload.jsonl")],
      ["s3:PutObject", object("analytics/state_counts/upload.csv")],
      ["s3:DeleteObject", object("athena-results/0b9c6b7e.csv")],
      ["s3:GetObject", `${OTHER_BUCKET}/athena-results/0b9c6b7e.csv`],
      ["s3:ListBucket", OTHER_BUCKET],
      ["states:StartExecution", STATE_MACHINE],
    ],
  },
  [`${PREFIX}-expiry-digest-sfn`]: {
    allowed: [
      ["lambda:InvokeFunction", functionArn("relocate-results")],
      [["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:StopQueryExecution"], WORKGROUP],
      ["glue:GetDatabase", glueArn("catalog")],
      ["glue:GetDatabase", glueArn(`database/${DATABASE}`)],
      [["glue:GetTable", "glue:GetPartitions"], glueArn(`table/${DATABASE}/facilities`)],
      // OPTIMIZE and VACUUM commit to the current table, and VACUUM deletes what no snapshot needs.
      ["glue:UpdateTable", glueArn(`table/${DATABASE}/facilities`)],
      ["glue:UpdateTable", glueArn(`database/${DATABASE}`)],
      ["glue:UpdateTable", glueArn("catalog")],
      [
        ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
        object("current/facilities/data/00000-0-a.parquet"),
      ],
      [["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], BUCKET],
      [
        ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        object("athena-results/0b9c6b7e.csv"),
      ],
      // Is a pipeline execution (a MERGE) running? Upkeep waits for it.
      ["states:ListExecutions", STATE_MACHINE],
      ["sns:Publish", COMPLIANCE_TOPIC],
      ["sns:Publish", TOPIC],
      [["kms:GenerateDataKey", "kms:Decrypt"], TOPIC_KEY],
      ...STATE_MACHINE_TELEMETRY,
    ],
    denied: [
      // The digest reads the current state, not the uploads or their staging.
      [["glue:GetTable", "glue:UpdateTable"], glueArn(`table/${DATABASE}/facility_uploads`)],
      ["s3:GetObject", object(STAGED)],
      ["s3:GetObject", object("raw/upload.jsonl")],
      ["s3:DeleteObject", object("raw/upload.jsonl")],
      ["s3:DeleteObject", object("athena-results/0b9c6b7e.csv")],
      ["s3:PutObject", object("analytics/expiry_digest/latest.csv")],
      ["s3:DeleteObject", `${OTHER_BUCKET}/current/facilities/data/00000-0-a.parquet`],
      [["glue:DeleteTable", "glue:CreateTable"], glueArn(`table/${DATABASE}/facilities`)],
      ["glue:UpdateTable", glueArn(`table/another_teams_db/facilities`)],
      ["athena:StartQueryExecution", workgroupArn("primary")],
      ["lambda:InvokeFunction", functionArn("filter-expiring")],
      ["states:ListExecutions", stateMachineArn(`${PREFIX}-another-pipeline`)],
      ["states:StartExecution", STATE_MACHINE],
      ["states:StopExecution", `arn:aws:states:${REGION}:${TEST_ACCOUNT}:execution:${PREFIX}-facility-pipeline:run-1`],
      ["states:StartExecution", DIGEST_MACHINE],
      ["sns:Publish", topicArn(`${PREFIX}-another-topic`)],
      ["kms:Decrypt", OTHER_KEY],
    ],
  },
  [`${PREFIX}-expiry-digest-scheduler`]: {
    allowed: [
      ["states:StartExecution", DIGEST_MACHINE],
      ["sqs:SendMessage", DIGEST_DLQ],
    ],
    denied: [
      ["states:StartExecution", STATE_MACHINE],
      ["states:StartExecution", stateMachineArn(`${PREFIX}-another-digest`)],
      ["states:StartSyncExecution", DIGEST_MACHINE],
      ["states:StopExecution", `arn:aws:states:${REGION}:${TEST_ACCOUNT}:execution:${PREFIX}-expiry-digest:run-1`],
      ["sqs:SendMessage", DLQ],
      [["sqs:ReceiveMessage", "sqs:DeleteMessage"], DIGEST_DLQ],
      ["lambda:InvokeFunction", functionArn("relocate-results")],
      ["sns:Publish", COMPLIANCE_TOPIC],
    ],
  },
  [`${PREFIX}-facility-uploads-events`]: {
    allowed: [["states:StartExecution", STATE_MACHINE]],
    denied: [
      ["states:StartExecution", stateMachineArn(`${PREFIX}-another-pipeline`)],
      ["states:StartSyncExecution", STATE_MACHINE],
      ["states:StopExecution", `arn:aws:states:${REGION}:${TEST_ACCOUNT}:execution:${PREFIX}-facility-pipeline:run-1`],
      ["lambda:InvokeFunction", functionArn("filter-expiring")],
      ["sqs:SendMessage", DLQ],
      ["s3:GetObject", object("raw/upload.jsonl")],
    ],
  },
};

function requestsOf(rows: readonly Row[]): Array<[action: string, resource: string]> {
  return rows.flatMap(([actions, resource]) => listOf(actions).map((action) => [action, resource] as [string, string]));
}

function roleNamed(name: string): SimulatedRole {
  const role = roles.find((candidate) => candidate.name === name);
  if (!role) throw new Error(`the stack creates no role ${name}`);
  // The simulator matches anything against a `${token}` resource: refuse to simulate such a role.
  const unresolved = role.identityPolicies.flatMap(({ name: policy, policy: document }) =>
    unresolvedResources(document).map((resource) => `${policy}: ${resource}`),
  );
  if (unresolved.length > 0)
    throw new Error(`${name} holds resources that are not concrete ARNs: ${unresolved.join(", ")}`);
  return role;
}

describe("least privilege, simulated", () => {
  test("every role the stack creates has a request table, and every table a role", () => {
    expect(roles.map((role) => role.name).sort()).toEqual(Object.keys(TABLES).sort());
  });

  test("every resource in every role's policies, and in the resource policies, is a concrete ARN or *", () => {
    for (const role of roles) {
      for (const { name, policy } of role.identityPolicies) {
        expect([role.name, name, unresolvedResources(policy)]).toEqual([role.name, name, []]);
      }
    }
    for (const arn of [BUCKET, TOPIC, TOPIC_KEY, DLQ]) {
      const policy = resourcePolicyFor(stack, arn);
      expect([arn, policy && unresolvedResources(policy)]).toEqual([arn, []]);
    }
  });

  test("the check above catches the references left in the synthesized policies", () => {
    const raw = Object.values(synthesized.resource.aws_iam_role_policy ?? {}).map(
      (policy) => parsePolicy(policy.policy) as PolicyDocument,
    );
    expect(raw.length).toBeGreaterThan(0);
    for (const document of raw) expect(unresolvedResources(document)).not.toEqual([]);
  });

  test('Resource "*" is granted only for actions that support no resource-level permissions', async () => {
    const broad: string[] = [];
    for (const role of roles) {
      for (const { policy } of role.identityPolicies) {
        for (const statement of policy.Statement) {
          if (statement.Effect !== "Allow" || !listOf(statement.Resource).includes("*")) continue;
          for (const action of listOf(statement.Action)) {
            const [service, name] = action.split(":");
            const wildcardOnly = !action.includes("*") && (await isWildcardOnlyAction(service, name));
            if (!wildcardOnly) broad.push(`${role.name} ${statement.Sid ?? ""}: ${action} on "*"`);
          }
        }
      }
    }
    expect(broad).toEqual([]);
  });

  describe.each(Object.entries(TABLES))("%s", (roleName, table) => {
    test.each(requestsOf(table.allowed))("allows %s on %s", async (action, resource) => {
      expect(await decide(stack, roleNamed(roleName), { action, resource })).toBe("Allowed");
    });

    test.each(requestsOf(table.denied))("denies %s on %s", async (action, resource) => {
      expect(await decide(stack, roleNamed(roleName), { action, resource })).toMatch(/^(Implicitly|Explicitly)Denied$/);
    });

    test("every action its policies allow is exercised by an allowed request", () => {
      const granted = roleNamed(roleName).identityPolicies.flatMap(({ policy }) =>
        policy.Statement.filter((statement) => statement.Effect === "Allow").flatMap((s) => listOf(s.Action)),
      );
      const exercised = new Set(requestsOf(table.allowed).map(([action]) => action));
      expect([...new Set(granted)].filter((action) => !exercised.has(action))).toEqual([]);
    });
  });

  test("a request to the bucket not sent over TLS is explicitly denied, whatever the role may do", async () => {
    const role = roleNamed(`${PREFIX}-filter-expiring-lambda`);
    const plainHttp = { "aws:SecureTransport": "false" };
    expect(await decide(stack, role, { action: "s3:GetObject", resource: object("raw/upload.jsonl") })).toBe("Allowed");
    expect(
      await decide(stack, role, { action: "s3:GetObject", resource: object("raw/upload.jsonl"), context: plainHttp }),
    ).toBe("ExplicitlyDenied");
  });
});
