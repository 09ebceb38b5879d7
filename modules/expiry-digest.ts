/**
 * The second workflow: the state machine from state-machines/expiry-digest.asl.json (the weekly
 * compliance digest over the current-state table, then the table's upkeep) and the EventBridge
 * Scheduler schedule that starts it, with their roles, the schedule's dead-letter queue and the
 * alarms that tell the platform team when a digest did not go out.
 */
import type { SfnStateMachine } from "@cdktf/provider-aws/lib/sfn-state-machine";
import type { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import type { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { SchedulerSchedule } from "@cdktf/provider-aws/lib/scheduler-schedule";
import { Construct } from "constructs";
import { EXPIRY_DIGEST, expiryDigestPlaceholders, loadStateMachine, renderAndValidate } from "../core/asl";
import { DIGEST_LOOKBACK_DAYS, DIGEST_SCHEDULE, DIGEST_TIME_ZONE, EXPIRY_WINDOW_MONTHS } from "../core/settings";
import { failureAlarm } from "./alarms";
import { presenceOf, whilePresent } from "./byo";
import { ServiceRole } from "./iam";
import { INTEGRATION_PERMISSIONS as P } from "./integration-permissions";
import { deadLetterQueue, placeholderValue, workflowStateMachine, type WorkflowProps } from "./step-functions";
import type { ComplianceTopic } from "./notifications";
import { currentStateQueryStatements, publishStatements } from "./workflow-permissions";

export interface ExpiryDigestProps extends WorkflowProps {
  readonly complianceTopic: ComplianceTopic;
  /** The facility pipeline's state machine: upkeep waits while an execution of it runs. */
  readonly pipelineStateMachineArn: string;
  /** @default 30 (DIGEST_LOOKBACK_DAYS) */
  readonly lookbackDays?: number;
  /** Send an "all clear" when nothing is to report. @default false */
  readonly sendAllClear?: boolean;
  /** Scheduler's expression. @default "cron(0 6 ? * MON *)" (DIGEST_SCHEDULE) */
  readonly schedule?: string;
  /** An IANA time zone for the expression. @default "UTC" (DIGEST_TIME_ZONE) */
  readonly timeZone?: string;
}

export class ExpiryDigest extends Construct {
  readonly stateMachine: SfnStateMachine;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly stateMachineRole: ServiceRole;
  readonly schedule: SchedulerSchedule;
  readonly schedulerRole: ServiceRole;
  readonly deadLetterQueue: SqsQueue;
  readonly alarms: readonly CloudwatchMetricAlarm[];

  constructor(scope: Construct, id: string, props: ExpiryDigestProps) {
    super(scope, id);
    const { storage, catalog, compute, failureTopic, complianceTopic } = props;
    this.stateMachineName = `${props.namePrefix}-${EXPIRY_DIGEST}`;
    const arnOf = (service: string, resource: string) =>
      `arn:${props.partition}:${service}:${props.region}:${props.accountId}:${resource}`;
    const definition = renderAndValidate(
      loadStateMachine(EXPIRY_DIGEST),
      expiryDigestPlaceholders({
        relocateResultsFunctionArn: compute.relocateResults.functionArn,
        athenaWorkgroup: catalog.workgroupName,
        glueDatabase: catalog.databaseName,
        failureTopicArn: failureTopic.topicArn,
        complianceTopicArn: complianceTopic.topicArn,
        facilityPipelineStateMachineArn: props.pipelineStateMachineArn,
        dataBucket: storage.bucketName,
        awsRegion: props.region,
        expiryWindowMonths: placeholderValue(props.expiryWindowMonths ?? EXPIRY_WINDOW_MONTHS.default),
        lookbackDays: placeholderValue(props.lookbackDays ?? DIGEST_LOOKBACK_DAYS.default),
        sendAllClear: placeholderValue(props.sendAllClear ?? false),
      }),
    );
    const workflow = workflowStateMachine(this, {
      ...props,
      name: this.stateMachineName,
      definition,
      permissions: [
        {
          Sid: "InvokeRelocateResults",
          Effect: "Allow",
          Action: P.lambdaInvoke.actions,
          Resource: compute.relocateResults.functionArn,
        },
        // The digest reads the current table; OPTIMIZE and VACUUM commit to it and delete its
        // unreferenced files (without s3:DeleteObject VACUUM succeeds and deletes nothing).
        ...currentStateQueryStatements(props, [catalog.tableName]),
        {
          Sid: "SeeRunningPipelineExecutions",
          Effect: "Allow",
          Action: P.listExecutions.actions,
          Resource: props.pipelineStateMachineArn,
        },
        ...publishStatements({ NotifyCompliance: complianceTopic, NotifyFailures: failureTopic }),
      ],
    });
    this.stateMachine = workflow.stateMachine;
    this.stateMachineRole = workflow.role;
    this.stateMachineArn = this.stateMachine.arn;

    // The schedule: its own role (trusted by Scheduler for this account's schedule only), allowed
    // to start this state machine and nothing else, and a dead-letter queue for starts that failed
    // after every retry.
    const scheduleName = `${props.namePrefix}-expiry-digest`;
    this.deadLetterQueue = deadLetterQueue(this, "schedule-dlq", {
      name: `${props.namePrefix}-expiry-digest-dlq`,
      kmsKeyArn: props.kmsKeyArn,
    });
    this.schedulerRole = new ServiceRole(this, "schedule-role", {
      name: `${scheduleName}-scheduler`,
      description: `Lets EventBridge Scheduler start ${this.stateMachineName}`,
      servicePrincipal: "scheduler.amazonaws.com",
      permissionsBoundary: props.permissionsBoundary,
      path: props.rolePath,
      trustConditions: {
        StringEquals: { "aws:SourceAccount": props.accountId },
        ArnLike: { "aws:SourceArn": arnOf("scheduler", `schedule/default/${scheduleName}`) },
      },
      permissions: [
        {
          Sid: "StartDigest",
          Effect: "Allow",
          Action: P.scheduleStartExecution.actions,
          Resource: this.stateMachine.arn,
        },
        {
          Sid: "DeadLetterFailedStarts",
          Effect: "Allow",
          Action: P.scheduleDeadLetter.actions,
          Resource: this.deadLetterQueue.arn,
        },
        ...(props.kmsKeyArn === undefined
          ? []
          : whilePresent(
              {
                Sid: "EncryptDeadLetters",
                Effect: "Allow",
                Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                Resource: props.kmsKeyArn,
              },
              presenceOf(props.kmsKeyArn),
            )),
      ],
    });
    this.schedule = new SchedulerSchedule(this, "schedule", {
      name: scheduleName,
      description: `Starts ${this.stateMachineName}: the expiry digest for compliance, then table upkeep`,
      scheduleExpression: props.schedule ?? DIGEST_SCHEDULE,
      scheduleExpressionTimezone: props.timeZone ?? DIGEST_TIME_ZONE,
      // At the time given, not somewhere in a window after it.
      flexibleTimeWindow: { mode: "OFF" },
      state: "ENABLED",
      target: {
        arn: this.stateMachine.arn,
        roleArn: this.schedulerRole.roleArn,
        // No settings: the execution's start date, the configured window and look-back.
        input: "{}",
        // A start that fails (throttled, the role not yet usable) is retried for up to a day.
        retryPolicy: { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 },
        deadLetterConfig: { arn: this.deadLetterQueue.arn },
      },
    });

    const alarm = (alarmId: string, description: string, metric: Parameters<typeof failureAlarm>[1]["metric"]) =>
      failureAlarm(this, {
        namePrefix: props.namePrefix,
        topicArn: failureTopic.topicArn,
        id: alarmId,
        description,
        metric,
      });
    const digestMachine = { StateMachineArn: this.stateMachine.arn };
    this.alarms = [
      alarm("digest-executions-failed", "An expiry digest execution failed: compliance got no digest", {
        namespace: "AWS/States",
        metricName: "ExecutionsFailed",
        dimensions: digestMachine,
      }),
      alarm("digest-executions-timed-out", "An expiry digest execution timed out", {
        namespace: "AWS/States",
        metricName: "ExecutionsTimedOut",
        dimensions: digestMachine,
      }),
      alarm("digest-schedule-dead-lettered", "The schedule could not start the expiry digest: start it by hand", {
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: this.deadLetterQueue.name },
        statistic: "Maximum",
      }),
    ];
  }
}
