/**
 * The errors of the operations CLI, and how each becomes a message a person can act on.
 *
 * Exit codes: 2 for what the command line or its inputs got wrong (a flag, a missing outputs
 * file, an unknown query, an object outside raw/), 1 for what went wrong while running (AWS
 * refused or failed a call, an execution or query failed).
 */
import { AwsCallError, MAX_ATTEMPTS, OperationFailedError, OutputsFileError } from "../aws/errors";
import { UsageError, errorName } from "../core/target";

const ACCESS_DENIED = new Set(["AccessDeniedException", "AccessDenied", "AuthorizationErrorException", "Forbidden"]);
const THROTTLED = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "Throttled",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "SlowDown",
  "RequestThrottled",
  "RequestThrottledException",
]);
const EXPIRED = new Set(["ExpiredTokenException", "ExpiredToken", "TokenRefreshRequired", "RequestExpired"]);
const INVALID_CREDENTIALS = new Set([
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "InvalidAccessKeyId",
]);
const KMS = new Set([
  "KMSAccessDeniedException",
  "KMSDisabledException",
  "KMSInvalidStateException",
  "KMSNotFoundException",
]);
const NOT_FOUND = new Set([
  "StateMachineDoesNotExist",
  "ResourceNotFoundException",
  "NotFoundException",
  "NotFound",
  "NoSuchBucket",
  "NoSuchKey",
]);
const NETWORK = new Set(["ENOTFOUND", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EAI_AGAIN", "TimeoutError"]);

const CONFIGURE_CREDENTIALS =
  "Configure credentials the AWS SDK's default chain can find, one of:\n" +
  "  - aws configure                                   (access keys in ~/.aws/credentials)\n" +
  "  - aws sso login --profile NAME, then export AWS_PROFILE=NAME\n" +
  "  - export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... [AWS_SESSION_TOKEN=...]\n" +
  "or run where a role is attached (EC2 instance profile, ECS task role, CI OIDC role).";

/** What main() prints and returns for an error thrown by a subcommand. */
export interface ErrorReport {
  readonly message: string;
  readonly exitCode: 1 | 2;
}

/**
 * Turns any error into a message that says what to do, and an exit code. Errors this module does
 * not recognize are reported with their name and message (and exit code 1), never swallowed.
 */
export function explainError(error: unknown): ErrorReport {
  if (error instanceof UsageError) return { message: `${error.message}\nRun with --help for usage.`, exitCode: 2 };
  if (error instanceof OutputsFileError) return { message: error.message, exitCode: 2 };
  if (error instanceof OperationFailedError) return { message: error.message, exitCode: 1 };
  if (errorName(error) === "UnknownQueryError") return { message: (error as Error).message, exitCode: 2 };

  const call = error instanceof AwsCallError ? error : undefined;
  const cause = call ? call.cause : error;
  const name = errorName(cause);
  const message = describe(cause);
  const action = call?.action ?? "the AWS call";
  const resource = call?.resource ?? "the resource";

  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(message)) {
    return { message: `No AWS credentials found (${message}).\n${CONFIGURE_CREDENTIALS}`, exitCode: 1 };
  }
  if (/Region is missing/i.test(message)) {
    return {
      message: "No AWS region: pass --region REGION, or set AWS_REGION (or a region in your AWS profile).",
      exitCode: 2,
    };
  }
  if (EXPIRED.has(name)) {
    return {
      message: `Your AWS credentials have expired (${name} from ${action}). Refresh them (e.g. aws sso login) and run again.`,
      exitCode: 1,
    };
  }
  if (INVALID_CREDENTIALS.has(name)) {
    return {
      message: `AWS did not accept your credentials (${name} from ${action}: ${message}).\n${CONFIGURE_CREDENTIALS}`,
      exitCode: 1,
    };
  }
  if (KMS.has(name)) {
    return {
      message:
        `${action} on ${resource} was refused by KMS (${name}: ${message}).\n` +
        "The failure topic is encrypted with a customer-managed key: your role needs kms:GenerateDataKey and " +
        "kms:Decrypt on that key, in its key policy or an IAM policy.",
      exitCode: 1,
    };
  }
  if (ACCESS_DENIED.has(name) || httpStatus(cause) === 403) {
    return {
      message:
        `Access denied: you are not allowed to call ${action} on ${resource}.\n` +
        `  ${name}: ${message}\n` +
        `Ask for ${action} on ${resource} (docs/operations.md, "Permissions", lists every action the CLI uses).`,
      exitCode: 1,
    };
  }
  if (THROTTLED.has(name) || httpStatus(cause) === 429) {
    const attempts = attemptsOf(cause);
    return {
      message:
        `AWS kept throttling ${action} (${name}) after ${attempts ?? MAX_ATTEMPTS} attempts: every call is retried ` +
        `with exponential backoff by the SDK's standard retry strategy, up to ${MAX_ATTEMPTS} attempts.\n` +
        "Wait a minute and run again; if it persists, other callers are using the account's quota for this API " +
        "(Service Quotas shows it).",
      exitCode: 1,
    };
  }
  if (NOT_FOUND.has(name) || httpStatus(cause) === 404) {
    return {
      message:
        `${action}: ${resource} does not exist (${name}: ${message}).\n` +
        "Check that the outputs file (or the flags) describe the deployed stack, and the region (--region).",
      exitCode: 1,
    };
  }
  if (NETWORK.has(name) || NETWORK.has(String((cause as { code?: unknown })?.code))) {
    return {
      message: `Could not reach AWS for ${action} (${name}: ${message}). Check the network, proxy and --region.`,
      exitCode: 1,
    };
  }
  if (call) return { message: call.message, exitCode: 1 };
  // Not from AWS and not foreseen: a bug, so the stack helps whoever reports it.
  if (cause instanceof Error && !("$metadata" in cause)) return { message: cause.stack ?? message, exitCode: 1 };
  return { message: `${name}: ${message}`, exitCode: 1 };
}

/** One problem inline; several as a list, one per line. */
export function listProblems(problems: readonly string[]): string {
  return problems.length === 1 ? problems[0] : `\n  - ${problems.join("\n  - ")}`;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function attemptsOf(error: unknown): number | undefined {
  return (error as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts;
}
