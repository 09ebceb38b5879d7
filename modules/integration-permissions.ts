/**
 * The IAM actions each Step Functions service integration needs, in one place, each with the
 * page it comes from. The orchestration module scopes them to this pipeline's resources; the
 * tests assert the role holds exactly these and nothing broader.
 */
export interface IntegrationPermission {
  /** Where the list of actions comes from. */
  readonly doc: string;
  readonly actions: readonly string[];
}

export const INTEGRATION_PERMISSIONS = {
  /** arn:aws:states:::lambda:invoke */
  lambdaInvoke: {
    doc: "https://docs.aws.amazon.com/step-functions/latest/dg/lambda-iam.html",
    actions: ["lambda:InvokeFunction"],
  },
  /** arn:aws:states:::athena:startQueryExecution.sync: the query itself, in the workgroup. */
  athenaQuery: {
    doc: "https://docs.aws.amazon.com/step-functions/latest/dg/athena-iam.html",
    actions: ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:StopQueryExecution"],
  },
  /** Athena reads the table definition with the caller's permissions. */
  athenaCatalogRead: {
    doc: "https://docs.aws.amazon.com/athena/latest/ug/fine-grained-access-to-glue-resources.html",
    actions: ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
  },
  /** Athena reads the table's data with the caller's permissions. */
  athenaDataRead: {
    doc: "https://docs.aws.amazon.com/athena/latest/ug/access.html",
    actions: ["s3:GetObject"],
  },
  /**
   * Athena commits an Iceberg write (MERGE, later OPTIMIZE and VACUUM) by pointing the Glue table
   * at its new metadata file, with the caller's permissions.
   */
  icebergCommit: {
    doc: "https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg.html#querying-iceberg-permissions",
    actions: ["glue:UpdateTable"],
  },
  /**
   * Athena reads and writes an Iceberg table's data and metadata files with the caller's
   * permissions; VACUUM and OPTIMIZE delete the files no snapshot needs (without s3:DeleteObject
   * VACUUM succeeds and deletes nothing).
   */
  icebergDataWrite: {
    doc: "https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg.html#querying-iceberg-permissions",
    actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
  },
  /** Athena lists the table location and the result location with the caller's permissions. */
  athenaBucketList: {
    doc: "https://docs.aws.amazon.com/athena/latest/ug/access.html",
    actions: ["s3:ListBucket", "s3:GetBucketLocation"],
  },
  /** Athena writes query results with the caller's permissions. */
  athenaResultsWrite: {
    doc: "https://docs.aws.amazon.com/athena/latest/ug/querying.html#query-results-specify-location",
    actions: [
      "s3:GetObject",
      "s3:PutObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
      "s3:ListBucketMultipartUploads",
    ],
  },
  /** arn:aws:states:::sns:publish */
  snsPublish: {
    doc: "https://docs.aws.amazon.com/step-functions/latest/dg/sns-iam.html",
    actions: ["sns:Publish"],
  },
  /** Publishing to a topic encrypted with a customer managed key. */
  snsEncryptedPublish: {
    doc: "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#sns-what-permissions-for-sse",
    actions: ["kms:GenerateDataKey", "kms:Decrypt"],
  },
  /** Execution logging to CloudWatch Logs; these actions support no resource-level scoping. */
  logDelivery: {
    doc: "https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy",
    actions: [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ],
  },
  /** X-Ray tracing; X-Ray supports no resource-level scoping. */
  xrayTracing: {
    doc: "https://docs.aws.amazon.com/step-functions/latest/dg/xray-iam.html",
    actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"],
  },
  /** arn:aws:states:::aws-sdk:sfn:listExecutions: the digest's upkeep looks for running pipeline executions. */
  listExecutions: {
    doc: "https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html",
    actions: ["states:ListExecutions"],
  },
  /** The EventBridge Scheduler schedule's execution role: the target call. */
  scheduleStartExecution: {
    doc: "https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role",
    actions: ["states:StartExecution"],
  },
  /** The schedule's execution role also delivers to its dead-letter queue. */
  scheduleDeadLetter: {
    doc: "https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html",
    actions: ["sqs:SendMessage"],
  },
  /** The EventBridge rule's target role. */
  startExecution: {
    doc: "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html",
    actions: ["states:StartExecution"],
  },
} as const satisfies Record<string, IntegrationPermission>;
