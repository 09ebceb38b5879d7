/**
 * replay against AWS, with the SDK mocked (aws-sdk-client-mock): what is sent to S3 and Step
 * Functions, how execution names make a replay idempotent, and which objects are refused.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HeadObjectCommand, ListObjectsV2Command, NotFound, S3Client } from "@aws-sdk/client-s3";
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { replayExecutionName } from "../../core/replay-event";
import { DEPLOYMENT, DEPLOYMENT_FLAGS, awsError, runCli } from "../helpers/operations";

const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);

const LAST_MODIFIED = new Date("2026-11-20T10:15:30.000Z");
/** The bucket's objects: key -> [size, version id]. */
const OBJECTS: Record<string, [number, string]> = {
  "raw/2026/11/a.json": [1200, "v-a-1"],
  "raw/2026/11/b.jsonl.gz": [340, "v-b-7"],
  "raw/2026/11/c.jsonl": [98, "v-c-2"],
};

beforeEach(() => {
  s3.reset();
  sfn.reset();
  s3.on(HeadObjectCommand).callsFake((input: { Key: string }) => {
    const object = OBJECTS[input.Key];
    if (!object) throw new NotFound({ message: "NotFound", $metadata: { httpStatusCode: 404 } });
    return {
      ContentLength: object[0],
      ETag: `"etag-${input.Key}"`,
      VersionId: object[1],
      LastModified: LAST_MODIFIED,
    };
  });
  sfn.on(StartExecutionCommand).callsFake((input: { stateMachineArn: string; name: string }) => ({
    executionArn: `${input.stateMachineArn.replace(":stateMachine:", ":execution:")}:${input.name}`,
    startDate: new Date(),
  }));
});

const replay = (...args: string[]) => runCli("replay", ...args, ...DEPLOYMENT_FLAGS);
const startInputs = () =>
  sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input as { name: string; input: string });

describe("replay s3://bucket/raw/KEY", () => {
  test("starts one execution whose input is the EventBridge S3 Object Created event of that object version", async () => {
    const { code } = await replay(`s3://${DEPLOYMENT.bucket}/raw/2026/11/a.json`);

    expect(code).toBe(0);
    const [start] = startInputs();
    expect(start).toMatchObject({ stateMachineArn: DEPLOYMENT.stateMachineArn });
    expect(JSON.parse(start.input)).toEqual({
      version: "0",
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      "detail-type": "Object Created",
      source: "aws.s3",
      account: DEPLOYMENT.account,
      time: "2026-11-20T10:15:30Z",
      region: DEPLOYMENT.region,
      resources: [`arn:aws:s3:::${DEPLOYMENT.bucket}`],
      "replay-name": "facility-pipeline-replay",
      detail: {
        version: "0",
        bucket: { name: DEPLOYMENT.bucket },
        object: { key: "raw/2026/11/a.json", size: 1200, etag: "etag-raw/2026/11/a.json", "version-id": "v-a-1" },
        "request-id": expect.any(String),
        requester: DEPLOYMENT.account,
        reason: "PutObject",
      },
    });
  });

  test("every $.detail path the state machine reads resolves in the replayed input", async () => {
    await replay("raw/2026/11/a.json");
    const input = JSON.parse(startInputs()[0].input);
    const asl = readFileSync(join(__dirname, "..", "..", "state-machines", "facility-pipeline.asl.json"), "utf8");
    const paths = [...new Set(asl.match(/\$\.(detail(\.[A-Za-z0-9_-]+)+|time)\b/g))];

    expect(paths).toEqual(
      expect.arrayContaining(["$.detail.bucket.name", "$.detail.object.key", "$.detail.object", "$.time"]),
    );
    for (const path of paths) {
      const value = path
        .split(".")
        .slice(1)
        .reduce<unknown>((node, field) => (node as Record<string, unknown>)?.[field], input);
      expect([path, typeof value]).toEqual([path, path === "$.detail.object" ? "object" : "string"]);
    }
  });

  test("the execution name derives from the key and version: the same on every replay, at most 80 of [A-Za-z0-9_-]", async () => {
    await replay("raw/2026/11/a.json");
    await replay(`s3://${DEPLOYMENT.bucket}/raw/2026/11/a.json`);

    const [first, second] = startInputs();
    expect(first.name).toBe(second.name);
    expect(first.name).toMatch(/^2026_11_a_json-[0-9a-f]{16}$/);
    expect(first.name).toBe(
      replayExecutionName({ key: "raw/2026/11/a.json", etag: "etag-raw/2026/11/a.json", versionId: "v-a-1" }),
    );
  });

  test("an object named twice on the command line is started once", async () => {
    await replay("raw/2026/11/a.json", `s3://${DEPLOYMENT.bucket}/raw/2026/11/a.json`);
    expect(startInputs()).toHaveLength(1);
  });

  test("ExecutionAlreadyExists (that version was replayed before) is reported as already started, exit code 0", async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: "Execution Already Exists", $metadata: { httpStatusCode: 400 } }));

    const { code, stdout, stderr } = await replay("raw/2026/11/a.json", "--json");

    expect(code).toBe(0);
    expect(stderr).toBe("");
    const name = replayExecutionName({ key: "raw/2026/11/a.json", etag: "", versionId: "v-a-1" });
    expect(JSON.parse(stdout).executions).toEqual([
      expect.objectContaining({
        key: "raw/2026/11/a.json",
        versionId: "v-a-1",
        outcome: "already-started",
        executionName: name,
        executionArn: `arn:aws:states:eu-west-1:123456789012:execution:dev-facility-pipeline:${name}`,
      }),
    ]);
  });

  test("--label gives the same version a new name, to rerun it on purpose", async () => {
    await replay("raw/2026/11/a.json");
    await replay("raw/2026/11/a.json", "--label", "fix-142");

    const [plain, labelled] = startInputs().map((start) => start.name);
    expect(labelled).not.toBe(plain);
    expect(labelled).toMatch(/^fix-142-2026_11_a_json-[0-9a-f]{16}$/);
  });
});

