/**
 * The errors the handlers throw, one class per failure a caller may want to tell apart.
 *
 * Lambda reports `error.name` as the errorType, so the state machine's Retry and Catch rules match
 * these names: the names are part of the contract, never rename one. None of these is transient:
 * retrying the same event gives the same error.
 */

/** The function's environment is missing a variable or holds an invalid value (a deployment bug). */
export class EnvironmentError extends Error {
  override readonly name: string = "EnvironmentError";
}

/** The event does not have the expected shape; the message lists every problem. */
export class InvalidEventError extends Error {
  override readonly name: string = "InvalidEventError";
}

/** The event names a bucket other than the one this function is allowed to touch (DATA_BUCKET). */
export class BucketNotAllowedError extends InvalidEventError {
  override readonly name: string = "BucketNotAllowedError";
}

/** The event names a key outside the prefix the function reads from or writes to. */
export class PrefixNotAllowedError extends InvalidEventError {
  override readonly name: string = "PrefixNotAllowedError";
}

/** The source object does not exist (deleted after its event was sent, or a wrong key). */
export class SourceNotFoundError extends Error {
  override readonly name: string = "SourceNotFoundError";
}

/** The source object was replaced while it was being read twice; the newer version's own event processes it. */
export class SourceChangedError extends Error {
  override readonly name: string = "SourceChangedError";
}

/** The source decompresses (or simply is) larger than MAX_DECOMPRESSED_BYTES. */
export class DecompressedSizeExceededError extends Error {
  override readonly name: string = "DecompressedSizeExceededError";
}

/** The source starts with the gzip magic bytes but is not a valid gzip stream. */
export class CorruptGzipError extends Error {
  override readonly name: string = "CorruptGzipError";
}

/** The source starts with "[" but its top-level structure is not a JSON array of values. */
export class MalformedJsonArrayError extends Error {
  override readonly name: string = "MalformedJsonArrayError";
}

/** The source holds records but none of them is valid; the rejected output has been written. */
export class NoValidRecordsError extends Error {
  override readonly name: string = "NoValidRecordsError";
  constructor(
    message: string,
    /** The invocation's result (its counts and output keys): the outputs were written before the error. */
    readonly result?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

/**
 * More of the source's records were invalid than maxRejectedShare allows: its rejected and
 * quality outputs have been written, its staged records dropped, and nothing is applied.
 */
export class RejectedShareExceededError extends NoValidRecordsError {
  override readonly name: string = "RejectedShareExceededError";
}

/**
 * `value` as an Error. Duck-typed rather than `instanceof Error`, which is false for errors made
 * in another realm (Node's own modules seen from a vm context such as jest's).
 */
export function asError(value: unknown): Error {
  if (typeof value === "object" && value !== null && typeof (value as Error).message === "string")
    return value as Error;
  return new Error(String(value));
}
