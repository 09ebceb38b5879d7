/** query and notify-test against AWS with the SDK mocked. */
import {
  AthenaClient,
  GetNamedQueryCommand,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type Row,
} from "@aws-sdk/client-athena";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { readQuery } from "../../core/sql";
import { DEPLOYMENT, DEPLOYMENT_FLAGS, awsError, runCli } from "../helpers/operations";

const athena = mockClient(AthenaClient);
const sns = mockClient(SNSClient);

const row = (...values: (string | undefined)[]): Row => ({ Data: values.map((VarCharValue) => ({ VarCharValue })) });
const COLUMNS = [
  { Name: "state", Label: "state", Type: "varchar" },
  { Name: "accredited_facility_count", Label: "accredited_facility_count", Type: "bigint" },
];
const succeeded = {
  QueryExecution: {
    QueryExecutionId: "q-1",
    Status: { State: "SUCCEEDED" as const },
    Statistics: { DataScannedInBytes: 2048, EngineExecutionTimeInMillis: 1234 },
    ResultConfiguration: { OutputLocation: `s3://${DEPLOYMENT.bucket}/athena-results/q-1.csv` },
  },
};

beforeEach(() => {
  athena.reset();
  sns.reset();
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-1" });
  athena
    .on(GetQueryExecutionCommand)
    .resolvesOnce({ QueryExecution: { QueryExecutionId: "q-1", Status: { State: "QUEUED" } } })
    .resolvesOnce({ QueryExecution: { QueryExecutionId: "q-1", Status: { State: "RUNNING" } } })
    .resolves(succeeded);
  athena.on(GetQueryResultsCommand).callsFake((input: { NextToken?: string }) =>
    input.NextToken === undefined
      ? {
          ResultSet: {
            ResultSetMetadata: { ColumnInfo: COLUMNS },
            Rows: [row("state", "accredited_facility_count"), row("CA", "12"), row("NY", "7")],
          },
          NextToken: "rows-2",
        }
      : { ResultSet: { ResultSetMetadata: { ColumnInfo: COLUMNS }, Rows: [row(undefined, "3")] } },
  );
});

const query = (...args: string[]) => runCli("query", ...args, ...DEPLOYMENT_FLAGS);