describe("replay --prefix", () => {
  test("lists every page of ListObjectsV2, skips folder markers, and starts one execution per object", async () => {
    s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string; ContinuationToken?: string }) =>
      input.ContinuationToken === undefined
        ? {
            Contents: [{ Key: "raw/2026/11/" }, { Key: "raw/2026/11/a.json" }, { Key: "raw/2026/11/b.jsonl.gz" }],
            IsTruncated: true,
            NextContinuationToken: "page-2",
          }
        : { Contents: [{ Key: "raw/2026/11/c.jsonl" }], IsTruncated: false },
    );

    const { code, stdout } = await replay("--prefix", "raw/2026/11/");

    expect(code).toBe(0);
    expect(s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input)).toEqual([
      { Bucket: DEPLOYMENT.bucket, Prefix: "raw/2026/11/", ContinuationToken: undefined },
      { Bucket: DEPLOYMENT.bucket, Prefix: "raw/2026/11/", ContinuationToken: "page-2" },
    ]);
    const keys = startInputs().map((start) => JSON.parse(start.input).detail.object.key);
    expect(keys).toEqual(["raw/2026/11/a.json", "raw/2026/11/b.jsonl.gz", "raw/2026/11/c.jsonl"]);
    expect(stdout).toContain("Started 3, already started 0");
  });

  test("--dry-run starts nothing and tells what would start from what already did", async () => {
    s3.on(ListObjectsV2Command).resolves({
      Contents: [{ Key: "raw/2026/11/a.json" }, { Key: "raw/2026/11/c.jsonl" }],
      IsTruncated: false,
    });
    const replayedBefore = replayExecutionName({ key: "raw/2026/11/c.jsonl", etag: "", versionId: "v-c-2" });
    sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
      if (input.executionArn.endsWith(`:${replayedBefore}`)) return { status: "SUCCEEDED" };
      throw new ExecutionDoesNotExist({ message: "Execution Does Not Exist", $metadata: { httpStatusCode: 400 } });
    });

    const { code, stdout } = await replay("--prefix", "raw/2026/11/", "--dry-run", "--json");

    expect(code).toBe(0);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    const result = JSON.parse(stdout);
    expect(result.dryRun).toBe(true);
    expect(result.executions.map((e: { key: string; outcome: string }) => [e.key, e.outcome])).toEqual([
      ["raw/2026/11/a.json", "would-start"],
      ["raw/2026/11/c.jsonl", "already-started"],
    ]);
  });

  test("a prefix with no objects starts nothing and exits 0", async () => {
    s3.on(ListObjectsV2Command).resolves({ IsTruncated: false });
    const { code, stdout, stderr } = await replay("--prefix", "raw/2030/");
    expect(code).toBe(0);
    expect(stdout).toContain("Nothing to replay");
    expect(stderr).toContain(`No objects under s3://${DEPLOYMENT.bucket}/raw/2030/`);
  });
});

