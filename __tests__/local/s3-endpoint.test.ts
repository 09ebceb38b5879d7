import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3RVER_CREDENTIALS, startS3Endpoint } from "../../local/s3-endpoint";

describe("startS3Endpoint", () => {
  test("listens on 127.0.0.1 on a port the OS chose, with the buckets asked for", async () => {
    const endpoint = await startS3Endpoint({ buckets: ["bucket-one", "bucket-two"] });
    const client = new S3Client({
      endpoint: endpoint.endpoint,
      forcePathStyle: true,
      region: "us-east-1",
      credentials: S3RVER_CREDENTIALS,
    });
    try {
      expect(endpoint.port).toBeGreaterThan(0);
      expect(endpoint.endpoint).toBe(`http://127.0.0.1:${endpoint.port}`);
      const { Buckets } = await client.send(new ListBucketsCommand({}));
      expect(Buckets?.map((bucket) => bucket.Name).sort()).toEqual(["bucket-one", "bucket-two"]);
    } finally {
      client.destroy();
      await endpoint.stop();
    }
    expect(existsSync(endpoint.directory)).toBe(false); // its own temporary directory is removed
  });

  test("keeps a directory it was given, and two endpoints get different ports", async () => {
    const directory = mkdtempSync(join(tmpdir(), "s3-endpoint-test-"));
    const [a, b] = await Promise.all([
      startS3Endpoint({ directory, buckets: ["a"] }),
      startS3Endpoint({ buckets: ["b"] }),
    ]);
    try {
      expect(a.directory).toBe(directory);
      expect(a.port).not.toBe(b.port);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect(existsSync(join(directory, "a"))).toBe(true);
    rmSync(directory, { recursive: true, force: true });
  });
});
