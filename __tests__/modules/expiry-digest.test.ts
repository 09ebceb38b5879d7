import { loadStateMachine, placeholdersOf, validateStateMachine } from "../../core/asl";
import { DIGEST_SCHEDULE, DIGEST_TIME_ZONE } from "../../core/settings";
import { parseConfig } from "../../config/schema";
import { INTEGRATION_PERMISSIONS as P } from "../../modules/integration-permissions";
import { onlyResource, referenceTo, resourcesOfType, roleNamed, synthStack } from "../helpers/synth";

const DIGEST = "hfap-test-expiry-digest";
const PIPELINE = "hfap-test-facility-pipeline";
const COMPLIANCE = "hfap-test-facility-pipeline-compliance";
const FAILURES = "hfap-test-facility-pipeline-failures";

describe("expiry digest module", () => {
  const stack = synthStack();
  const machine = onlyResource(stack, "aws_sfn_state_machine", DIGEST);

  test("the second state machine is the rendered expiry-digest.asl.json, valid with example ARNs", () => {
    const text = machine.definition as string;
    for (const placeholder of placeholdersOf(loadStateMachine("expiry-digest")))
      expect(text).not.toContain(`\${${placeholder}}`);
    const definition = JSON.parse(text);
    expect(definition.States.CheckPipelineIdle.Parameters.StateMachineArn).toBe(
      referenceTo(stack, "aws_sfn_state_machine", "arn", PIPELINE),
    );
    expect(definition.States.NotifyCompliance.Parameters.TopicArn).toBe(
      referenceTo(stack, "aws_sns_topic", "arn", COMPLIANCE),
    );
    expect(definition.States.NotifyFailure.Parameters.TopicArn).toBe(
      referenceTo(stack, "aws_sns_topic", "arn", FAILURES),
    );
    const withExampleArns = text
      .replace(/\$\{aws_lambda_function\.[^}]+\.arn\}/g, "arn:aws:lambda:us-east-1:123456789012:function:hfap-test-x")
      .replace(/\$\{aws_sns_topic\.[^}]+\.arn\}/g, "arn:aws:sns:us-east-1:123456789012:hfap-test-topic")
      .replace(/\$\{aws_sfn_state_machine\.[^}]+\.arn\}/g, "arn:aws:states:us-east-1:123456789012:stateMachine:x")
      .replace(/\$\{[^}]+\}/g, "x");
    expect(() => validateStateMachine(JSON.parse(withExampleArns))).not.toThrow();
    expect(machine).toMatchObject({ type: "STANDARD", tracing_configuration: { enabled: true } });
  });

  test("a schedule starts it: Mondays 06:00 by default, flexible window off, retries and a dead-letter queue", () => {
    const schedule = onlyResource(stack, "aws_scheduler_schedule");
    expect(schedule).toMatchObject({
      name: DIGEST,
      schedule_expression: DIGEST_SCHEDULE,
      schedule_expression_timezone: DIGEST_TIME_ZONE,
      flexible_time_window: { mode: "OFF" },
      state: "ENABLED",
      target: {
        arn: referenceTo(stack, "aws_sfn_state_machine", "arn", DIGEST),
        role_arn: referenceTo(stack, "aws_iam_role", "arn", `${DIGEST}-scheduler`),
        input: "{}",
        retry_policy: { maximum_event_age_in_seconds: 86400, maximum_retry_attempts: 185 },
        dead_letter_config: { arn: referenceTo(stack, "aws_sqs_queue", "arn", `${DIGEST}-dlq`) },
      },
    });
    expect(DIGEST_SCHEDULE).toBe("cron(0 6 ? * MON *)");
    const configured = synthStack({ digestSchedule: "cron(30 7 ? * MON-FRI *)", digestTimeZone: "America/Chicago" });
    expect(onlyResource(configured, "aws_scheduler_schedule")).toMatchObject({
      schedule_expression: "cron(30 7 ? * MON-FRI *)",
      schedule_expression_timezone: "America/Chicago",
    });
  });

  test("the schedule's role is trusted by Scheduler for this account only and may start this state machine only", () => {
    const {
      trust: {
        Statement: [trust],
      },
      bySid,
    } = roleNamed(stack, `${DIGEST}-scheduler`);
    expect(trust).toMatchObject({
      Principal: { Service: "scheduler.amazonaws.com" },
      Condition: {
        StringEquals: { "aws:SourceAccount": expect.stringContaining("data.aws_caller_identity") },
        ArnLike: { "aws:SourceArn": expect.stringContaining(`:schedule/default/${DIGEST}`) },
      },
    });
    expect(Object.values(bySid)).toEqual([
      {
        Sid: "StartDigest",
        Effect: "Allow",
        Action: ["states:StartExecution"],
        Resource: referenceTo(stack, "aws_sfn_state_machine", "arn", DIGEST),
      },
      {
        Sid: "DeadLetterFailedStarts",
        Effect: "Allow",
        Action: ["sqs:SendMessage"],
        Resource: referenceTo(stack, "aws_sqs_queue", "arn", `${DIGEST}-dlq`),
      },
    ]);
  });

  test("the digest's role reads the current table only, commits upkeep to it, and publishes to both topics", () => {
    const {
      trust: {
        Statement: [trust],
      },
      bySid,
    } = roleNamed(stack, `${DIGEST}-sfn`);
    expect(trust).toMatchObject({ Principal: { Service: "states.amazonaws.com" } });
    expect(bySid.InvokeRelocateResults.Resource).toMatch(
      /^\$\{aws_lambda_function\.[^}]*relocate-results[^}]*\.arn\}$/,
    );
    const tables = (bySid.ReadFacilityTables.Resource as string[]).filter((arn) => arn.includes(":table/"));
    expect(tables).toEqual([expect.stringMatching(/facilities-table[^}]*\.name\}$/)]);
    expect(bySid.WriteCurrentStateFiles.Action).toEqual(P.icebergDataWrite.actions);
    expect(bySid.WriteCurrentStateFiles.Action).toContain("s3:DeleteObject");
    expect(bySid.WriteCurrentStateFiles.Resource).toBe(
      `${referenceTo(stack, "aws_s3_bucket", "arn")}/current/facilities/*`,
    );
    expect(bySid.ReadStagedRecords).toBeUndefined();
    expect(bySid.SeeRunningPipelineExecutions).toMatchObject({
      Action: ["states:ListExecutions"],
      Resource: referenceTo(stack, "aws_sfn_state_machine", "arn", PIPELINE),
    });
    expect(bySid.NotifyCompliance.Resource).toBe(referenceTo(stack, "aws_sns_topic", "arn", COMPLIANCE));
    expect(bySid.NotifyFailures.Resource).toBe(referenceTo(stack, "aws_sns_topic", "arn", FAILURES));
  });

  test("the compliance topic is its own, encrypted with the notification key, with one subscription per address", () => {
    const withEmails = synthStack({ complianceEmails: ["compliance@example.org"], alertEmails: ["ops@example.org"] });
    const compliance = referenceTo(withEmails, "aws_sns_topic", "arn", COMPLIANCE);
    expect(onlyResource(withEmails, "aws_sns_topic", COMPLIANCE)).toMatchObject({
      kms_master_key_id: referenceTo(withEmails, "aws_kms_key", "arn"),
    });
    const subscriptions = Object.values(resourcesOfType(withEmails, "aws_sns_topic_subscription"));
    expect(subscriptions.find((s) => s.topic_arn === compliance)).toMatchObject({
      for_each: '${toset(["compliance@example.org"])}',
    });
    // CloudWatch alarms publish to the failure topic only.
    const policy = Object.values(resourcesOfType(withEmails, "aws_sns_topic_policy")).find(
      (p) => p.arn === compliance,
    )!;
    expect(policy.policy).not.toContain("cloudwatch.amazonaws.com");
  });

  test("bring your own compliance topic: no topic is created for it", () => {
    const existing = "arn:aws:sns:eu-west-1:123456789012:compliance-digest";
    const stackWithTopic = synthStack({ existingComplianceTopicArn: existing });
    expect(Object.values(resourcesOfType(stackWithTopic, "aws_sns_topic")).map((t) => t.name)).toEqual([FAILURES]);
    const definition = JSON.parse(onlyResource(stackWithTopic, "aws_sfn_state_machine", DIGEST).definition as string);
    expect(definition.States.NotifyCompliance.Parameters.TopicArn).toBe(existing);
  });

  test("the config rejects a schedule or time zone Scheduler would refuse, naming the field", () => {
    expect(() =>
      parseConfig({
        namePrefix: "hfap-test",
        region: "eu-west-1",
        digestSchedule: "every monday",
        digestTimeZone: "Mars/Base",
      }),
    ).toThrow(/digestSchedule: cron\(\.\.\.\).*received "every monday"[\s\S]*digestTimeZone: an IANA time zone/);
    expect(
      parseConfig({ namePrefix: "hfap-test", region: "eu-west-1", digestTimeZone: "Australia/Sydney" }).digestTimeZone,
    ).toBe("Australia/Sydney");
  });
});
