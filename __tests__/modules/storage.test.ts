import { Testing } from "cdktf";
import { DATA_PREFIXES } from "../../core/data-layout";
import { Storage } from "../../modules/storage";
import { onlyResource, referenceTo, synthStack, type SynthesizedStack } from "../helpers/synth";

describe("storage module", () => {
  const stack = synthStack();
  const bucketId = referenceTo(stack, "aws_s3_bucket", "id");
  const bucketArn = referenceTo(stack, "aws_s3_bucket", "arn");

  test("the bucket name derives from the name prefix unless configured", () => {
    expect(onlyResource(stack, "aws_s3_bucket").bucket).toBe("hfap-test-facility-data");
    expect(onlyResource(synthStack({ bucketName: "acme-facilities" }), "aws_s3_bucket").bucket).toBe("acme-facilities");
  });

  test("Block Public Access is on for all four settings", () => {
    expect(onlyResource(stack, "aws_s3_bucket_public_access_block")).toMatchObject({
      bucket: bucketId,
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
  });

  test("ACLs are disabled (BucketOwnerEnforced)", () => {
    expect(onlyResource(stack, "aws_s3_bucket_ownership_controls")).toMatchObject({
      bucket: bucketId,
      rule: { object_ownership: "BucketOwnerEnforced" },
    });
  });

  test("default encryption is SSE-S3, or SSE-KMS with a bucket key when a key is given", () => {
    expect(onlyResource(stack, "aws_s3_bucket_server_side_encryption_configuration").rule).toEqual([
      { apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } },
    ]);
    const keyArn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const withKey = JSON.parse(
      Testing.synthScope((scope) => new Storage(scope, "storage", { bucketName: "b-kms", kmsKeyArn: keyArn })),
    ) as SynthesizedStack;
    expect(onlyResource(withKey, "aws_s3_bucket_server_side_encryption_configuration").rule).toEqual([
      {
        apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: keyArn },
        bucket_key_enabled: true,
      },
    ]);
  });

  test("versioning is enabled", () => {
    expect(onlyResource(stack, "aws_s3_bucket_versioning")).toMatchObject({
      bucket: bucketId,
      versioning_configuration: { status: "Enabled" },
    });
  });

  test("the bucket policy denies every request not sent over TLS, on the bucket and its objects", () => {
    const policy = JSON.parse(onlyResource(stack, "aws_s3_bucket_policy").policy as string);
    expect(policy.Statement).toContainEqual({
      Sid: "DenyInsecureTransport",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [bucketArn, `${bucketArn}/*`],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
  });

  test("lifecycle aborts incomplete uploads everywhere and expires Athena results and old versions", () => {
    const rules = onlyResource(stack, "aws_s3_bucket_lifecycle_configuration").rule as Array<Record<string, unknown>>;
    const byId = Object.fromEntries(rules.map((rule) => [rule.id, rule]));
    expect(byId["abort-incomplete-multipart-uploads"]).toMatchObject({
      status: "Enabled",
      filter: [{}],
      abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }],
    });
    expect(byId["expire-athena-results"]).toMatchObject({
      status: "Enabled",
      filter: [{ prefix: DATA_PREFIXES.athenaResults }],
      expiration: [{ days: 30 }],
    });
    expect(byId["expire-noncurrent-versions"]).toMatchObject({
      status: "Enabled",
      noncurrent_version_expiration: [{ noncurrent_days: 90 }],
    });
  });

  test("retention periods come from the config", () => {
    const rules = onlyResource(
      synthStack({ athenaResultsExpirationDays: 7, noncurrentVersionExpirationDays: 400 }),
      "aws_s3_bucket_lifecycle_configuration",
    ).rule as Array<Record<string, unknown>>;
    expect(rules.find((rule) => rule.id === "expire-athena-results")?.expiration).toEqual([{ days: 7 }]);
    expect(rules.find((rule) => rule.id === "expire-noncurrent-versions")?.noncurrent_version_expiration).toEqual([
      { noncurrent_days: 400 },
    ]);
  });

  test("S3 events go to EventBridge", () => {
    expect(onlyResource(stack, "aws_s3_bucket_notification")).toMatchObject({ bucket: bucketId, eventbridge: true });
  });
});
