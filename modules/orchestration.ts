/**
 * The workflow: the Step Functions state machine from state-machines/facility-pipeline.asl.json,
 * the EventBridge rule that starts it for every upload to raw/, and the alarms that page someone.
 */
import type { SfnStateMachine } from "@cdktf/provider-aws/lib/sfn-state-machine";
import type { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import type { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { Construct } from "constructs";
import { FACILITY_PIPELINE, facilityPipelinePlaceholders, loadStateMachine, renderAndValidate } from "../core/asl";
import { DATA_PREFIXES } from "../core/data-layout";
import { EXPIRY_WINDOW_MONTHS } from "../core/settings";
import type { Compute } from "./compute";
import { failureAlarm, type AlarmMetric } from "./alarms";
import { ServiceRole } from "./iam";
import { INTEGRATION_PERMISSIONS as P } from "./integration-permissions";
import { deadLetterQueue, placeholderValue, workflowStateMachine, type WorkflowProps } from "./step-functions";
import { currentStateQueryStatements, publishStatements } from "./workflow-permissions";

export type OrchestrationProps = WorkflowProps;

export class Orchestration extends Construct {
  readonly stateMachine: SfnStateMachine;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly stateMachineRole: ServiceRole;
  readonly rule: CloudwatchEventRule;
  readonly triggerRole: ServiceRole;
  readonly deadLetterQueue: SqsQueue;
  readonly alarms: readonly CloudwatchMetricAlarm[];

  constructor(scope: Construct, id: string, props: OrchestrationProps) {
    super(scope, id);
    const { storage, catalog, compute, failureTopic } = props;
    this.stateMachineName = `${props.namePrefix}-${FACILITY_PIPELINE}`;
    const functions = [compute.filterExpiring, compute.relocateResults];
    const placeholders = facilityPipelinePlaceholders({
      filterExpiringFunctionArn: compute.filterExpiring.functionArn,
      relocateResultsFunctionArn: compute.relocateResults.functionArn,
      athenaWorkgroup: catalog.workgroupName,
      glueDatabase: catalog.databaseName,
      failureTopicArn: failureTopic.topicArn,
      dataBucket: storage.bucketName,
      awsRegion: props.region,
      expiryWindowMonths: placeholderValue(props.expiryWindowMonths ?? EXPIRY_WINDOW_MONTHS.default),
    });
    const definition = renderAndValidate(loadStateMachine(FACILITY_PIPELINE), placeholders);

    const workflow = workflowStateMachine(this, {
      ...props,
      name: this.stateMachineName,
      definition,
      permissions: [
        {
          Sid: "InvokePipelineFunctions",
          Effect: "Allow",
          Action: P.lambdaInvoke.actions,
          Resource: functions.map((fn) => fn.functionArn),
        },
        ...currentStateQueryStatements(props, [catalog.stagingTableName, catalog.tableName]),
        {
          Sid: "ReadStagedRecords",
          Effect: "Allow",
          Action: P.athenaDataRead.actions,
          Resource: storage.objectArns("staging"),
        },
        ...publishStatements({ NotifyFailures: failureTopic }),
      ],
    });
    this.stateMachine = workflow.stateMachine;
    this.stateMachineRole = workflow.role;
    this.stateMachineArn = this.stateMachine.arn;

    // The trigger: every object created under raw/ starts one execution.
    this.rule = new CloudwatchEventRule(this, "upload-rule", {
      name: `${props.namePrefix}-facility-uploads`,
      description: `Starts ${this.stateMachineName} for every object created under ${DATA_PREFIXES.raw}`,
      eventPattern: JSON.stringify({
        source: ["aws.s3"],
        "detail-type": ["Object Created"],
        detail: { bucket: { name: [storage.bucketName] }, object: { key: [{ prefix: DATA_PREFIXES.raw }] } },
      }),
    });
    this.deadLetterQueue = deadLetterQueue(this, "trigger-dlq", {
      name: `${props.namePrefix}-facility-uploads-dlq`,
      kmsKeyArn: props.kmsKeyArn,
      allow: (queueArn) => [
        {
          Sid: "UploadRuleDeadLetters",
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: queueArn,
          Condition: { ArnEquals: { "aws:SourceArn": this.rule.arn } },
        },
      ],
    });
    this.triggerRole = new ServiceRole(this, "trigger-role", {
      name: `${props.namePrefix}-facility-uploads-events`,
      description: `Lets EventBridge start ${this.stateMachineName}`,
      servicePrincipal: "events.amazonaws.com",
      permissionsBoundary: props.permissionsBoundary,
      path: props.rolePath,
      trustConditions: {
        StringEquals: { "aws:SourceAccount": props.accountId },
        ArnEquals: { "aws:SourceArn": this.rule.arn },
      },
      permissions: [
        { Sid: "StartPipeline", Effect: "Allow", Action: P.startExecution.actions, Resource: this.stateMachine.arn },
      ],
    });
    new CloudwatchEventTarget(this, "upload-target", {
      rule: this.rule.name,
      targetId: "facility-pipeline",
      arn: this.stateMachine.arn,
      roleArn: this.triggerRole.roleArn,
      // EventBridge retries for up to 24 hours, then parks the event in the queue for a replay.
      retryPolicy: { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 },
      deadLetterConfig: { arn: this.deadLetterQueue.arn },
    });

    this.alarms = this.createAlarms(props, functions);
  }

  private createAlarms(props: OrchestrationProps, functions: Compute["filterExpiring"][]): CloudwatchMetricAlarm[] {
    const alarm = (id: string, description: string, metric: AlarmMetric) =>
      failureAlarm(this, {
        namePrefix: props.namePrefix,
        topicArn: props.failureTopic.topicArn,
        id,
        description,
        metric,
      });

    const stateMachine = { StateMachineArn: this.stateMachine.arn };
    return [
      alarm("executions-failed", "A facility pipeline execution failed", {
        namespace: "AWS/States",
        metricName: "ExecutionsFailed",
        dimensions: stateMachine,
      }),
      alarm("executions-timed-out", "A facility pipeline execution timed out", {
        namespace: "AWS/States",
        metricName: "ExecutionsTimedOut",
        dimensions: stateMachine,
      }),
      alarm("executions-aborted", "A facility pipeline execution was aborted", {
        namespace: "AWS/States",
        metricName: "ExecutionsAborted",
        dimensions: stateMachine,
      }),
      ...functions.flatMap((fn) => {
        const name = fn.handlerName;
        const dimensions = { FunctionName: fn.functionName };
        return [
          alarm(`${name}-errors`, `Lambda ${name} raised errors`, {
            namespace: "AWS/Lambda",
            metricName: "Errors",
            dimensions,
          }),
          alarm(`${name}-throttles`, `Lambda ${name} was throttled`, {
            namespace: "AWS/Lambda",
            metricName: "Throttles",
            dimensions,
          }),
        ];
      }),
      alarm("upload-events-dead-lettered", "Upload events could not start the pipeline: replay them", {
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: this.deadLetterQueue.name },
        statistic: "Maximum",
      }),
    ];
  }
}
