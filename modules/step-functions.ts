/**
 * What both workflows (orchestration.ts, expiry-digest.ts) are made of: a STANDARD state machine
 * with its log group (errors with execution data), X-Ray tracing and a role that
 * states.amazonaws.com may assume for this state machine only; and the encrypted, TLS-only
 * dead-letter queue of the service that starts it.
 */
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { SfnStateMachine } from "@cdktf/provider-aws/lib/sfn-state-machine";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import { Token } from "cdktf";
import type { Construct } from "constructs";
import type { StateMachineDefinition } from "../core/asl";
import { LOG_RETENTION_DAYS } from "../core/settings";
import { queueEncryption } from "./byo";
import { ServiceRole } from "./iam";
import { policyDocument, renderPolicy, type PolicyStatement } from "./policy-document";
import type { Compute } from "./compute";
import type { FailureTopic } from "./notifications";
import { STEP_FUNCTIONS_TELEMETRY, type WorkflowScope } from "./workflow-permissions";

/** What each workflow (orchestration.ts, expiry-digest.ts) is given by FacilityPipeline. */
export interface WorkflowProps extends WorkflowScope {
  readonly namePrefix: string;
  readonly compute: Compute;
  readonly failureTopic: FailureTopic;
  /** @default 90 (LOG_RETENTION_DAYS in core/settings.ts) */
  readonly logRetentionDays?: number;
  /**
   * Key for the log groups and the dead-letter queues. Its policy must let
   * logs.<region>.amazonaws.com and sqs use it.
   * @default - CloudWatch Logs' own encryption and SSE-SQS
   */
  readonly kmsKeyArn?: string;
  /** @default - no permissions boundary */
  readonly permissionsBoundary?: string;
  /** @default "/" */
  readonly rolePath?: string;
  /**
   * The expiry window of an execution whose input gives none (a number token for the plain
   * module's variable).
   * @default 6 (EXPIRY_WINDOW_MONTHS in core/settings.ts)
   */
  readonly expiryWindowMonths?: number;
}

/** A number or boolean for a placeholder: a Terraform variable's token becomes a string token, not the number it encodes. */
export function placeholderValue(value: number | boolean): string {
  return Token.isUnresolved(value) ? Token.asString(value) : String(value);
}

export interface WorkflowStateMachineProps {
  /** The state machine's full name, e.g. `<namePrefix>-facility-pipeline`. */
  readonly name: string;
  /** The rendered, validated definition (core/asl.ts renderAndValidate). */
  readonly definition: StateMachineDefinition;
  /**
   * The role's permissions (modules/workflow-permissions.ts has the shared ones); log delivery and
   * tracing are added here.
   */
  readonly permissions: readonly PolicyStatement[];
  /** The AWS account, region and partition the stack deploys to. */
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  /** @default 90 (LOG_RETENTION_DAYS) */
  readonly logRetentionDays?: number;
  /** Key for the log group. @default - CloudWatch Logs' own encryption */
  readonly kmsKeyArn?: string;
  readonly permissionsBoundary?: string;
  readonly rolePath?: string;
}

/** The state machine, its log group (`log-group`) and role (`role`), created in `scope`. */
export function workflowStateMachine(
  scope: Construct,
  props: WorkflowStateMachineProps,
): { stateMachine: SfnStateMachine; role: ServiceRole } {
  const arn = `arn:${props.partition}:states:${props.region}:${props.accountId}:stateMachine:${props.name}`;
  const logGroup = new CloudwatchLogGroup(scope, "log-group", {
    name: `/aws/vendedlogs/states/${props.name}`,
    retentionInDays: props.logRetentionDays ?? LOG_RETENTION_DAYS.default,
    kmsKeyId: props.kmsKeyArn,
  });
  const role = new ServiceRole(scope, "role", {
    name: `${props.name}-sfn`,
    description: `Runs the ${props.name} state machine`,
    servicePrincipal: "states.amazonaws.com",
    permissionsBoundary: props.permissionsBoundary,
    path: props.rolePath,
    trustConditions: {
      StringEquals: { "aws:SourceAccount": props.accountId },
      ArnLike: { "aws:SourceArn": arn },
    },
    permissions: [...props.permissions, ...STEP_FUNCTIONS_TELEMETRY],
  });
  const stateMachine = new SfnStateMachine(scope, "state-machine", {
    name: props.name,
    type: "STANDARD",
    roleArn: role.roleArn,
    definition: JSON.stringify(props.definition),
    loggingConfiguration: { logDestination: `${logGroup.arn}:*`, includeExecutionData: true, level: "ERROR" },
    tracingConfiguration: { enabled: true },
  });
  return { stateMachine, role };
}

/**
 * A dead-letter queue (`id`, and `<id>-policy`) kept 14 days, encrypted with the key or SSE-SQS,
 * refusing anything not sent over TLS. `allow` grants what may send to it (by ARN, so known only
 * once the queue exists).
 */
export function deadLetterQueue(
  scope: Construct,
  id: string,
  props: {
    readonly name: string;
    readonly kmsKeyArn?: string;
    readonly allow?: (queueArn: string) => PolicyStatement[];
  },
): SqsQueue {
  const queue = new SqsQueue(scope, id, {
    name: props.name,
    ...queueEncryption(props.kmsKeyArn),
    messageRetentionSeconds: 14 * 24 * 3600,
  });
  new SqsQueuePolicy(scope, `${id}-policy`, {
    queueUrl: queue.url,
    policy: renderPolicy(
      policyDocument(...(props.allow?.(queue.arn) ?? []), {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "sqs:*",
        Resource: queue.arn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    ),
  });
  return queue;
}
