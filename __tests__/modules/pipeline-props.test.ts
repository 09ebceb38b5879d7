/** FacilityPipeline's checks of its numeric props, against the ranges of core/settings.ts. */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Testing, TerraformStack, TerraformVariable } from "cdktf";
import { LOG_RETENTION_DAYS } from "../../core/settings";
import { FacilityPipeline, FacilityPipelinePropsError, type FacilityPipelineProps } from "../../modules/pipeline";
import type { SynthesizedStack } from "../helpers/synth";

function stack(): TerraformStack {
  const scope = new TerraformStack(Testing.app(), "props");
  new AwsProvider(scope, "aws", { region: "us-east-1" });
  return scope;
}

function pipeline(props: Partial<FacilityPipelineProps>, scope = stack()): FacilityPipeline {
  return new FacilityPipeline(scope, "facility-pipeline", { namePrefix: "acme-hfap", ...props });
}

const RETENTION_PERIODS = LOG_RETENTION_DAYS.choices.join(", ");

describe("FacilityPipeline numeric props", () => {
  test.each<[string, Partial<FacilityPipelineProps>, string]>([
    [
      "a window of 0",
      { expiryWindowMonths: 0 },
      "expiryWindowMonths: expected a whole number from 1 to 60 (received 0); change it, or leave it out for the default (6)",
    ],
    [
      "a window of 61",
      { expiryWindowMonths: 61 },
      "expiryWindowMonths: expected a whole number from 1 to 60 (received 61)",
    ],
    [
      "a window of 2.5",
      { expiryWindowMonths: 2.5 },
      "expiryWindowMonths: expected a whole number from 1 to 60 (received 2.5)",
    ],
    [
      "a log retention CloudWatch does not offer",
      { logRetentionDays: 45 },
      `logRetentionDays: expected one of CloudWatch's retention periods: ${RETENTION_PERIODS} (received 45); ` +
        "change it, or leave it out for the default (90)",
    ],
    [
      "Athena results kept 0 days",
      { athenaResultsExpirationDays: 0 },
      "athenaResultsExpirationDays: expected a whole number from 1 to 3650 (received 0); " +
        "change it, or leave it out for the default (30)",
    ],
    [
      "noncurrent versions kept over 10 years",
      { noncurrentVersionExpirationDays: 3651 },
      "noncurrentVersionExpirationDays: expected a whole number from 1 to 3650 (received 3651); " +
        "change it, or leave it out for the default (90)",
    ],
    [
      "a scan cutoff below Athena's minimum",
      { athenaBytesScannedCutoff: 1000 },
      "athenaBytesScannedCutoff: expected a whole number of at least 10000000 (received 1000); " +
        "change it, or leave it out for the default (1073741824)",
    ],
    [
      "a function memory below Lambda's minimum",
      { functions: { filterExpiring: { memorySize: 64 } } },
      "functions.filterExpiring.memorySize: expected a whole number from 128 to 10240 (received 64); " +
        "change it, or leave it out for the default (1024)",
    ],
    [
      "a function timeout over 15 minutes",
      { functions: { relocateResults: { timeout: 901 } } },
      "functions.relocateResults.timeout: expected a whole number from 1 to 900 (received 901); " +
        "change it, or leave it out for the default (60)",
    ],
    [
      "a reserved concurrency of 0",
      { functions: { relocateResults: { reservedConcurrency: 0 } } },
      "functions.relocateResults.reservedConcurrency: expected a whole number from 1 to 1000 (received 0); " +
        "change it, or leave it out for the default (5)",
    ],
  ])("%s fails with the prop, the value and the range", (_rule, props, message) => {
    expect(() => pipeline(props)).toThrow(FacilityPipelinePropsError);
    expect(() => pipeline(props)).toThrow(message);
  });

  test("several bad props give one error listing each", () => {
    let error: unknown;
    try {
      pipeline({
        expiryWindowMonths: 0,
        logRetentionDays: 45,
        athenaBytesScannedCutoff: 1000,
        functions: { filterExpiring: { timeout: 0 }, relocateResults: { memorySize: 20_000 } },
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FacilityPipelinePropsError);
    const lines = (error as Error).message.split("\n");
    expect(lines[0]).toBe("Invalid FacilityPipeline props:");
    expect(lines.slice(1).map((line) => line.split(":")[0])).toEqual([
      "  - expiryWindowMonths",
      "  - logRetentionDays",
      "  - athenaBytesScannedCutoff",
      "  - functions.filterExpiring.timeout",
      "  - functions.relocateResults.memorySize",
    ]);
  });

  test("the ends of every range are accepted", () => {
    expect(() =>
      pipeline({
        expiryWindowMonths: 60,
        logRetentionDays: 3653,
        athenaResultsExpirationDays: 1,
        noncurrentVersionExpirationDays: 3650,
        athenaBytesScannedCutoff: 10_000_000,
        functions: {
          filterExpiring: { memorySize: 10_240, timeout: 900, reservedConcurrency: 1000 },
          relocateResults: { memorySize: 128, timeout: 1, reservedConcurrency: 1 },
        },
      }),
    ).not.toThrow();
  });

  test("Terraform variables (unresolved tokens) are left to the variables' own validation", () => {
    const scope = stack();
    const number = (name: string) => new TerraformVariable(scope, name, { type: "number" }).numberValue;
    pipeline(
      {
        expiryWindowMonths: number("window"),
        logRetentionDays: number("retention"),
        athenaResultsExpirationDays: number("results_days"),
        noncurrentVersionExpirationDays: number("noncurrent_days"),
        athenaBytesScannedCutoff: number("cutoff"),
        functions: {
          filterExpiring: {
            memorySize: number("memory"),
            timeout: number("timeout"),
            reservedConcurrency: number("rc"),
          },
        },
      },
      scope,
    );

    const synthesized = JSON.parse(Testing.synth(scope)) as SynthesizedStack;
    const logGroups = Object.values(synthesized.resource.aws_cloudwatch_log_group);
    expect(logGroups.map((group) => group.retention_in_days)).toEqual(logGroups.map(() => "${var.retention}"));
    const workgroup = Object.values(synthesized.resource.aws_athena_workgroup)[0] as {
      configuration: { bytes_scanned_cutoff_per_query: unknown };
    };
    expect(workgroup.configuration.bytes_scanned_cutoff_per_query).toBe("${var.cutoff}");
    const functions = Object.values(synthesized.resource.aws_lambda_function);
    expect(functions.find((fn) => fn.memory_size === "${var.memory}")).toMatchObject({
      timeout: "${var.timeout}",
      reserved_concurrent_executions: "${var.rc}",
    });
  });
});
