/**
 * The errors the AWS target raises, and how many attempts each AWS call gets. The CLI turns them
 * into messages and exit codes (cli/errors.ts).
 */
import { errorName } from "../core/target";

/** The cdktf outputs file is missing, unreadable, or lacks an output that is needed: exit code 2. */
export class OutputsFileError extends Error {
  override readonly name = "OutputsFileError";
}

/** How many attempts every AWS call gets: the SDK's standard retry strategy (default 3) with more. */
export const MAX_ATTEMPTS = 8;

/**
 * An AWS call that failed, with the IAM action it needed and the resource it was about, so the
 * message can say what to ask for.
 */
export class AwsCallError extends Error {
  override readonly name = "AwsCallError";

  constructor(
    /** The IAM action, e.g. "states:StartExecution". */
    readonly action: string,
    /** The ARN or s3:// URI the call was about. */
    readonly resource: string,
    override readonly cause: unknown,
  ) {
    super(`${action} on ${resource} failed: ${describe(cause)}`);
  }

  /** The SDK error's name (its error code), e.g. "AccessDeniedException". */
  get code(): string {
    return errorName(this.cause);
  }
}

/** A failure found while running (a query that failed, an object that cannot be replayed): exit code 1. */
export class OperationFailedError extends Error {
  override readonly name = "OperationFailedError";
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
