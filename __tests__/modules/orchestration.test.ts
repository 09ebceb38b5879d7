import { loadStateMachine, placeholdersOf, validateStateMachine } from "../../core/asl";
import { INTEGRATION_PERMISSIONS as P } from "../../modules/integration-permissions";
import { onlyResource, referenceTo, resourcesOfType, roleNamed, synthStack } from "../helpers/synth";

type State = Record<string, unknown> & { Type: string };
type Machine = { States: Record<string, State>; TimeoutSeconds?: number };

const TRANSIENT_LAMBDA_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
];

function allStates(machine: Machine): Array<[string, State]> {
  return Object.entries(machine.States).flatMap(([name, state]) => [
    [name, state] as [string, State],
    ...((state.Branches as Machine[] | undefined) ?? []).flatMap(allStates),
  ]);
}

describe("orchestration module", () => {
  const stack = synthStack();
  const stateMachine = onlyResource(stack, "aws_sfn_state_machine", "hfap-test-facility-pipeline");
  const definition = JSON.parse(stateMachine.definition as string) as Machine;

  test("the synthesized definition is valid ASL with every file placeholder substituted", () => {
    const text = stateMachine.definition as string;
    for (const placeholder of placeholdersOf(loadStateMachine("facility-pipeline"))) {
      expect(text).not.toContain(`\${${placeholder}}`);
    }
    // Terraform references remain until apply; give them example ARNs to validate the rest.
    const withExampleArns = text
      .replace(/\$\{aws_lambda_function\.[^.}]+\.arn\}/g, "arn:aws:lambda:us-east-1:123456789012:function:example")
      .replace(/\$\{aws_sns_topic\.[^.}]+\.arn\}/g, "arn:aws:sns:us-east-1:123456789012:example");
    expect(() => validateStateMachine(JSON.parse(withExampleArns))).not.toThrow();
    expect(text).toMatch(/\$\{aws_lambda_function\.[^.}]+\.arn\}/);
  });

  test("it is a STANDARD machine with ERROR logging including execution data, and X-Ray tracing", () => {
    expect(stateMachine).toMatchObject({
      name: "hfap-test-facility-pipeline",
      type: "STANDARD",
      logging_configuration: { include_execution_data: true, level: "ERROR" },
      tracing_configuration: { enabled: true },
    });
    expect(definition.TimeoutSeconds).toBeGreaterThan(0);
  });

  test("every Task retries transient errors only, has a timeout, and catches everything into NotifyFailure", () => {
    const tasks = allStates(definition).filter(([, state]) => state.Type === "Task");
    expect(tasks.length).toBeGreaterThanOrEqual(5);
    for (const [name, task] of tasks) {
      expect([name, task.TimeoutSeconds]).toEqual([name, expect.any(Number)]);
      const retried = (task.Retry as Array<{ ErrorEquals: string[] }>).flatMap((retrier) => retrier.ErrorEquals);
      expect(retried).not.toContain("States.ALL");
      expect(retried).not.toContain("States.TaskFailed");
      const resource = task.Resource as string;
      if (resource.includes(":lambda:")) expect(retried.sort()).toEqual([...TRANSIENT_LAMBDA_ERRORS].sort());
      if (resource.includes(":athena:")) expect(retried).toEqual(["Athena.TooManyRequestsException"]);
      if (name !== "NotifyFailure") {
        const catchers = task.Catch as Array<{ ErrorEquals: string[]; Next: string }>;
        expect(catchers.some((catcher) => catcher.ErrorEquals.includes("States.ALL"))).toBe(true);
      }
    }
  });

  test("the state machine role holds exactly the integrations' actions, scoped to this pipeline", () => {
    const { trust, permissions, bySid } = roleNamed(stack, "hfap-test-facility-pipeline-sfn");
    expect(trust.Statement[0]).toMatchObject({
      Principal: { Service: "states.amazonaws.com" },
      Condition: { StringEquals: { "aws:SourceAccount": expect.stringContaining("data.aws_caller_identity") } },
    });
    const bucketArn = referenceTo(stack, "aws_s3_bucket", "arn");
    expect(bySid.InvokePipelineFunctions.Action).toEqual(P.lambdaInvoke.actions);
    expect(bySid.InvokePipelineFunctions.Resource).toHaveLength(2);
    expect(bySid.RunQueriesInWorkgroup).toMatchObject({
      Action: P.athenaQuery.actions,
      Resource: referenceTo(stack, "aws_athena_workgroup", "arn"),
    });
    expect(bySid.ReadFacilityTables.Action).toEqual(P.athenaCatalogRead.actions);
    expect(bySid.ReadFacilityTables.Resource).toHaveLength(4);
    expect(bySid.CommitCurrentState.Action).toEqual(["glue:UpdateTable"]);
    expect((bySid.CommitCurrentState.Resource as string[]).filter((arn) => arn.includes(":table/"))).toEqual([
      expect.stringMatching(
        /:table\/\$\{aws_glue_catalog_database\.[^}]+\.name\}\/\$\{aws_glue_catalog_table\.[^}]*facilities-table[^}]*\.name\}$/,
      ),
    ]);
    expect(bySid.ReadStagedRecords).toMatchObject({
      Action: ["s3:GetObject"],
      Resource: `${bucketArn}/staging/facilities/*`,
    });
    expect(bySid.WriteCurrentStateFiles).toMatchObject({
      Action: P.icebergDataWrite.actions,
      Resource: `${bucketArn}/current/facilities/*`,
    });
    expect(bySid.WriteQueryResults.Resource).toEqual([bucketArn, `${bucketArn}/athena-results/*`]);
    expect(bySid.NotifyFailures).toMatchObject({
      Action: ["sns:Publish"],
      Resource: referenceTo(stack, "aws_sns_topic", "arn", "hfap-test-facility-pipeline-failures"),
    });
    const everyAction = permissions.Statement.flatMap((statement) => statement.Action as string[]);
    expect(everyAction.filter((action) => action.endsWith(":*") || action === "*")).toEqual([]);
    const wildcardResources = permissions.Statement.filter((statement) => statement.Resource === "*").map((s) => s.Sid);
    expect(wildcardResources.sort()).toEqual(["DeliverExecutionLogs", "WriteTraces"]);
  });

  test("uploads under raw/ of this bucket start the state machine, with retries and a dead-letter queue", () => {
    const rule = onlyResource(stack, "aws_cloudwatch_event_rule");
    expect(JSON.parse(rule.event_pattern as string)).toEqual({
      source: ["aws.s3"],
      "detail-type": ["Object Created"],
      detail: {
        bucket: { name: [referenceTo(stack, "aws_s3_bucket", "bucket")] },
        object: { key: [{ prefix: "raw/" }] },
      },
    });
    expect(onlyResource(stack, "aws_cloudwatch_event_target")).toMatchObject({
      arn: referenceTo(stack, "aws_sfn_state_machine", "arn", "hfap-test-facility-pipeline"),
      retry_policy: { maximum_event_age_in_seconds: 86400, maximum_retry_attempts: 185 },
      dead_letter_config: { arn: referenceTo(stack, "aws_sqs_queue", "arn", "hfap-test-facility-uploads-dlq") },
    });
    expect(onlyResource(stack, "aws_sqs_queue", "hfap-test-facility-uploads-dlq")).toMatchObject({
      sqs_managed_sse_enabled: true,
    });
    const { trust, permissions } = roleNamed(stack, "hfap-test-facility-uploads-events");
    expect(trust.Statement[0].Condition).toEqual({
      StringEquals: { "aws:SourceAccount": expect.any(String) },
      ArnEquals: { "aws:SourceArn": referenceTo(stack, "aws_cloudwatch_event_rule", "arn") },
    });
    expect(permissions.Statement).toEqual([
      {
        Sid: "StartPipeline",
        Effect: "Allow",
        Action: ["states:StartExecution"],
        Resource: referenceTo(stack, "aws_sfn_state_machine", "arn", "hfap-test-facility-pipeline"),
      },
    ]);
  });

  test("the failure topic is encrypted with a rotating customer managed key and has one subscription per address", () => {
    expect(onlyResource(stack, "aws_sns_topic", "hfap-test-facility-pipeline-failures")).toMatchObject({
      kms_master_key_id: referenceTo(stack, "aws_kms_key", "arn"),
    });
    expect(onlyResource(stack, "aws_kms_key")).toMatchObject({ enable_key_rotation: true });
    const keyPolicy = JSON.parse(onlyResource(stack, "aws_kms_key").policy as string);
    expect(keyPolicy.Statement).toContainEqual(
      expect.objectContaining({
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      }),
    );
    const withEmails = synthStack({ alertEmails: ["a@example.org", "b@example.org"] });
    const [subscription] = Object.values(resourcesOfType(withEmails, "aws_sns_topic_subscription")).filter(
      (s) => s.topic_arn === referenceTo(withEmails, "aws_sns_topic", "arn", "hfap-test-facility-pipeline-failures"),
    );
    // for_each keyed by address: removing one address leaves the other subscriptions alone.
    expect(subscription).toMatchObject({
      protocol: "email",
      endpoint: "${each.value}",
      for_each: '${toset(["a@example.org", "b@example.org"])}',
    });
  });

  test("alarms on failed, timed out and aborted executions, Lambda errors and throttles, and dead letters notify the topic", () => {
    const alarms = Object.values(resourcesOfType(stack, "aws_cloudwatch_metric_alarm"));
    expect(alarms.map((alarm) => `${alarm.namespace} ${alarm.metric_name}`).sort()).toEqual([
      "AWS/Lambda Errors",
      "AWS/Lambda Errors",
      "AWS/Lambda Throttles",
      "AWS/Lambda Throttles",
      "AWS/SQS ApproximateNumberOfMessagesVisible",
      "AWS/SQS ApproximateNumberOfMessagesVisible",
      "AWS/States ExecutionsAborted",
      "AWS/States ExecutionsFailed",
      "AWS/States ExecutionsFailed",
      "AWS/States ExecutionsTimedOut",
      "AWS/States ExecutionsTimedOut",
    ]);
    const failures = referenceTo(stack, "aws_sns_topic", "arn", "hfap-test-facility-pipeline-failures");
    for (const alarm of alarms) expect(alarm.alarm_actions).toEqual([failures]);
  });

  test("outputs name the bucket, state machine, topic, workgroup, database and table", () => {
    expect(Object.keys(stack.output ?? {}).sort()).toEqual(
      expect.arrayContaining([expect.stringContaining("bucket_name"), expect.stringContaining("state_machine_arn")]),
    );
    expect(Object.keys(stack.output ?? {})).toHaveLength(8);
  });
});
