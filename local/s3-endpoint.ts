/**
 * An S3-compatible endpoint on this machine (s3rver), for the local runner and the tests.
 *
 * Clients talking to it need (see DESIGN.md): path-style addressing, the credentials
 * S3RVER/S3RVER, 127.0.0.1 rather than localhost, and AWS_REQUEST_CHECKSUM_CALCULATION /
 * AWS_RESPONSE_CHECKSUM_VALIDATION set to WHEN_REQUIRED, without which streamed uploads are
 * stored with their aws-chunked framing, silently. localS3Environment() returns all of that as
 * environment variables. s3rver does not implement AbortMultipartUpload (it answers 405): an
 * aborted upload leaves its parts in the directory, never an object. Listing more than one page
 * (ListObjectsV2 with a continuation token) needs node --openssl-legacy-provider (its token
 * cipher is DES).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface S3EndpointOptions {
  /** Where objects are stored. @default - a new temporary directory, removed by stop() */
  readonly directory?: string;
  /** Buckets created at start (existing ones are kept, with their objects). */
  readonly buckets: readonly string[];
}

export interface S3Endpoint {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly port: number;
  readonly directory: string;
  stop(): Promise<void>;
}

/** The only credentials s3rver accepts. */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  readonly httpServer?: Server;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

/** Starts s3rver on 127.0.0.1 on a port the OS chooses, without request logging. */
export async function startS3Endpoint(options: S3EndpointOptions): Promise<S3Endpoint> {
  // s3rver ships no type declarations.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require("s3rver") as S3rverConstructor;
  const ownsDirectory = options.directory === undefined;
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), "s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    directory,
    async stop() {
      // Clients keep idle connections open for seconds; close() would wait for each of them.
      const closed = server.close();
      server.httpServer?.closeAllConnections();
      await closed;
      if (ownsDirectory) rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** The environment variables that point the AWS SDK (and so the handlers) at the endpoint. */
export function localS3Environment(
  endpoint: Pick<S3Endpoint, "endpoint">,
  region = "us-east-1",
): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: endpoint.endpoint,
    AWS_S3_FORCE_PATH_STYLE: "true",
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_REGION: region,
    AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
    AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
  };
}
