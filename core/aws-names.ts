/**
 * What valid AWS names and ARNs look like, with what to tell a person who wrote another. One
 * definition for the config schema and the FacilityPipeline construct's own checks.
 */
export interface NameRule {
  readonly pattern: RegExp;
  /** Completes "expected ...". */
  readonly expected: string;
}

export const AWS_NAMES = {
  region: { pattern: /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, expected: "an AWS region such as us-east-1" },
  bucketName: {
    pattern: /^(?!xn--)(?!.*\.\.)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    expected: "a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)",
  },
  kmsKeyArn: {
    pattern: /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+$/,
    expected: "an ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>)",
  },
  topicArn: {
    pattern: /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/,
    expected: "an ARN of an SNS topic (arn:aws:sns:<region>:<account>:<name>)",
  },
  policyArn: {
    pattern: /^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/.+$/,
    expected: "an ARN of an IAM policy (arn:aws:iam::<account>:policy/<name>)",
  },
  glueDatabaseName: {
    pattern: /^[a-z0-9_]{1,255}$/,
    expected: "a Glue database name: lower case letters, digits and underscores (Athena reads a hyphen as minus)",
  },
  rolePath: {
    pattern: /^\/([\w+=,.@-]+\/)*$/,
    expected: 'a path that starts and ends with "/", such as "/data-platform/"',
  },
} as const satisfies Record<string, NameRule>;
