/**
 * A real S3-compatible endpoint (s3rver) for the handler tests, with the environment pointed at
 * it the way the Lambda runtime would be: the handlers run unchanged, no client mock.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { localS3Environment, startS3Endpoint, S3RVER_CREDENTIALS, type S3Endpoint } from "../../local/s3-endpoint";
import { s3Client } from "../../lambdas/shared/s3";

export const BUCKET = "facility-data-test";
export const OTHER_BUCKET = "another-teams-bucket";

export interface TestS3 {
  readonly endpoint: S3Endpoint;
  put(key: string, body: string | Uint8Array, bucket?: string): Promise<void>;
  /** The object's bytes, or undefined if it does not exist. */
  bytes(key: string): Promise<Buffer | undefined>;
  /** The object's text; fails if it does not exist. */
  text(key: string): Promise<string>;
  /** The object's non-empty lines, parsed. */
  jsonLines(key: string): Promise<Record<string, unknown>[]>;
  exists(key: string): Promise<boolean>;
  /** The object's ETag (without quotes) and LastModified; fails if it does not exist. */
  head(key: string): Promise<{ etag: string; lastModified: Date }>;
  /** Keys under a prefix (one page: tests keep fewer than 1000 objects). */
  keys(prefix: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** Starts s3rver with BUCKET and OTHER_BUCKET and points the environment (and so the handlers) at it. */
export async function startTestS3(): Promise<TestS3> {
  const endpoint = await startS3Endpoint({ buckets: [BUCKET, OTHER_BUCKET] });
  Object.assign(process.env, localS3Environment(endpoint), { DATA_BUCKET: BUCKET });
  const client = new S3Client({
    endpoint: endpoint.endpoint,
    forcePathStyle: true,
    region: "us-east-1",
    credentials: S3RVER_CREDENTIALS,
  });
  const bytes = async (key: string): Promise<Buffer | undefined> => {
    try {
      const response = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      return Buffer.from(await response.Body!.transformToByteArray());
    } catch (error) {
      if ((error as Error).name === "NoSuchKey") return undefined;
      throw error;
    }
  };
  const text = async (key: string): Promise<string> => {
    const body = await bytes(key);
    if (body === undefined) throw new Error(`expected s3://${BUCKET}/${key} to exist`);
    return body.toString("utf8");
  };
  return {
    endpoint,
    async put(key, body, bucket = BUCKET) {
      const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.length }));
    },
    bytes,
    text,
    async jsonLines(key) {
      return (await text(key))
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    async head(key) {
      const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      return { etag: (head.ETag ?? "").replaceAll('"', ""), lastModified: head.LastModified! };
    },
    async exists(key) {
      try {
        await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
        return true;
      } catch (error) {
        if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
        throw error;
      }
    },
    async keys(prefix) {
      const response = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
      return (response.Contents ?? []).map((object) => object.Key!).sort();
    },
    async stop() {
      client.destroy();
      s3Client().destroy();
      await endpoint.stop();
    },
  };
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a failure");
}
