/**
 * The S3 client and the two ways the handlers use it: reading an object as a stream and writing
 * one with a streamed multipart upload that either completes whole or leaves nothing.
 *
 * The client is configured only by the environment, so the same bundle runs against AWS and a
 * local endpoint: AWS_REGION, the credential chain and AWS_ENDPOINT_URL_S3 (read by the SDK
 * itself). Path-style addressing, which local endpoints such as s3rver need, is used when
 * AWS_S3_FORCE_PATH_STYLE=true or an endpoint URL is set.
 */
import { GetObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { PassThrough, type Readable, type Writable } from "node:stream";
import { asError, SourceChangedError, SourceNotFoundError } from "./errors";

let cached: { readonly settings: string; readonly client: S3Client } | undefined;

/**
 * The S3 client, created on first use and then kept for the life of the execution environment
 * (module scope), so warm invocations reuse its connections. Creating it lazily rather than at
 * import lets a process (the tests, the local runner) set the endpoint variables after importing
 * the handlers but before the first call. If those variables change between calls (a process
 * that starts a new local endpoint), the next call gets a new client; in Lambda they never do.
 */
export function s3Client(): S3Client {
  const env = process.env;
  const settings = [
    env.AWS_ENDPOINT_URL_S3,
    env.AWS_ENDPOINT_URL,
    env.AWS_S3_FORCE_PATH_STYLE,
    env.AWS_REGION,
    env.AWS_ACCESS_KEY_ID,
  ].join("\n");
  if (cached?.settings !== settings) {
    cached?.client.destroy();
    const forcePathStyle =
      env.AWS_S3_FORCE_PATH_STYLE === "true" || Boolean(env.AWS_ENDPOINT_URL_S3) || Boolean(env.AWS_ENDPOINT_URL);
    cached = { settings, client: new S3Client({ forcePathStyle }) };
  }
  return cached.client;
}

export interface OpenedObject {
  readonly body: Readable;
  readonly eTag?: string;
  /** Absent (or "null") when the bucket is not versioned. */
  readonly versionId?: string;
  readonly lastModified?: Date;
  readonly contentLength?: number;
}

/**
 * Starts reading an object. With `versionId`, exactly that version. With `ifMatch` (an ETag from
 * the event or an earlier read) S3 refuses any other version, so two passes see the same bytes.
 */
export async function openObject(
  bucket: string,
  key: string,
  ifMatch?: string,
  versionId?: string,
): Promise<OpenedObject> {
  try {
    const response = await s3Client().send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        IfMatch: ifMatch === undefined || ifMatch.startsWith('"') ? ifMatch : `"${ifMatch}"`,
        VersionId: versionId,
      }),
    );
    if (response.Body === undefined) throw new SourceNotFoundError(`s3://${bucket}/${key} returned no body`);
    // S3 answers 412 itself; an endpoint that ignores If-Match (s3rver) is caught here.
    const unquoted = (etag: string | undefined) => etag?.replaceAll('"', "");
    if (ifMatch !== undefined && unquoted(response.ETag) !== unquoted(ifMatch)) {
      (response.Body as Readable).destroy();
      throw new SourceChangedError(
        `s3://${bucket}/${key} was replaced while it was being processed (ETag ${unquoted(ifMatch)} no longer matches); the new version's own event processes it`,
      );
    }
    return {
      body: response.Body as Readable,
      eTag: response.ETag,
      versionId: response.VersionId === "null" ? undefined : response.VersionId,
      lastModified: response.LastModified,
      contentLength: response.ContentLength,
    };
  } catch (error) {
    if (error instanceof S3ServiceException && (error.name === "NoSuchKey" || error.$metadata.httpStatusCode === 404)) {
      const what = versionId === undefined ? `s3://${bucket}/${key}` : `s3://${bucket}/${key} version ${versionId}`;
      throw new SourceNotFoundError(`${what} does not exist (deleted after its event was sent?)`);
    }
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 412) {
      throw new SourceChangedError(
        `s3://${bucket}/${key} was replaced while it was being processed (ETag ${ifMatch} no longer matches); the new version's own event processes it`,
      );
    }
    throw error;
  }
}

/** An object being written: write to `stream`, then either `complete()` or `discard()`. */
export interface ObjectUpload {
  readonly key: string;
  readonly stream: Writable;
  /** Ends the stream and waits until the object exists, whole. */
  complete(): Promise<void>;
  /** Stops the upload; the object is not created (a started multipart upload is aborted). */
  discard(reason: Error): Promise<void>;
}

/**
 * Part size of streamed uploads: S3's minimum, which keeps the memory an upload buffers (about
 * (QUEUE_SIZE + 2) parts: those in flight, the one being filled and lib-storage's copy of it)
 * lowest. 10,000 parts of 5 MiB cap an output at about 48 GiB, far above MAX_DECOMPRESSED_BYTES'
 * default. Two parts in flight keep an upload as fast as the parser on one vCPU.
 */
const PART_SIZE = 5 * 1024 * 1024;
const QUEUE_SIZE = 2;

/**
 * Starts a streamed upload (lib-storage Upload over a PassThrough). Nothing is visible in the
 * bucket until complete() succeeds: an output smaller than one part is sent as a single PutObject
 * at the end, a larger one is a multipart upload that S3 assembles only on completion. Memory is
 * bounded by a few parts, whatever the object's size.
 */
export function startObjectUpload(
  bucket: string,
  key: string,
  contentType: string,
  onDiscardError?: (error: unknown) => void,
): ObjectUpload {
  const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
  const upload = new Upload({
    client: s3Client(),
    params: { Bucket: bucket, Key: key, Body: stream, ContentType: contentType },
    partSize: PART_SIZE,
    queueSize: QUEUE_SIZE,
  });
  const done = upload.done();
  // A failed upload stops reading the stream; destroying it makes a writer waiting for 'drain' fail too.
  done.catch((error: unknown) => stream.destroy(asError(error)));
  return {
    key,
    stream,
    async complete() {
      stream.end();
      await done;
    },
    async discard(reason: Error) {
      // Destroying the body (rather than calling upload.abort(), which settles done() at once)
      // lets lib-storage finish its own cleanup, AbortMultipartUpload included, before we return.
      stream.destroy(reason);
      try {
        await done;
      } catch (error) {
        if (error !== reason) onDiscardError?.(error);
      }
    },
  };
}
