/**
 * The two Lambda functions: filter-expiring (ingest, validate, find expiring accreditations) and
 * relocate-results (publish Athena results under analytics/). Each has its own role, scoped to
 * the prefixes it reads and writes, and its own log group.
 */
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { AssetType, TerraformAsset, Token } from "cdktf";
import { Construct } from "constructs";
import { FUNCTION_DEFAULTS, LOG_RETENTION_DAYS, MAX_REJECTED_SHARE } from "../core/settings";
import { bundleLambda } from "./lambda-bundle";
import { ServiceRole } from "./iam";
import type { PolicyStatement } from "./policy-document";
import type { Storage } from "./storage";

/** Size and concurrency of one function (FUNCTION_DEFAULTS and FUNCTION_LIMITS in core/settings.ts). */
export interface FunctionSettings {
  /** Megabytes. @default 1024 for filter-expiring, 256 for relocate-results */
  readonly memorySize?: number;
  /** Seconds. @default 300 for filter-expiring, 60 for relocate-results */
  readonly timeout?: number;
  /** Reserved concurrent executions. @default 10 for filter-expiring, 5 for relocate-results */
  readonly reservedConcurrency?: number;
}

export interface ComputeProps {
  readonly storage: Storage;
  /** Prefix of function, role and log group names. */
  readonly namePrefix: string;
  /** @default 90 (LOG_RETENTION_DAYS in core/settings.ts) */
  readonly logRetentionDays?: number;
  /** filter-expiring's MAX_REJECTED_SHARE. @default 0.1 (MAX_REJECTED_SHARE in core/settings.ts) */
  readonly maxRejectedShare?: number;
  /** @default - see FunctionSettings */
  readonly filterExpiring?: FunctionSettings;
  /** @default - see FunctionSettings */
  readonly relocateResults?: FunctionSettings;
  /**
   * Key for the log groups (its policy must let logs.<region>.amazonaws.com use it).
   * @default - CloudWatch Logs' own encryption
   */
  readonly logsKmsKeyArn?: string;
  /** @default - no permissions boundary */
  readonly permissionsBoundary?: string;
  /** @default "/" */
  readonly rolePath?: string;
}

/** One deployed handler: the function, its role and its log group. */
export interface PipelineFunction {
  /** The handler's folder under lambdas/, e.g. "filter-expiring". */
  readonly handlerName: string;
  readonly function: LambdaFunction;
  readonly role: ServiceRole;
  readonly logGroup: CloudwatchLogGroup;
  readonly functionArn: string;
  readonly functionName: string;
}

export class Compute extends Construct {
  readonly filterExpiring: PipelineFunction;
  readonly relocateResults: PipelineFunction;

  constructor(scope: Construct, id: string, props: ComputeProps) {
    super(scope, id);
    const { storage } = props;

    this.filterExpiring = this.pipelineFunction("filter-expiring", props, {
      description: "Validates uploaded facility records and finds accreditations expiring within the window",
      defaults: FUNCTION_DEFAULTS.filterExpiring,
      settings: props.filterExpiring,
      environment: {
        MAX_REJECTED_SHARE: textOf(props.maxRejectedShare ?? MAX_REJECTED_SHARE.default),
      },
      permissions: [
        {
          Sid: "ReadUploads",
          Effect: "Allow",
          // GetObjectVersion: the event names the version to read, so a late event reads its own.
          Action: ["s3:GetObject", "s3:GetObjectVersion"],
          Resource: storage.objectArns("raw"),
        },
        {
          Sid: "WriteStageOutputs",
          Effect: "Allow",
          Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
          Resource: [
            storage.objectArns("staging"),
            storage.objectArns("rejected"),
            storage.objectArns("quality"),
            storage.objectArns("expiring"),
          ],
        },
      ],
    });

    this.relocateResults = this.pipelineFunction("relocate-results", props, {
      description: "Publishes Athena query results under analytics/",
      defaults: FUNCTION_DEFAULTS.relocateResults,
      settings: props.relocateResults,
      environment: {},
      permissions: [
        {
          Sid: "ReadQueryResults",
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: storage.objectArns("athenaResults"),
        },
        {
          Sid: "PublishAnalytics",
          Effect: "Allow",
          Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
          Resource: storage.objectArns("analytics"),
        },
      ],
    });
  }

  private pipelineFunction(
    name: string,
    props: ComputeProps,
    spec: {
      description: string;
      defaults: Required<FunctionSettings>;
      settings?: FunctionSettings;
      environment: Record<string, string>;
      permissions: PolicyStatement[];
    },
  ): PipelineFunction {
    const scope = new Construct(this, name);
    const functionName = `${props.namePrefix}-${name}`;
    const settings = { ...spec.defaults, ...spec.settings };
    const bundle = bundleLambda(name);

    const logGroup = new CloudwatchLogGroup(scope, "log-group", {
      name: `/aws/lambda/${functionName}`,
      retentionInDays: props.logRetentionDays ?? LOG_RETENTION_DAYS.default,
      kmsKeyId: props.logsKmsKeyArn,
    });

    const kmsPermissions = props.storage.bucketKeyStatements();
    const role = new ServiceRole(scope, "role", {
      name: `${functionName}-lambda`,
      description: `Runs ${functionName}`,
      servicePrincipal: "lambda.amazonaws.com",
      permissionsBoundary: props.permissionsBoundary,
      path: props.rolePath,
      permissions: [
        ...spec.permissions,
        ...kmsPermissions,
        {
          Sid: "WriteOwnLogs",
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: `${logGroup.arn}:*`,
        },
        {
          // X-Ray has no resource-level permissions: https://docs.aws.amazon.com/xray/latest/devguide/security_iam_service-with-iam.html
          Sid: "WriteTraces",
          Effect: "Allow",
          Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
          Resource: "*",
        },
      ],
    });

    const asset = new TerraformAsset(scope, "code", { path: bundle.zipPath, type: AssetType.FILE });
    const fn = new LambdaFunction(scope, "function", {
      functionName,
      description: spec.description,
      role: role.roleArn,
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      handler: bundle.handler,
      filename: asset.path,
      sourceCodeHash: bundle.sourceCodeHash,
      memorySize: settings.memorySize,
      timeout: settings.timeout,
      reservedConcurrentExecutions: settings.reservedConcurrency,
      tracingConfig: { mode: "Active" },
      loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
      environment: {
        variables: {
          DATA_BUCKET: props.storage.bucketName,
          POWERTOOLS_SERVICE_NAME: name,
          NODE_OPTIONS: "--enable-source-maps",
          ...spec.environment,
        },
      },
      dependsOn: [logGroup],
    });

    return { handlerName: name, function: fn, role, logGroup, functionArn: fn.arn, functionName: fn.functionName };
  }
}

/** A number as an environment variable's text; a module variable (a token) as its reference. */
function textOf(value: number): string {
  return Token.isUnresolved(value) ? Token.asString(value) : String(value);
}
