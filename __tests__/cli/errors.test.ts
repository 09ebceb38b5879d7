/**
 * Errors a person can act on, through the real SDK clients where that is possible without a
 * network: the credential chain finding nothing, and throttled responses retried by the SDK's
 * retry strategy (a request handler stands in for the network).
 */
import { Readable } from "node:stream";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AwsTarget } from "../../aws/target";
import { AwsCallError, MAX_ATTEMPTS } from "../../aws/errors";
import { explainError } from "../../cli/errors";
import { DEPLOYMENT, awsError, runCli } from "../helpers/operations";

/** A stand-in for the HTTP layer: answers each request with the next response, and counts them. */
function fakeNetwork(responses: { status: number; body: unknown; errorType?: string }[]) {
  const requests: { headers: Record<string, string> }[] = [];
  return {
    requests,
    handler: {
      async handle(request: { headers: Record<string, string> }) {
        requests.push(request);
        const response = responses[Math.min(requests.length, responses.length) - 1];
        return {
          response: {
            statusCode: response.status,
            reason: "",
            headers: {
              "content-type": "application/x-amz-json-1.0",
              "x-amzn-requestid": `request-${requests.length}`,
              ...(response.errorType ? { "x-amzn-errortype": response.errorType } : {}),
            },
            body: Readable.from([Buffer.from(JSON.stringify(response.body))]),
          },
        };
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs: () => ({}),
    },
  };
}

const THROTTLED = {
  status: 400,
  errorType: "ThrottlingException",
  body: { __type: "ThrottlingException", message: "Rate exceeded" },
};

function targetOver(network: ReturnType<typeof fakeNetwork>): AwsTarget {
  return new AwsTarget({
    deployment: { stateMachineArn: DEPLOYMENT.stateMachineArn },
    clientConfig: {
      requestHandler: network.handler,
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    },
  });
}

describe("throttling", () => {
  test("the SDK's retry strategy retries ThrottlingException and the call then succeeds", async () => {
    const network = fakeNetwork([THROTTLED, THROTTLED, { status: 200, body: { executions: [] } }]);
    const target = targetOver(network);

    await expect(target.listExecutions(new Date(0), 10)).resolves.toEqual({ executions: [], truncated: false });
    expect(network.requests).toHaveLength(3);
    expect(network.requests.map((request) => request.headers["amz-sdk-request"])).toEqual([
      `attempt=1; max=${MAX_ATTEMPTS}`,
      `attempt=2; max=${MAX_ATTEMPTS}`,
      `attempt=3; max=${MAX_ATTEMPTS}`,
    ]);
    await target.close();
  }, 20_000);

  test("every client gets the standard retry strategy with MAX_ATTEMPTS attempts", async () => {
    const target = new AwsTarget({ deployment: {}, region: "eu-west-1" });
    for (const client of [target.s3, target.sfn, target.athena, target.sns]) {
      expect(await client.config.maxAttempts()).toBe(MAX_ATTEMPTS);
      const retryMode: unknown = client.config.retryMode;
      expect(typeof retryMode === "function" ? await retryMode() : retryMode).toBe("standard");
    }
    await target.close();
  });

  test("throttling that outlasts the retries says it was retried, and what to do", () => {
    const error = new AwsCallError(
      "states:StartExecution",
      DEPLOYMENT.stateMachineArn,
      awsError("ThrottlingException", "Rate exceeded", 400, MAX_ATTEMPTS),
    );
    const { message, exitCode } = explainError(error);
    expect(exitCode).toBe(1);
    expect(message).toContain(
      `AWS kept throttling states:StartExecution (ThrottlingException) after ${MAX_ATTEMPTS} attempts`,
    );
    expect(message).toContain("retried with exponential backoff by the SDK's standard retry strategy");
  });
});

describe("credentials", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test("no credentials anywhere in the default chain: says how to configure them, exit code 1", async () => {
    // An empty home, no AWS variables, no instance metadata: the chain finds nothing, offline.
    for (const name of Object.keys(process.env)) if (name.startsWith("AWS_")) delete process.env[name];
    const home = mkdtempSync(join(tmpdir(), "no-aws-"));
    Object.assign(process.env, {
      HOME: home,
      AWS_CONFIG_FILE: join(home, "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(home, "credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
    });

    const { code, stderr } = await runCli("notify-test", "--topic-arn", DEPLOYMENT.topicArn);

    expect(code).toBe(1);
    expect(stderr).toContain("No AWS credentials found");
    expect(stderr).toContain("aws sso login --profile NAME, then export AWS_PROFILE=NAME");
    expect(stderr).toContain("export AWS_ACCESS_KEY_ID=");
  });

  test.each([
    ["ExpiredTokenException", /credentials have expired/],
    ["UnrecognizedClientException", /AWS did not accept your credentials/],
  ])("%s", (name, message) => {
    expect(explainError(new AwsCallError("sns:Publish", DEPLOYMENT.topicArn, awsError(name, "x"))).message).toMatch(
      message,
    );
  });

  test("an error the SDK raises for a missing region says how to give one", () => {
    expect(explainError(new AwsCallError("states:ListExecutions", "x", new Error("Region is missing")))).toEqual({
      message: expect.stringContaining("pass --region REGION, or set AWS_REGION"),
      exitCode: 2,
    });
  });
});

describe("the region", () => {
  test("comes from the deployed ARNs unless --region says otherwise", async () => {
    const fromArn = new AwsTarget({ deployment: { stateMachineArn: DEPLOYMENT.stateMachineArn } });
    const fromFlag = new AwsTarget({
      deployment: { stateMachineArn: DEPLOYMENT.stateMachineArn },
      region: "us-west-2",
    });
    expect(await fromArn.sfn.config.region()).toBe("eu-west-1");
    expect(await fromFlag.sfn.config.region()).toBe("us-west-2");
    await fromArn.close();
    await fromFlag.close();
  });
});
