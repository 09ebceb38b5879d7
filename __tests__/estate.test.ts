/** Fitting into existing Terraform estates: the library, bring-your-own inputs, the plain module, remote state. */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Testing, TerraformStack } from "cdktf";
import { buildExampleApp, type DataPlatformStack } from "../examples/library-app/main";
import * as library from "../index";
import { FacilityPipeline, type FacilityPipelineProps } from "../index";
import { synthModule } from "../terraform-module";
import { resourcesOfType, synthStack, type SynthesizedStack } from "./helpers/synth";

const KEY = "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
const TOPIC = "arn:aws:sns:us-east-1:123456789012:platform-alerts";
const COMPLIANCE_TOPIC = "arn:aws:sns:us-east-1:123456789012:compliance-digest";
const BOUNDARY = "arn:aws:iam::123456789012:policy/data-platform-boundary";

function synthPipeline(props: Partial<FacilityPipelineProps>): SynthesizedStack {
  const stack = new TerraformStack(Testing.app(), "estate");
  new AwsProvider(stack, "aws", { region: "us-east-1" });
  new FacilityPipeline(stack, "facility-pipeline", { namePrefix: "acme-hfap", ...props });
  return JSON.parse(Testing.synth(stack)) as SynthesizedStack;
}

const all = (stack: SynthesizedStack, type: string) => Object.values(resourcesOfType(stack, type));
const policies = (stack: SynthesizedStack) =>
  all(stack, "aws_iam_role_policy")
    .map((p) => p.policy as string)
    .join("\n");

describe("the library", () => {
  test("two pipelines synthesize in one stack, every named resource and the Glue database distinct", () => {
    const stack = new TerraformStack(Testing.app(), "two-teams");
    new AwsProvider(stack, "aws", { region: "us-east-1" });
    new FacilityPipeline(stack, "dev", { namePrefix: "acme-hfap-dev" });
    new FacilityPipeline(stack, "prod", { namePrefix: "acme-hfap-prod", outputs: false });
    const synthesized = JSON.parse(Testing.synth(stack)) as SynthesizedStack;
    const names = Object.entries(synthesized.resource).flatMap(([type, resources]) =>
      Object.values(resources).flatMap((body) =>
        ["name", "bucket", "function_name", "alarm_name"]
          .filter((field) => typeof body[field] === "string" && !String(body[field]).includes("${"))
          .map((field) => `${type}.${field}=${body[field]}`),
      ),
    );
    // Names scoped to a parent do not collide: a bucket's sub-resources name their bucket, a table
    // is named within its database, an inline policy within its role.
    const own = names.filter(
      (name) => !/^(aws_s3_bucket_\w+\.bucket|aws_glue_catalog_table\.name|aws_iam_role_policy\.name)=/.test(name),
    );
    expect(own.filter((name, index) => own.indexOf(name) !== index)).toEqual([]);
    expect(all(synthesized, "aws_glue_catalog_database").map((db) => db.name)).toEqual([
      "acme_hfap_dev_facility_pipeline",
      "acme_hfap_prod_facility_pipeline",
    ]);
    expect(all(synthesized, "aws_sfn_state_machine")).toHaveLength(4);
  });

  test("the entry point exports the construct, the modules and their helpers", () => {
    for (const name of [
      "FacilityPipeline",
      "Storage",
      "Catalog",
      "Compute",
      "FailureTopic",
      "Orchestration",
      "parseConfig",
      "FACILITY_COLUMNS",
    ]) {
      expect(library).toHaveProperty(name);
    }
  });

  test("the example app under examples/ synthesizes, with the pipeline inside the team's stack", () => {
    const app = buildExampleApp(Testing.app());
    const stack = app.node.findChild("data-platform-healthcare") as DataPlatformStack;
    const synthesized = JSON.parse(Testing.synth(stack)) as SynthesizedStack;
    expect(all(synthesized, "aws_sfn_state_machine")).toHaveLength(2); // the pipeline and the expiry digest
    expect(all(synthesized, "aws_s3_bucket")).toHaveLength(0);
    expect(synthesized.terraform.backend).toMatchObject({ s3: { bucket: "acme-terraform-state", use_lockfile: true } });
  });
});

