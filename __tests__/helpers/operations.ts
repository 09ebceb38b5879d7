/** What the operations tests share: capturing the CLI's output, and SDK-shaped errors. */
import { Writable } from "node:stream";
import { main } from "../../cli/main";

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the operations CLI in-process (argv[0] is the subcommand) and captures what it prints. */
export async function runCli(...argv: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const code = await main(argv, {
    stdout: sink((text) => (stdout += text)),
    stderr: sink((text) => (stderr += text)),
  });
  return { code, stdout, stderr };
}

/** An error as the SDK throws it for a service error response. */
export function awsError(name: string, message: string, httpStatusCode = 400, attempts = 1): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: httpStatusCode >= 500 ? "server" : "client",
    $metadata: { httpStatusCode, attempts, requestId: "00000000-0000-0000-0000-000000000000" },
  });
}

/** A deployed stack, as flags. */
export const DEPLOYMENT = {
  account: "123456789012",
  region: "eu-west-1",
  bucket: "dev-facility-data",
  stateMachineArn: "arn:aws:states:eu-west-1:123456789012:stateMachine:dev-facility-pipeline",
  topicArn: "arn:aws:sns:eu-west-1:123456789012:dev-facility-pipeline-failures",
  workgroup: "dev-facility-pipeline",
  database: "healthcare_facility_db",
} as const;

export const DEPLOYMENT_FLAGS = [
  "--bucket",
  DEPLOYMENT.bucket,
  "--state-machine-arn",
  DEPLOYMENT.stateMachineArn,
  "--topic-arn",
  DEPLOYMENT.topicArn,
  "--workgroup",
  DEPLOYMENT.workgroup,
  "--database",
  DEPLOYMENT.database,
];
