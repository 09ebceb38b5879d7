import { cpSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { readFileSync } from "node:fs";
import { bundleLambda, PROJECT_ROOT } from "../../modules/lambda-bundle";
import { resourcesOfType, synthStack, type SynthesizedStack } from "../helpers/synth";

type Resource = Record<string, unknown>;

function functionNamed(stack: SynthesizedStack, name: string): Resource {
  const found = Object.values(resourcesOfType(stack, "aws_lambda_function")).find((fn) => fn.function_name === name);
  if (!found) throw new Error(`no function ${name}`);
  return found;
}

/** The inline policy of the role a function runs as, parsed. */
function policyOfFunction(stack: SynthesizedStack, fn: Resource): { Statement: Array<Record<string, unknown>> } {
  const roleName = /\$\{aws_iam_role\.([^.]+)\.arn\}/.exec(fn.role as string)![1];
  const policy = Object.values(resourcesOfType(stack, "aws_iam_role_policy")).find(
    (candidate) => candidate.role === `\${aws_iam_role.${roleName}.id}`,
  )!;
  return JSON.parse(policy.policy as string);
}

// The test config's stack, synthesized once for both blocks: the tests only read it.
const stack = synthStack();

describe("compute module", () => {
  const bucketArn = `\${aws_s3_bucket.${Object.keys(resourcesOfType(stack, "aws_s3_bucket"))[0]}.arn}`;

  test.each([
    ["hfap-test-filter-expiring", 1024, 300, 10],
    ["hfap-test-relocate-results", 256, 60, 5],
  ])(
    "%s runs on Node 22 arm64 with tracing, reserved concurrency and JSON logs",
    (name, memory, timeout, concurrency) => {
      const fn = functionNamed(stack, name);
      expect(fn).toMatchObject({
        runtime: "nodejs22.x",
        architectures: ["arm64"],
        handler: "index.handler",
        memory_size: memory,
        timeout,
        reserved_concurrent_executions: concurrency,
        tracing_config: { mode: "Active" },
        logging_config: { log_format: "JSON" },
      });
      expect((fn.environment as { variables: Record<string, string> }).variables.DATA_BUCKET).toMatch(
        /^\$\{aws_s3_bucket\./,
      );
    },
  );

  test("function size and concurrency come from the config", () => {
    const configured = synthStack({
      functions: { filterExpiring: { memorySize: 2048, timeout: 600, reservedConcurrency: 3 } },
    });
    expect(functionNamed(configured, "hfap-test-filter-expiring")).toMatchObject({
      memory_size: 2048,
      timeout: 600,
      reserved_concurrent_executions: 3,
    });
  });

  test("the expiry window reaches the state machine's input defaults, not filter-expiring's environment", () => {
    const stack = synthStack({ expiryWindowMonths: 3 });
    const fn = functionNamed(stack, "hfap-test-filter-expiring");
    expect((fn.environment as { variables: Record<string, string> }).variables).not.toHaveProperty(
      "EXPIRY_WINDOW_MONTHS",
    );
    const definitions = Object.values(resourcesOfType(stack, "aws_sfn_state_machine")).map((machine) =>
      JSON.parse(String(machine.definition)),
    );
    const [pipeline, digest] = ["ResolveRunSettings", "ResolveDigestSettings"].map(
      (state) => definitions.find((definition) => state in definition.States).States[state],
    );
    expect(pipeline.Parameters["windowMonths.$"]).toBe("States.StringToJson('3')");
    // The digest's window is the same setting.
    expect(digest.Parameters["windowMonths.$"]).toBe("States.StringToJson('3')");
  });

  test("maxRejectedShare reaches filter-expiring's environment (MAX_REJECTED_SHARE), 0.1 by default", () => {
    const variables = (stack: ReturnType<typeof synthStack>) =>
      (functionNamed(stack, "hfap-test-filter-expiring").environment as { variables: Record<string, string> })
        .variables;
    expect(variables(synthStack()).MAX_REJECTED_SHARE).toBe("0.1");
    expect(variables(synthStack({ maxRejectedShare: 0.02 })).MAX_REJECTED_SHARE).toBe("0.02");
  });

  test("each function has a log group with the configured retention", () => {
    const groups = Object.values(resourcesOfType(synthStack({ logRetentionDays: 14 }), "aws_cloudwatch_log_group"));
    for (const name of ["/aws/lambda/hfap-test-filter-expiring", "/aws/lambda/hfap-test-relocate-results"]) {
      expect(groups.find((group) => group.name === name)).toMatchObject({ retention_in_days: 14 });
    }
  });

  test("filter-expiring may read raw/ (any version) and write staging/, rejected/, quality/, transformed/ only", () => {
    const policy = policyOfFunction(stack, functionNamed(stack, "hfap-test-filter-expiring"));
    const s3 = policy.Statement.filter((statement) => String(statement.Action).includes("s3:"));
    expect(s3).toEqual([
      {
        Sid: "ReadUploads",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:GetObjectVersion"],
        Resource: `${bucketArn}/raw/*`,
      },
      {
        Sid: "WriteStageOutputs",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
        Resource: [
          `${bucketArn}/staging/facilities/*`,
          `${bucketArn}/rejected/*`,
          `${bucketArn}/quality/*`,
          `${bucketArn}/transformed/expiring_facilities/*`,
        ],
      },
    ]);
  });

  test("relocate-results may read athena-results/ and write analytics/ only", () => {
    const policy = policyOfFunction(stack, functionNamed(stack, "hfap-test-relocate-results"));
    const s3 = policy.Statement.filter((statement) => String(statement.Action).includes("s3:"));
    expect(s3).toEqual([
      { Sid: "ReadQueryResults", Effect: "Allow", Action: "s3:GetObject", Resource: `${bucketArn}/athena-results/*` },
      {
        Sid: "PublishAnalytics",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
        Resource: `${bucketArn}/analytics/*`,
      },
    ]);
  });

  test("each function's role is assumed by Lambda only", () => {
    for (const name of ["hfap-test-filter-expiring-lambda", "hfap-test-relocate-results-lambda"]) {
      const role = Object.values(resourcesOfType(stack, "aws_iam_role")).find((candidate) => candidate.name === name)!;
      expect(JSON.parse(role.assume_role_policy as string).Statement).toEqual([
        {
          Sid: "TrustService",
          Effect: "Allow",
          Principal: { Service: "lambda.amazonaws.com" },
          Action: "sts:AssumeRole",
        },
      ]);
    }
  });
});

describe("Lambda bundles", () => {
  test.each(["filter-expiring", "relocate-results"])(
    "%s is an ESM bundle with a source map, hashed as deployed",
    (name) => {
      const bundle = bundleLambda(name);
      const files = unzipSync(readFileSync(bundle.zipPath));
      expect(Object.keys(files).sort()).toEqual(["index.mjs", "index.mjs.map"]);
      expect(new TextDecoder().decode(files["index.mjs"])).toMatch(
        /^import\{createRequire as \w+\}from"node:module"|^import \{ createRequire \}/,
      );
      const fn = functionNamed(stack, `hfap-test-${name}`);
      expect(fn.source_code_hash).toBe(bundle.sourceCodeHash);
    },
  );

  test("another checkout of the same source gives byte-identical zips", () => {
    const checkout = mkdtempSync(join(tmpdir(), "checkout-"));
    for (const folder of ["lambdas", "core"])
      cpSync(join(PROJECT_ROOT, folder), join(checkout, folder), { recursive: true });
    cpSync(join(PROJECT_ROOT, "package.json"), join(checkout, "package.json"));
    symlinkSync(join(PROJECT_ROOT, "node_modules"), join(checkout, "node_modules"));
    for (const name of ["filter-expiring", "relocate-results"]) {
      // cache: false: esbuild runs in the checkout, so two separate builds are compared.
      expect(bundleLambda(name, { root: checkout, cache: false }).sourceCodeHash).toBe(
        bundleLambda(name).sourceCodeHash,
      );
    }
  });
});