describe("what replay refuses (exit code 2, nothing called)", () => {
  test.each([
    [[`s3://${DEPLOYMENT.bucket}/curated/facilities/a.jsonl`], /only objects under raw\/ start the workflow/],
    [["analytics/state_counts/latest.csv"], /only objects under raw\/ start the workflow/],
    [["raw/2026/11/"], /only objects under raw\/ start the workflow/],
    [["--prefix", "curated/"], /--prefix curated\/: must start with raw\//],
    [["s3://someone-elses-bucket/raw/a.json"], /is not in the pipeline's bucket dev-facility-data/],
    [["--label", "fix 142", "raw/a.json"], /--label must be 1 to 32 characters/],
    [[], /name objects \(s3:\/\/BUCKET\/raw\/KEY or raw\/KEY\) or --prefix raw\/\.\.\./],
  ])("%j", async (args, message) => {
    const { code, stderr } = await replay(...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(s3.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  test("every problem is reported at once", async () => {
    const { code, stderr } = await replay("curated/x.jsonl", "--prefix", "rejected/");
    expect(code).toBe(2);
    expect(stderr).toMatch(/curated\/x\.jsonl: only objects under raw\//);
    expect(stderr).toMatch(/--prefix rejected\/: must start with raw\//);
  });

  test("objects that do not exist are named, and nothing starts", async () => {
    const { code, stderr } = await replay("raw/2026/11/a.json", "raw/missing-1.json", "raw/missing-2.json");
    expect(code).toBe(2);
    expect(stderr).toContain("No such object:");
    expect(stderr).toContain(`s3://${DEPLOYMENT.bucket}/raw/missing-1.json`);
    expect(stderr).toContain(`s3://${DEPLOYMENT.bucket}/raw/missing-2.json`);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

describe("replay errors", () => {
  test("AccessDeniedException from StartExecution names the action and the state machine", async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(
        awsError(
          "AccessDeniedException",
          "User: arn:aws:sts::123456789012:assumed-role/ops/alice is not authorized to perform: states:StartExecution",
        ),
      );
    const { code, stderr } = await replay("raw/2026/11/a.json");
    expect(code).toBe(1);
    expect(stderr).toContain(
      `Access denied: you are not allowed to call states:StartExecution on ${DEPLOYMENT.stateMachineArn}`,
    );
    expect(stderr).toContain("assumed-role/ops/alice");
  });

  test("an error part-way says how many started, and that running the replay again is safe", async () => {
    sfn
      .on(StartExecutionCommand)
      .resolvesOnce({ executionArn: "arn:aws:states:eu-west-1:123456789012:execution:dev-facility-pipeline:a" })
      .rejects(awsError("AccessDeniedException", "not authorized"));
    const { code, stderr } = await replay("raw/2026/11/a.json", "raw/2026/11/b.jsonl.gz", "raw/2026/11/c.jsonl");
    expect(code).toBe(1);
    expect(stderr).toContain("Stopped at raw/2026/11/b.jsonl.gz after starting 1 of 3");
    expect(stderr).toContain("Running the same replay again is safe");
  });

  test("a 403 from HeadObject asks for s3:GetObject on the object", async () => {
    s3.on(HeadObjectCommand).rejects(awsError("Forbidden", "Forbidden", 403));
    const { code, stderr } = await replay("raw/2026/11/a.json");
    expect(code).toBe(1);
    expect(stderr).toContain(
      `you are not allowed to call s3:GetObject on s3://${DEPLOYMENT.bucket}/raw/2026/11/a.json`,
    );
  });
});
