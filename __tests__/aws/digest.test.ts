/** digest against AWS with the SDK mocked: start the deployed digest, wait, read its CSV and message. */
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
  type HistoryEvent,
} from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { DEPLOYMENT, DEPLOYMENT_FLAGS, awsError, runCli } from "../helpers/operations";

const sfn = mockClient(SFNClient);
const s3 = mockClient(S3Client);
const DIGEST_ARN = `arn:aws:states:${DEPLOYMENT.region}:${DEPLOYMENT.account}:stateMachine:dev-expiry-digest`;
const EXECUTION = `arn:aws:states:${DEPLOYMENT.region}:${DEPLOYMENT.account}:execution:dev-expiry-digest:digest-1`;
const RUN_KEY = "analytics/expiry_digest/run_date=2027-03-26/digest-1.csv";
const CSV = [
  '"facility_id","facility_name","state","accreditation_body","accreditation_id","valid_until","days_until_expiry","horizon"',
  '"NWH-0014","Brattleboro Oncology Center","VT","College of American Pathologists","CAP-70014","2027-02-28","-26","expired"',
  '"NWH-0017","Essex Sleep Center","VT","The Joint Commission","TJC-70017","2027-03-31","5","0-30"',
  "",
].join("\n");
const OUTPUT = {
  digest: { asOf: "2027-03-26", windowMonths: 6, lookbackDays: 30, sendAllClear: false },
  published: {
    runKey: RUN_KEY,
    latestKey: "analytics/expiry_digest/latest.csv",
    digest: { rows: 2, horizons: { expired: 1, "0-30": 1, "31-60": 0, "61-90": 0, "91-180": 0, beyond: 0 } },
  },
  upkeep: { waits: 0, vacuums: 0, outcome: "done" },
};
const HISTORY: HistoryEvent[] = [
  { id: 1, timestamp: new Date(), type: "TaskStateEntered", stateEnteredEventDetails: { name: "NotifyCompliance" } },
  {
    id: 2,
    timestamp: new Date(),
    type: "TaskScheduled",
    taskScheduledEventDetails: {
      resourceType: "sns",
      resource: "publish",
      region: DEPLOYMENT.region,
      parameters: JSON.stringify({
        TopicArn: "arn:compliance",
        Subject: "Accreditation expiry digest 2027-03-26: 2 to act on",
        Message: "...",
      }),
    },
  },
];

beforeEach(() => {
  sfn.reset();
  s3.reset();
  sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
  sfn
    .on(DescribeExecutionCommand)
    .resolvesOnce({ executionArn: EXECUTION, stateMachineArn: DIGEST_ARN, status: "RUNNING", startDate: new Date() })
    .resolves({
      executionArn: EXECUTION,
      stateMachineArn: DIGEST_ARN,
      status: "SUCCEEDED",
      startDate: new Date(),
      output: JSON.stringify(OUTPUT),
    });
  sfn.on(GetExecutionHistoryCommand).resolves({ events: HISTORY });
  s3.on(GetObjectCommand, { Key: RUN_KEY }).resolves({
    Body: { transformToString: async () => CSV } as never,
  });
});

const digest = (...args: string[]) =>
  runCli(
    "digest",
    ...args,
    ...DEPLOYMENT_FLAGS,
    "--digest-state-machine-arn",
    DIGEST_ARN,
    "--region",
    DEPLOYMENT.region,
  );

describe("digest --target aws", () => {
  test("starts the deployed digest with the settings given, waits, and reports its CSV and message", async () => {
    const { code, stdout, stderr } = await digest("--as-of", "2027-03-26", "--json");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const [start] = sfn.commandCalls(StartExecutionCommand);
    expect(start.args[0].input.stateMachineArn).toBe(DIGEST_ARN);
    expect(JSON.parse(start.args[0].input.input!)).toEqual({ settings: { asOf: "2027-03-26" } });
    expect(sfn.commandCalls(DescribeExecutionCommand).length).toBeGreaterThanOrEqual(2);
    const json = JSON.parse(stdout);
    expect(json).toMatchObject({
      asOf: "2027-03-26",
      windowMonths: 6,
      lookbackDays: 30,
      status: "SUCCEEDED",
      horizons: { expired: 1, "0-30": 1, "31-60": 0 },
      csv: `s3://${DEPLOYMENT.bucket}/${RUN_KEY}`,
      notification: { subject: "Accreditation expiry digest 2027-03-26: 2 to act on" },
    });
    expect(json.expiringAccreditations.map((row: { accreditation_id: string }) => row.accreditation_id)).toEqual([
      "CAP-70014",
      "TJC-70017",
    ]);
    expect(json.expiringAccreditations[0].days_until_expiry).toBe(-26);
  });

  test("a scheduled-style start (no flags) sends no settings: the deployment's defaults apply", async () => {
    expect((await digest()).code).toBe(0);
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input!)).toEqual({});
  });

  test("a failed digest exits 1 with the failing state and error", async () => {
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: EXECUTION,
      stateMachineArn: DIGEST_ARN,
      status: "FAILED",
      startDate: new Date(),
      error: "States.TaskFailed",
      cause: "Athena query failed: TABLE_NOT_FOUND",
    });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    const { code, stdout } = await digest();
    expect(code).toBe(1);
    expect(stdout).toContain("The digest FAILED");
    expect(stdout).toContain("States.TaskFailed");
  });

  test("AccessDenied on StartExecution names the action and the state machine", async () => {
    sfn.on(StartExecutionCommand).rejects(awsError("AccessDeniedException", "User is not authorized"));
    const { code, stderr } = await digest();
    expect(code).toBe(1);
    expect(stderr).toContain("states:StartExecution");
    expect(stderr).toContain(DIGEST_ARN);
  });

  test("without the digest's ARN it says which output or flag is missing", async () => {
    const { code, stderr } = await runCli("digest", ...DEPLOYMENT_FLAGS);
    expect(code).toBe(2);
    expect(stderr).toContain("--digest-state-machine-arn");
  });
});