describe("bring your own", () => {
  test("an existing bucket is used by name and not created or reconfigured", () => {
    const stack = synthPipeline({ existingBucketName: "acme-landing" });
    for (const type of [
      "aws_s3_bucket",
      "aws_s3_bucket_policy",
      "aws_s3_bucket_notification",
      "aws_s3_bucket_lifecycle_configuration",
    ]) {
      expect([type, all(stack, type)]).toEqual([type, []]);
    }
    expect(policies(stack)).toContain(":s3:::acme-landing/raw/*");
    expect(JSON.parse(all(stack, "aws_cloudwatch_event_rule")[0].event_pattern as string).detail.bucket.name).toEqual([
      "acme-landing",
    ]);
    const locations = all(stack, "aws_glue_catalog_table").map(
      (table) => (table as { storage_descriptor: { location: string } }).storage_descriptor.location,
    );
    expect(locations.sort()).toEqual([
      "s3://acme-landing/current/facilities/",
      "s3://acme-landing/staging/facilities/",
    ]);
  });

  test("an existing KMS key encrypts the bucket, Athena results, topic, queue and logs, and no key is created", () => {
    const stack = synthPipeline({ kmsKeyArn: KEY });
    expect(all(stack, "aws_kms_key")).toEqual([]);
    expect(all(stack, "aws_s3_bucket_server_side_encryption_configuration")[0].rule).toEqual([
      {
        apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: KEY },
        bucket_key_enabled: true,
      },
    ]);
    expect(all(stack, "aws_athena_workgroup")[0]).toMatchObject({
      configuration: {
        result_configuration: { encryption_configuration: { encryption_option: "SSE_KMS", kms_key_arn: KEY } },
      },
    });
    expect(all(stack, "aws_sns_topic")[0]).toMatchObject({ kms_master_key_id: KEY });
    expect(all(stack, "aws_sqs_queue")[0]).toMatchObject({ kms_master_key_id: KEY });
    for (const group of all(stack, "aws_cloudwatch_log_group")) expect(group.kms_key_id).toBe(KEY);
    expect(policies(stack)).toContain(KEY);
  });

  test("an existing topic receives failures and alarms, and no topic is created", () => {
    const stack = synthPipeline({ existingTopicArn: TOPIC, existingComplianceTopicArn: COMPLIANCE_TOPIC });
    expect(all(stack, "aws_sns_topic")).toEqual([]);
    for (const alarm of all(stack, "aws_cloudwatch_metric_alarm")) expect(alarm.alarm_actions).toEqual([TOPIC]);
    const definition = (suffix: string) =>
      JSON.parse(
        all(stack, "aws_sfn_state_machine").find((m) => String(m.name).endsWith(suffix))!.definition as string,
      );
    const [pipeline, digest] = [definition("-facility-pipeline"), definition("-expiry-digest")];
    expect(pipeline.States.NotifyFailure.Parameters.TopicArn).toBe(TOPIC);
    expect(digest.States.NotifyFailure.Parameters.TopicArn).toBe(TOPIC);
    expect(digest.States.NotifyCompliance.Parameters.TopicArn).toBe(COMPLIANCE_TOPIC);
  });

  test("with only the failure topic brought, the compliance topic is created with a key of its own", () => {
    const stack = synthPipeline({ existingTopicArn: TOPIC });
    expect(all(stack, "aws_sns_topic").map((topic) => topic.name)).toEqual(["acme-hfap-facility-pipeline-compliance"]);
    expect(all(stack, "aws_kms_alias").map((alias) => alias.name)).toEqual([
      "alias/acme-hfap-facility-pipeline-compliance",
    ]);
  });

  test("a key of another region fails the plan: a precondition compares the key's region with the stack's", () => {
    const stack = synthPipeline({ kmsKeyArn: KEY.replace("us-east-1", "eu-west-1") });
    const [workgroup] = all(stack, "aws_athena_workgroup");
    const [precondition] = (workgroup.lifecycle as { precondition: { condition: string; error_message: string }[] })
      .precondition;
    // `npm run validate:tf` plans this case with a mock provider: the plan fails on it.
    expect(precondition.condition).toMatch(
      /^\$\{\(element\(split\(":", "arn:aws:kms:eu-west-1:[^"]+"\), 3\) == data\.aws_region\.[^.]+\.region\)\}$/,
    );
    expect(precondition.error_message).toContain("must be a KMS key in the stack's region");
    expect(all(synthPipeline({}), "aws_athena_workgroup")[0]).not.toHaveProperty("lifecycle");
  });

  test("every role gets the permissions boundary and the role path", () => {
    const roles = all(synthPipeline({ permissionsBoundary: BOUNDARY, rolePath: "/data-platform/" }), "aws_iam_role");
    expect(roles.length).toBeGreaterThanOrEqual(4);
    for (const role of roles) expect(role).toMatchObject({ permissions_boundary: BOUNDARY, path: "/data-platform/" });
  });

  test("every resource that takes tags gets the tags, and every named resource the prefix", () => {
    const stack = synthPipeline({ tags: { "cost-center": "cc-1234" } });
    const tagged = Object.entries(stack.resource).filter(([, resources]) =>
      Object.values(resources).some((r) => "tags" in r),
    );
    expect(tagged.map(([type]) => type)).toEqual(
      expect.arrayContaining([
        "aws_s3_bucket",
        "aws_lambda_function",
        "aws_sfn_state_machine",
        "aws_sqs_queue",
        "aws_sns_topic",
        "aws_kms_key",
        "aws_iam_role",
        "aws_cloudwatch_log_group",
        "aws_athena_workgroup",
        "aws_cloudwatch_metric_alarm",
        "aws_cloudwatch_event_rule",
      ]),
    );
    for (const [, resources] of tagged)
      for (const resource of Object.values(resources)) expect(resource.tags).toEqual({ "cost-center": "cc-1234" });
    const names = Object.values(stack.resource).flatMap((resources) =>
      Object.values(resources).map(
        (r) => (r.name ?? r.function_name ?? r.alarm_name ?? r.bucket) as string | undefined,
      ),
    );
    const own = names.filter(
      (name): name is string =>
        typeof name === "string" &&
        !name.startsWith("${") &&
        name !== "acme_hfap_facility_pipeline" && // the Glue database: "-" is not allowed, so "_"
        name !== "facilities" &&
        name !== "facility_uploads" &&
        name !== "least-privilege",
    );
    for (const name of own) expect(name).toMatch(/(^|\/)acme-hfap-/);
  });

  test.each([
    [
      { bucketName: "a-bucket", existingBucketName: "b-bucket" },
      /bucketName \("a-bucket"\) and existingBucketName \("b-bucket"\) conflict/,
    ],
    [
      { existingBucketName: "b-bucket", athenaResultsExpirationDays: 7 },
      /athenaResultsExpirationDays and existingBucketName conflict/,
    ],
    [{ kmsKeyArn: "alias/mine" }, /kmsKeyArn: expected an ARN .* received "alias\/mine"/],
    [{ rolePath: "data-platform" }, /rolePath: expected a path that starts and ends with "\/"/],
  ])("conflicting or malformed inputs %j fail synth with a message naming them", (props, message) => {
    expect(() => synthPipeline(props)).toThrow(library.FacilityPipelinePropsError);
    expect(() => synthPipeline(props)).toThrow(message);
  });

  test("the config file reaches the same inputs", () => {
    const stack = synthStack({
      existingBucketName: "acme-landing",
      permissionsBoundary: BOUNDARY,
      rolePath: "/data-platform/",
    });
    expect(all(stack, "aws_s3_bucket")).toEqual([]);
    for (const role of all(stack, "aws_iam_role"))
      expect(role).toMatchObject({ permissions_boundary: BOUNDARY, path: "/data-platform/" });
  });
});

describe("remote state", () => {
  test("the local backend is the default", () => {
    expect(synthStack().terraform.backend).toEqual({
      local: { path: "../../../terraform.facility-pipeline-test.tfstate" },
    });
  });

  test("an s3 backend in the config gives encrypted state with S3-native locking", () => {
    const stack = synthStack({
      backend: { type: "s3", bucket: "acme-terraform-state", key: "hfap/test.tfstate", region: "eu-west-1" },
    });
    expect(stack.terraform.backend).toEqual({
      s3: {
        bucket: "acme-terraform-state",
        key: "hfap/test.tfstate",
        region: "eu-west-1",
        encrypt: true,
        use_lockfile: true,
      },
    });
  });
});

describe("the plain Terraform module (npm run synth:module)", () => {
  const dir = join(mkdtempSync(join(tmpdir(), "tf-module-")), "facility-pipeline");
  const module = JSON.parse(readFileSync(synthModule(dir), "utf8")) as SynthesizedStack & {
    variable: Record<string, { type: string; default?: unknown }>;
  };

  test("its README (generated beside main.tf.json) documents every input and output", () => {
    const readme = readFileSync(join(dir, "README.md"), "utf8");
    const rows = (heading: string) =>
      readme
        .split(`## ${heading}\n`)[1]
        .split("\n## ")[0]
        .split("\n")
        .filter((line) => line.startsWith("| ") && !line.startsWith("| Name"))
        .map((line) => line.split(" | ").map((part) => part.replace(/^\| |\s*\|$/g, "")));
    const inputs = rows("Inputs");
    expect(inputs.map(([name]) => name)).toEqual(Object.keys(module.variable).sort());
    for (const [name, , type, defaultValue, required] of inputs) {
      const variable = module.variable[name];
      expect([name, type]).toEqual([name, `\`${variable.type}\``]);
      expect([name, required]).toEqual([name, "default" in variable ? "no" : "yes"]);
      if ("default" in variable)
        expect([name, defaultValue]).toEqual([name, `\`${JSON.stringify(variable.default)}\``]);
    }
    expect(rows("Outputs").map(([name]) => name)).toEqual(Object.keys(module.output ?? {}).sort());
  });

  test("it has no provider configuration and no backend, only required_providers", () => {
    expect(module).not.toHaveProperty("provider");
    expect(module.terraform).toEqual({
      required_providers: {
        aws: { source: "hashicorp/aws", version: expect.stringMatching(/^>= 6\.\d+\.\d+, < 7\.0\.0$/) },
      },
    });
  });

  test("its variables are the inputs, with defaults for all but the name prefix", () => {
    expect(Object.keys(module.variable).sort()).toEqual([
      "alert_emails",
      "athena_bytes_scanned_cutoff",
      "athena_results_expiration_days",
      "bucket_name",
      "compliance_emails",
      "digest_lookback_days",
      "digest_schedule",
      "digest_send_all_clear",
      "digest_time_zone",
      "existing_bucket_name",
      "existing_compliance_topic_arn",
      "existing_failure_topic_arn",
      "expiry_window_months",
      "filter_expiring_memory_size",
      "filter_expiring_reserved_concurrency",
      "filter_expiring_timeout",
      "glue_database_name",
      "kms_key_arn",
      "log_retention_days",
      "max_rejected_share",
      "name_prefix",
      "noncurrent_version_expiration_days",
      "permissions_boundary",
      "relocate_results_memory_size",
      "relocate_results_reserved_concurrency",
      "relocate_results_timeout",
      "role_path",
      "tags",
    ]);
    // Every variable is documented, and every one a user can get wrong is validated.
    const variables = module.variable as Record<string, { description?: string; validation?: unknown[] }>;
    for (const [name, variable] of Object.entries(variables)) {
      expect([name, variable.description]).toEqual([name, expect.any(String)]);
      if (!["alert_emails", "compliance_emails", "digest_send_all_clear", "tags"].includes(name))
        expect([name, variable.validation]).toEqual([name, expect.any(Array)]);
    }
    expect(module.variable.name_prefix).not.toHaveProperty("default");
    expect(module.variable.bucket_name.default).toBeNull();
    expect(module.variable.glue_database_name.default).toBeNull();
    // The default database name, derived in Terraform as databaseNameFor does in TypeScript.
    expect(all(module, "aws_glue_catalog_database")[0].name).toBe(
      '${coalesce(var.glue_database_name, "${replace(var.name_prefix, "-", "_")}_facility_pipeline")}',
    );
    const validation = (module.variable.glue_database_name as { validation?: { condition: string }[] }).validation;
    expect(validation?.[0].condition).toMatch(/^\$\{.*var\.glue_database_name.*\}$/);
    expect(JSON.stringify(module.resource)).toContain("${var.name_prefix}-facility-pipeline");
    expect(
      all(module, "aws_sns_topic_subscription")
        .map((subscription) => subscription.for_each)
        .sort(),
    ).toEqual(["${toset(var.alert_emails)}", "${toset(var.compliance_emails)}"]);
    // Every validation condition is one template that refers to its own variable.
    for (const [name, variable] of Object.entries(
      module.variable as Record<string, { validation?: { condition: string }[] }>,
    ))
      for (const { condition } of variable.validation ?? [])
        expect(condition).toMatch(new RegExp(`^\\$\\{.*var\\.${name}\\b.*\\}$`));
    const schedule = all(module, "aws_scheduler_schedule")[0];
    expect(schedule).toMatchObject({
      schedule_expression: "${var.digest_schedule}",
      schedule_expression_timezone: "${var.digest_time_zone}",
    });
    const digest = all(module, "aws_sfn_state_machine").find((machine) =>
      String(machine.name).endsWith("-expiry-digest"),
    )!;
    expect(JSON.parse(digest.definition as string).States.ResolveDigestSettings.Parameters).toMatchObject({
      "lookbackDays.$": "States.StringToJson('${var.digest_lookback_days}')",
      "sendAllClear.$": "States.StringToJson('${var.digest_send_all_clear}')",
    });
  });

  test("what a bring-your-own variable replaces exists only while it is null, and the outputs return the given one", () => {
    const countOf = (type: string, part: string) =>
      Object.entries(resourcesOfType(module, type)).find(([name]) => name.includes(part))![1].count;
    expect(countOf("aws_s3_bucket", "storage_bucket")).toBe("${(var.existing_bucket_name == null) ? 1 : 0}");
    // The bucket's configuration goes with it: nothing is configured on an existing bucket.
    for (const type of [
      "aws_s3_bucket_policy",
      "aws_s3_bucket_public_access_block",
      "aws_s3_bucket_server_side_encryption_configuration",
      "aws_s3_bucket_versioning",
      "aws_s3_bucket_lifecycle_configuration",
      "aws_s3_bucket_notification",
      "aws_s3_bucket_ownership_controls",
    ])
      expect([type, countOf(type, "storage")]).toEqual([type, "${(var.existing_bucket_name == null) ? 1 : 0}"]);
    expect(countOf("aws_sns_topic", "notifications_topic")).toBe("${(var.existing_failure_topic_arn == null) ? 1 : 0}");
    expect(countOf("aws_sns_topic", "compliance_topic")).toBe("${(var.existing_compliance_topic_arn == null) ? 1 : 0}");
    // Every count is decided by the variables alone, so Terraform knows it at plan.
    for (const resources of Object.values(module.resource))
      for (const body of Object.values(resources))
        if (typeof body.count === "string") expect(body.count).not.toMatch(/aws_[a-z_]+\./);
    const outputs = module.output as Record<string, { value: string }>;
    expect(outputs.bucket_name.value).toMatch(
      /^\$\{one\(concat\(compact\(\[var\.existing_bucket_name\]\), aws_s3_bucket\./,
    );
    expect(outputs.failure_topic_arn.value).toMatch(/compact\(\[var\.existing_failure_topic_arn\]\)/);
    expect(outputs.compliance_topic_arn.value).toMatch(/compact\(\[var\.existing_compliance_topic_arn\]\)/);
    // A key statement applies only while there is a key.
    expect(
      all(module, "aws_iam_role_policy")
        .map((p) => p.policy as string)
        .join("\n"),
    ).toContain('(var.kms_key_arn != null) ? [{"Sid" = "UseBucketKey"');
  });

  test("its outputs name the bucket, state machine, topic, workgroup, database and table", () => {
    expect(Object.keys(module.output ?? {}).sort()).toEqual([
      "athena_workgroup",
      "bucket_name",
      "compliance_topic_arn",
      "expiry_digest_arn",
      "failure_topic_arn",
      "glue_database",
      "glue_table",
      "state_machine_arn",
    ]);
  });

  test("every file it references is inside it and addressed through path.module", () => {
    const files = all(module, "aws_lambda_function").map((fn) => fn.filename as string);
    expect(files).toHaveLength(2);
    for (const file of files) {
      expect(file).toMatch(/^\$\{path\.module\}\/assets\/.+\.zip$/);
      expect(existsSync(join(dir, file.replace("${path.module}/", "")))).toBe(true);
    }
    expect(JSON.stringify(module)).not.toMatch(/"filename":"(?!\$\{path\.module\})/);
  });

  test("the HCL example calls it with its variables", () => {
    const example = readFileSync(join(__dirname, "..", "examples", "terraform-estate", "main.tf"), "utf8");
    expect(example).toMatch(
      /module "facility_pipeline" \{\n\s+source = "\.\.\/\.\.\/build\/terraform-module\/facility-pipeline"/,
    );
    const block = example.slice(example.indexOf('module "facility_pipeline"'));
    const passed = [...block.slice(0, block.indexOf("\n}")).matchAll(/^ {2}([a-z_]+) +=/gm)]
      .map((match) => match[1])
      .filter((name) => name !== "source");
    for (const name of passed) expect(Object.keys(module.variable)).toContain(name);
  });
});