describe("query", () => {
  test("runs the sql/ text in the workgroup and database, waits, and reads every page of results", async () => {
    const { code, stdout } = await query("accredited_facilities_by_state", "--as-of", "2026-11-26");

    expect(code).toBe(0);
    expect(athena.commandCalls(StartQueryExecutionCommand).map((call) => call.args[0].input)).toEqual([
      {
        QueryString: readQuery("accredited_facilities_by_state"),
        QueryExecutionContext: { Database: DEPLOYMENT.database },
        WorkGroup: DEPLOYMENT.workgroup,
        ExecutionParameters: ["'2026-11-26'"],
      },
    ]);
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(3);
    expect(athena.commandCalls(GetQueryResultsCommand).map((call) => call.args[0].input)).toEqual([
      { QueryExecutionId: "q-1", MaxResults: 1000, NextToken: undefined },
      { QueryExecutionId: "q-1", MaxResults: 1000, NextToken: "rows-2" },
    ]);
    expect(stdout).toMatch(/^ {2}state {2}accredited_facility_count\n {2}CA {5}12\n {2}NY {5}7\n {2}\s+3\n/);
    expect(stdout).toContain(
      "3 row(s) from sql/accredited_facilities_by_state.sql (parameters '2026-11-26'); 2.0 KiB scanned in 1.2 s.",
    );
    expect(stdout).toContain("Query execution q-1 in workgroup dev-facility-pipeline");
  });

  test("--json gives the rows keyed by column, NULL as null, and the bytes scanned", async () => {
    const { code, stdout } = await query("accredited_facilities_by_state", "--json", "--as-of", "2026-11-26");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      query: "sql/accredited_facilities_by_state.sql (parameters '2026-11-26')",
      queryExecutionId: "q-1",
      state: "SUCCEEDED",
      workgroup: DEPLOYMENT.workgroup,
      database: DEPLOYMENT.database,
      dataScannedInBytes: 2048,
      outputLocation: `s3://${DEPLOYMENT.bucket}/athena-results/q-1.csv`,
      columns: ["state", "accredited_facility_count"],
      rows: [
        { state: "CA", accredited_facility_count: "12" },
        { state: "NY", accredited_facility_count: "7" },
        { state: null, accredited_facility_count: "3" },
      ],
    });
  });

  test("--named-query runs that query with its own database and workgroup", async () => {
    athena.on(GetNamedQueryCommand).resolves({
      NamedQuery: { Name: "ad-hoc", QueryString: "SELECT 1 AS one", Database: "other_db", WorkGroup: "other_wg" },
    });
    const { code } = await runCli("query", "--named-query", "nq-123");
    expect(code).toBe(0);
    expect(athena.commandCalls(GetNamedQueryCommand)[0].args[0].input).toEqual({ NamedQueryId: "nq-123" });
    expect(athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input).toEqual({
      QueryString: "SELECT 1 AS one",
      QueryExecutionContext: { Database: "other_db" },
      WorkGroup: "other_wg",
    });
  });

  test("a failed query prints Athena's reason and exits 1", async () => {
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: {
        QueryExecutionId: "q-1",
        Status: {
          State: "FAILED",
          StateChangeReason: "Bytes scanned limit was exceeded",
          AthenaError: { ErrorCategory: 2, ErrorType: 1000, ErrorMessage: "Bytes scanned limit was exceeded" },
        },
        Statistics: { DataScannedInBytes: 1073741824 },
      },
    });
    const { code, stdout } = await query("facility_summary", "--as-of", "2026-11-26");
    expect(code).toBe(1);
    expect(stdout).toContain(
      "Query FAILED: sql/facility_summary.sql (parameters '2026-11-26')\n  Bytes scanned limit was exceeded\n1.0 GiB scanned.",
    );
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });

  test("a query still running at --timeout is stopped, exit code 1", async () => {
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: "RUNNING" } } });
    const { code, stderr } = await query("facility_summary", "--timeout", "1s");
    expect(code).toBe(1);
    expect(athena.commandCalls(StopQueryExecutionCommand)[0].args[0].input).toEqual({ QueryExecutionId: "q-1" });
    expect(stderr).toContain("Query q-1 was still RUNNING after 1 s, so it was stopped");
  });

  test("an unknown query name lists the known ones, exit code 2, nothing sent", async () => {
    const { code, stderr } = await query("state_counts");
    expect(code).toBe(2);
    expect(stderr).toContain(
      'Unknown query "state_counts": expected one of accredited_facilities_by_state, current_state_uploads, expiring_accreditations, expiry_digest, facility_history, facility_summary, merge_current_state, optimize_current_state, vacuum_current_state',
    );
    expect(athena.calls()).toHaveLength(0);
  });

  test.each([
    ["facility_history", "use history FACILITY_ID"],
    ["merge_current_state", "the workflow runs it after each upload"],
    ["expiry_digest", "use digest (--as-of, --window-months, --lookback-days)"],
  ])("query %s, whose parameter the CLI cannot supply, says what to do instead; exit code 2", async (name, hint) => {
    const { code, stderr } = await query(name);
    expect(code).toBe(2);
    expect(stderr).toContain(hint);
    expect(athena.calls()).toHaveLength(0);
  });

  test("InvalidRequestException for a missing workgroup is reported with the action", async () => {
    athena.on(StartQueryExecutionCommand).rejects(awsError("InvalidRequestException", "WorkGroup dev-x is not found."));
    const { code, stderr } = await query("facility_summary");
    expect(code).toBe(1);
    expect(stderr).toContain("athena:StartQueryExecution on workgroup dev-facility-pipeline failed");
    expect(stderr).toContain("WorkGroup dev-x is not found.");
  });
});

