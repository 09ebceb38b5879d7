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
import { Construct } from "constructs";
import { DATA_PREFIXES, type DataPrefix } from "../core/data-layout";
import {
  ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS,
  ATHENA_RESULTS_EXPIRATION_DAYS,
  NONCURRENT_VERSION_EXPIRATION_DAYS,
} from "../core/settings";
import { policyDocument, renderPolicy } from "./policy-document";

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
  /** The created bucket; undefined for an existing bucket. */
  readonly bucket?: S3Bucket;
  readonly bucketName: string;
  readonly bucketArn: string;
  /** The KMS key used for default encryption, if any. */
  readonly kmsKeyArn?: string;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    this.kmsKeyArn = props.kmsKeyArn;
    if (props.existingBucketName !== undefined) {
      this.bucketName = props.existingBucketName;
      this.bucketArn = `arn:${props.partition ?? "aws"}:s3:::${props.existingBucketName}`;
      return;
    }

    const bucket = new S3Bucket(this, "bucket", { bucket: props.bucketName });
    this.bucket = bucket;
    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.configureBucket(bucket, props);
  }

  private configureBucket(bucket: S3Bucket, props: StorageProps): void {
    new S3BucketPublicAccessBlock(this, "public-access-block", {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });

    new S3BucketOwnershipControls(this, "ownership-controls", {
      bucket: bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });

    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket: bucket.id,
      rule: [
        props.kmsKeyArn
          ? {
              applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: props.kmsKeyArn },
              bucketKeyEnabled: true,
            }
          : { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
      ],
    });

    new S3BucketVersioningA(this, "versioning", {
      bucket: bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });

    new S3BucketPolicy(this, "policy", {
      bucket: bucket.id,
      policy: renderPolicy(
        policyDocument({
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [bucket.arn, `${bucket.arn}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        }),
      ),
    });

    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket: bucket.id,
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
      bucket: bucket.id,
      eventbridge: true,
    });
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
