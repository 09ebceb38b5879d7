/**
 * The data bucket: one private, encrypted, versioned bucket holding every stage's objects under
 * the prefixes of core/data-layout.ts.
 */
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketNotification } from "@cdktf/provider-aws/lib/s3-bucket-notification";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Fn, Token, type IResolvable } from "cdktf";
import { Construct } from "constructs";
import { DATA_PREFIXES, type DataPrefix } from "../core/data-layout";
import {
  ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS,
  ATHENA_RESULTS_EXPIRATION_DAYS,
  NONCURRENT_VERSION_EXPIRATION_DAYS,
} from "../core/settings";
import { countWhile, decidedAtPlan, givenOrCreated, isNull, presenceOf, whilePresent, type Presence } from "./byo";
import { policyDocument, renderPolicy, type PolicyStatement } from "./policy-document";

export interface StorageProps {
  /** Name of the bucket to create. Ignored when `existingBucketName` is set. */
  readonly bucketName: string;
  /**
   * Use this existing bucket instead of creating one. The stack then configures nothing on it:
   * its owner must turn on EventBridge notifications, block public access, encrypt (with
   * `kmsKeyArn` if given) and expire athena-results/ (see README "Bring your own").
   * @default - a bucket is created
   */
  readonly existingBucketName?: string;
  /** AWS partition, for the ARN of an existing bucket. @default "aws" */
  readonly partition?: string;
  /**
   * KMS key for default encryption (SSE-KMS with an S3 Bucket Key).
   * @default - SSE-S3 (AES-256, keys managed by S3)
   */
  readonly kmsKeyArn?: string;
  /** Days before Athena query results expire. @default 30 (ATHENA_RESULTS_EXPIRATION_DAYS in core/settings.ts) */
  readonly athenaResultsExpirationDays?: number;
  /**
   * Days before noncurrent object versions expire.
   * @default 90 (NONCURRENT_VERSION_EXPIRATION_DAYS in core/settings.ts)
   */
  readonly noncurrentVersionExpirationDays?: number;
  /**
   * Days before an incomplete multipart upload is aborted.
   * @default 7 (ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS in core/settings.ts)
   */
  readonly abortIncompleteMultipartUploadDays?: number;
}

/**
 * A bucket with Block Public Access on all four settings, ACLs disabled (BucketOwnerEnforced),
 * default encryption, versioning, a policy denying any request not sent over TLS, lifecycle rules
 * and S3 events sent to EventBridge (which starts the workflow). Or, with `existingBucketName`,
 * a reference to a bucket someone else owns and configures.
 */
export class Storage extends Construct {
  /** The created bucket; undefined for an existing bucket (created 0 or 1 times when Terraform decides). */
  readonly bucket?: S3Bucket;
  readonly bucketName: string;
  readonly bucketArn: string;
  /** The KMS key used for default encryption, if any. */
  readonly kmsKeyArn?: string;
  /** Whether `kmsKeyArn` is there (a condition when a module variable gives it, modules/byo.ts). */
  readonly kmsKeyPresent: Presence;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    this.kmsKeyArn = props.kmsKeyArn;
    this.kmsKeyPresent = presenceOf(props.kmsKeyArn);
    const existing = props.existingBucketName;
    if (existing !== undefined && !decidedAtPlan(existing)) {
      this.bucketName = existing;
      this.bucketArn = `arn:${props.partition ?? "aws"}:s3:::${existing}`;
      return;
    }

    // A module variable that may be null: the bucket and its configuration exist only without it.
    const count = existing === undefined ? undefined : countWhile(isNull(existing));
    const bucket = new S3Bucket(this, "bucket", { bucket: props.bucketName, count });
    if (existing === undefined) {
      this.bucket = bucket;
      this.bucketName = bucket.bucket;
      this.bucketArn = bucket.arn;
      this.configureBucket(bucket.id, bucket.arn, props);
    } else {
      this.bucketName = givenOrCreated(existing, bucket, "bucket");
      this.bucketArn = `arn:${props.partition ?? "aws"}:s3:::${this.bucketName}`;
      this.configureBucket(this.bucketName, this.bucketArn, props, count);
    }
  }

  private configureBucket(bucketId: string, bucketArn: string, props: StorageProps, count?: number): void {
    new S3BucketPublicAccessBlock(this, "public-access-block", {
      count,
      bucket: bucketId,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });

    new S3BucketOwnershipControls(this, "ownership-controls", {
      count,
      bucket: bucketId,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });

    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      count,
      bucket: bucketId,
      rule: [encryptionRule(props.kmsKeyArn)],
    });

    new S3BucketVersioningA(this, "versioning", {
      count,
      bucket: bucketId,
      versioningConfiguration: { status: "Enabled" },
    });

    new S3BucketPolicy(this, "policy", {
      count,
      bucket: bucketId,
      policy: renderPolicy(
        policyDocument({
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [bucketArn, `${bucketArn}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        }),
      ),
    });

    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      count,
      bucket: bucketId,
      rule: [
        {
          id: "abort-incomplete-multipart-uploads",
          status: "Enabled",
          filter: [{}],
          abortIncompleteMultipartUpload: [
            {
              daysAfterInitiation:
                props.abortIncompleteMultipartUploadDays ?? ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS.default,
            },
          ],
        },
        {
          id: "expire-athena-results",
          status: "Enabled",
          filter: [{ prefix: DATA_PREFIXES.athenaResults }],
          expiration: [{ days: props.athenaResultsExpirationDays ?? ATHENA_RESULTS_EXPIRATION_DAYS.default }],
        },
        {
          id: "expire-noncurrent-versions",
          status: "Enabled",
          filter: [{}],
          noncurrentVersionExpiration: [
            { noncurrentDays: props.noncurrentVersionExpirationDays ?? NONCURRENT_VERSION_EXPIRATION_DAYS.default },
          ],
        },
      ],
    });

    new S3BucketNotification(this, "eventbridge-notifications", {
      count,
      bucket: bucketId,
      eventbridge: true,
    });
  }

  /** What a role needs to read and write objects encrypted with the bucket's key, if it has one. */
  bucketKeyStatements(): PolicyStatement[] {
    if (this.kmsKeyArn === undefined) return [];
    return whilePresent(
      {
        Sid: "UseBucketKey",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Resource: this.kmsKeyArn,
      },
      this.kmsKeyPresent,
    );
  }

  /** `s3://<bucket>/<prefix>` for one of the data prefixes. */
  s3Url(prefix: DataPrefix): string {
    return `s3://${this.bucketName}/${DATA_PREFIXES[prefix]}`;
  }

  /** The ARN pattern of every object under a data prefix, for IAM resources. */
  objectArns(prefix: DataPrefix): string {
    return `${this.bucketArn}/${DATA_PREFIXES[prefix]}*`;
  }
}

/** SSE-KMS with a bucket key for a key, else SSE-S3; for a module variable, whichever it decides. */
function encryptionRule(kmsKeyArn: string | undefined) {
  if (kmsKeyArn === undefined) return { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } };
  if (!decidedAtPlan(kmsKeyArn)) {
    return {
      applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: kmsKeyArn },
      bucketKeyEnabled: true,
    };
  }
  const withoutKey = isNull(kmsKeyArn);
  return {
    applyServerSideEncryptionByDefault: {
      sseAlgorithm: Token.asString(Fn.conditional(withoutKey, "AES256", "aws:kms")),
      kmsMasterKeyId: kmsKeyArn,
    },
    bucketKeyEnabled: Fn.conditional(withoutKey, false, true) as IResolvable,
  };
}