describe("history", () => {
  const history = (...args: string[]) => runCli("history", ...args, ...DEPLOYMENT_FLAGS);
  const HISTORY_COLUMNS = [
    "event_time",
    "source_key",
    "source_version",
    "source_line",
    "state",
    "accreditation_count",
    "changes",
  ];

  test("runs sql/facility_history.sql for the facility and prints its records, newest first", async () => {
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: HISTORY_COLUMNS.map((Name) => ({ Name, Label: Name, Type: "varchar" })) },
        Rows: [
          row(...HISTORY_COLUMNS),
          row("2026-11-27T10:00:00.000Z", "raw/registry.jsonl", "v2", "3", "OK", "2", "location"),
          row("2026-11-26T10:00:00.000Z", "raw/registry.jsonl", "v1", "1", "TX", "2", "first record"),
        ],
      },
    });
    const { code, stdout } = await history("FAC-TX-0001");
    expect(code).toBe(0);
    expect(athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input).toEqual({
      QueryString: readQuery("facility_history"),
      QueryExecutionContext: { Database: DEPLOYMENT.database },
      WorkGroup: DEPLOYMENT.workgroup,
      ExecutionParameters: ["'FAC-TX-0001'"],
    });
    expect(stdout).toMatch(/EVENT TIME +UPLOAD +VERSION +LINE +STATE +ACCREDITATIONS +WHAT CHANGED/);
    expect(stdout.indexOf("location")).toBeLessThan(stdout.indexOf("first record"));
    expect(stdout).toContain("2 staged record(s) of FAC-TX-0001, newest first");
  });

  test("a facility with no staged record exits 1 and says how ids are matched", async () => {
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: HISTORY_COLUMNS.map((Name) => ({ Name, Label: Name, Type: "varchar" })) },
        Rows: [row(...HISTORY_COLUMNS)],
      },
    });
    const { code, stdout } = await history("fac-tx-0001", "--json");
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual({ facilityId: "fac-tx-0001", records: [] });
  });

  test("takes exactly one facility id", async () => {
    expect((await history()).code).toBe(2);
    const { code, stderr } = await history("A", "B");
    expect(code).toBe(2);
    expect(stderr).toContain("history shows one facility: history FACILITY_ID (received A B)");
  });
});

describe("notify-test", () => {
  test("publishes a message marked as a test to the failure topic", async () => {
    sns.on(PublishCommand).resolves({ MessageId: "m-1" });
    const { code, stdout } = await runCli("notify-test", "--topic-arn", DEPLOYMENT.topicArn);

    expect(code).toBe(0);
    const [publish] = sns.commandCalls(PublishCommand).map((call) => call.args[0].input);
    expect(publish).toEqual({
      TopicArn: DEPLOYMENT.topicArn,
      Subject: expect.stringMatching(/^\[TEST\] /),
      Message: expect.stringMatching(/^THIS IS A TEST\. Nothing failed and no action is needed\./),
      MessageAttributes: { "notification-type": { DataType: "String", StringValue: "test" } },
    });
    expect(publish.Subject!.length).toBeLessThanOrEqual(100);
    expect(stdout).toContain(`Published test message m-1 to ${DEPLOYMENT.topicArn}`);
  });

  test("AuthorizationErrorException names sns:Publish and the topic", async () => {
    sns.on(PublishCommand).rejects(awsError("AuthorizationErrorException", "User is not authorized", 403));
    const { code, stderr } = await runCli("notify-test", "--topic-arn", DEPLOYMENT.topicArn);
    expect(code).toBe(1);
    expect(stderr).toContain(`Access denied: you are not allowed to call sns:Publish on ${DEPLOYMENT.topicArn}`);
  });

  test("a KMS refusal says which key permissions the topic's key needs", async () => {
    sns.on(PublishCommand).rejects(awsError("KMSAccessDeniedException", "AccessDeniedException (Service: AWSKMS)"));
    const { code, stderr } = await runCli("notify-test", "--topic-arn", DEPLOYMENT.topicArn);
    expect(code).toBe(1);
    expect(stderr).toContain("kms:GenerateDataKey and kms:Decrypt");
  });
});
