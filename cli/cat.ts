/**
 * facility-pipeline cat KEY: writes one object of the data bucket to stdout, as it is stored. The
 * local endpoint keeps objects in its own file format, so this is how to read one locally, and the
 * same command reads the deployed bucket.
 */
import { UsageError, type Target } from "../core/target";
import type { CommandOutput } from "./output";

/** The key named by `s3://BUCKET/KEY` (BUCKET must be the target's) or by a plain key. */
export function objectKeyOf(argument: string | undefined, bucket: string): string {
  if (!argument) throw new UsageError("cat: name an object: cat KEY or cat s3://BUCKET/KEY");
  const uri = /^s3:\/\/([^/]+)\/(.+)$/.exec(argument);
  if (!uri) return argument.replace(/^\/+/, "");
  if (uri[1] !== bucket) {
    throw new UsageError(`cat: ${argument} is not in the pipeline's bucket ${bucket}: use s3://${bucket}/KEY or KEY`);
  }
  return uri[2];
}

export async function cat(target: Target, argument: string | undefined): Promise<CommandOutput> {
  const key = objectKeyOf(argument, target.bucket);
  return { exitCode: 0, text: "", json: null, body: await target.readObject(key) };
}
