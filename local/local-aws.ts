/**
 * The names and ARNs the local stand-ins use where AWS has real ones: one set, for the local
 * pipeline, the local target of the subcommands and the tests.
 */
import { EXPIRY_DIGEST, FACILITY_PIPELINE } from "../core/asl";

const REGION = "us-east-1";
const ACCOUNT_ID = "000000000000";
const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${resource}`;

export const LOCAL_AWS = {
  region: REGION,
  accountId: ACCOUNT_ID,
  bucket: "local-facility-data",
  workgroup: `local-${FACILITY_PIPELINE}`,
  stateMachineName: `local-${FACILITY_PIPELINE}`,
  stateMachineArn: arn("states", `stateMachine:local-${FACILITY_PIPELINE}`),
  failureTopicArn: arn("sns", `local-${FACILITY_PIPELINE}-failures`),
  complianceTopicArn: arn("sns", `local-${FACILITY_PIPELINE}-compliance`),
  digestStateMachineArn: arn("states", `stateMachine:local-${EXPIRY_DIGEST}`),
  functionArns: {
    "filter-expiring": arn("lambda", "function:local-filter-expiring"),
    "relocate-results": arn("lambda", "function:local-relocate-results"),
  },
} as const;

/** The Lambda functions of the pipeline, by the folder name of their handler under lambdas/. */
export type LocalFunctionName = keyof typeof LOCAL_AWS.functionArns;
