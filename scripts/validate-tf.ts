/**
 * `npm run validate:tf`: terraform init -backend=false and terraform validate on what this
 * repository gives a Terraform user: the synthesized stack, the plain module and the HCL example
 * that calls it. Not part of `npm test`: it needs a terraform binary and the hashicorp/aws
 * provider, which cannot be downloaded offline.
 *
 * Where the provider comes from:
 * - TF_CLI_CONFIG_FILE naming an existing file: that configuration, as it is (a provider mirror
 *   of your own, a network mirror, or the registry);
 * - otherwise a local filesystem mirror holding registry.terraform.io/hashicorp/aws (the first of
 *   TF_PROVIDER_MIRROR, /opt/tf-plugins, ~/.terraform.d/plugins, /usr/share/terraform/plugins):
 *   a CLI configuration with a filesystem_mirror block for it is written to a temporary file;
 * - otherwise the registry.
 * When the mirror's provider is older than the one the module asks for, copies of the three
 * directories are pinned to it, and what only the version difference explains is rewritten in
 * them and named (docs/configuration.md, "Validating with Terraform"); any error left fails.
 *
 * The module is then planned by `terraform test` with a mock provider (no credentials, no AWS):
 * with no bring-your-own input it creates a bucket, two topics and one key; given an existing
 * bucket, key and topics it creates none of them and its outputs return the given ones; given
 * only a failure topic, the compliance topic gets a key of its own.
 *
 * Exit codes: 0 valid (apart from named version differences), 1 a configuration error or a
 * failed test, 2 no terraform, 3 terraform init failed (no provider).
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(__dirname, "..");
/** The directories checked, relative to the repository (the example calls the module by a relative path). */
const DIRECTORIES = [
  "cdktf.out/stacks/facility-pipeline-dev",
  "build/terraform-module/facility-pipeline",
  "examples/terraform-estate",
];
const MIRRORS = [
  process.env.TF_PROVIDER_MIRROR,
  "/opt/tf-plugins",
  join(homedir(), ".terraform.d", "plugins"),
  "/usr/share/terraform/plugins",
].filter((dir): dir is string => Boolean(dir));
const AWS_PROVIDER = "registry.terraform.io/hashicorp/aws";

/**
 * A difference between the module's provider and an older mirrored one: what the older one calls
 * differently, rewritten in the pinned copies before anything is validated (so an error it would
 * cause cannot hide another), and why. Each named in docs/configuration.md, "Validating with
 * Terraform".
 */
interface VersionDifference {
  readonly pattern: RegExp;
  readonly replacement: string;
  readonly why: string;
}

const VERSION_DIFFERENCES: readonly VersionDifference[] = [
  {
    pattern: /(data\.aws_region\.[A-Za-z0-9_-]+)\.region\b/g,
    replacement: "$1.name",
    why: 'data "aws_region" exports `region` from provider 6.0 on (5.x calls it `name`)',
  },
];

/** Rewrites the version differences in a pinned copy's JSON files; returns how many of each. */
function rewriteDifferences(dir: string): Map<VersionDifference, number> {
  const counts = new Map<VersionDifference, number>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith(".tf.json"))) {
    let text = readFileSync(join(dir, file), "utf8");
    for (const difference of VERSION_DIFFERENCES) {
      text = text.replace(difference.pattern, (...match: string[]) => {
        counts.set(difference, (counts.get(difference) ?? 0) + 1);
        return difference.replacement.replace("$1", match[1]);
      });
    }
    writeFileSync(join(dir, file), text);
  }
  return counts;
}

interface Diagnostic {
  readonly severity: "error" | "warning";
  readonly summary: string;
  readonly detail?: string;
  readonly range?: { readonly filename: string; readonly start: { readonly line: number } };
  readonly snippet?: { readonly code: string };
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(command, args, { cwd, env, encoding: "utf8" });
  return { status: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "", error: result.error };
}

function say(line = ""): void {
  process.stdout.write(`${line}\n`);
}

/** The newest aws provider version in a filesystem mirror, and the mirror's directory. */
function findMirror(): { dir: string; version: string } | undefined {
  for (const dir of MIRRORS) {
    const versions = join(dir, AWS_PROVIDER);
    if (!existsSync(versions)) continue;
    const found = readdirSync(versions)
      .filter((version) => /^\d+\.\d+\.\d+$/.test(version))
      .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    if (found.length > 0) return { dir, version: found[found.length - 1] };
  }
  return undefined;
}

/** The version constraint the synthesized module states, e.g. ">= 6.25.0, < 7.0.0". */
function moduleConstraint(): string {
  const module = JSON.parse(readFileSync(join(ROOT, DIRECTORIES[1], "main.tf.json"), "utf8"));
  return module.terraform.required_providers.aws.version as string;
}

const atLeast = (version: string, minimum: string) => version.localeCompare(minimum, undefined, { numeric: true }) >= 0;

/** Pins every aws provider constraint of a copied directory to one version. */
function pinProvider(dir: string, version: string): void {
  for (const file of readdirSync(dir)) {
    const path = join(dir, file);
    if (file.endsWith(".tf.json")) {
      const json = JSON.parse(readFileSync(path, "utf8"));
      if (json.terraform?.required_providers?.aws) json.terraform.required_providers.aws.version = version;
      writeFileSync(path, JSON.stringify(json, null, 2));
    } else if (file.endsWith(".tf")) {
      const text = readFileSync(path, "utf8");
      writeFileSync(path, text.replace(/(aws\s*=\s*\{[^}]*version\s*=\s*)"[^"]*"/, `$1"${version}"`));
    }
  }
}

/** The module's bring-your-own cases as a Terraform test file, for the module's resource names. */
function bringYourOwnTest(moduleDir: string, regionAttribute: "name" | "region"): string {
  const module = JSON.parse(readFileSync(join(moduleDir, "main.tf.json"), "utf8"));
  const named = (type: string, part: string) => {
    const name = Object.keys(module.resource[type] ?? {}).find((key) => key.includes(part));
    if (!name) throw new Error(`the module has no ${type} named *${part}*`);
    return `${type}.${name}`;
  };
  const bucket = named("aws_s3_bucket", "storage_bucket");
  const failures = named("aws_sns_topic", "notifications_topic");
  const compliance = named("aws_sns_topic", "compliance_topic");
  const failureKey = named("aws_kms_key", "notifications_key");
  const complianceKey = named("aws_kms_key", "compliance_key");
  const workgroup = named("aws_athena_workgroup", "workgroup");
  const counts = (b: number, f: number, c: number, fk: number, ck: number) =>
    `length(${bucket}) == ${b} && length(${failures}) == ${f} && length(${compliance}) == ${c} && ` +
    `length(${failureKey}) == ${fk} && length(${complianceKey}) == ${ck}`;
  return `mock_provider "aws" {
  mock_data "aws_caller_identity" { defaults = { account_id = "123456789012" } }
  mock_data "aws_partition" { defaults = { partition = "aws" } }
  mock_data "aws_region" { defaults = { ${regionAttribute} = "us-east-1" } }
}
variables { name_prefix = "acme-hfap" }

run "creates_its_own" {
  command = plan
  assert {
    condition     = ${counts(1, 1, 1, 1, 0)}
    error_message = "without inputs: a bucket, two topics and one key for both"
  }
}

run "brings_its_own" {
  command = plan
  variables {
    existing_bucket_name          = "acme-landing"
    kms_key_arn                   = "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
    existing_failure_topic_arn    = "arn:aws:sns:us-east-1:123456789012:platform-alerts"
    existing_compliance_topic_arn = "arn:aws:sns:us-east-1:123456789012:compliance-digest"
  }
  assert {
    condition     = ${counts(0, 0, 0, 0, 0)}
    error_message = "given a bucket, a key and both topics: none of them is created"
  }
  assert {
    condition     = output.bucket_name == "acme-landing" && output.failure_topic_arn == "arn:aws:sns:us-east-1:123456789012:platform-alerts" && output.compliance_topic_arn == "arn:aws:sns:us-east-1:123456789012:compliance-digest"
    error_message = "the outputs return the given bucket and topics"
  }
}

run "refuses_a_key_of_another_region" {
  command = plan
  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
  }
  expect_failures = [${workgroup}]
}

run "brings_a_failure_topic_only" {
  command = plan
  variables {
    existing_failure_topic_arn = "arn:aws:sns:us-east-1:123456789012:platform-alerts"
  }
  assert {
    condition     = ${counts(1, 0, 1, 0, 1)}
    error_message = "given only the failure topic: the compliance topic is created with a key of its own"
  }
}
`;
}

function main(): number {
  const terraform = run("terraform", ["version"], ROOT);
  if (terraform.error) {
    say("validate:tf: terraform is not installed, so nothing was validated.");
    say("  Install Terraform >= 1.10 (https://developer.hashicorp.com/terraform/install) and run this again.");
    say("  npm test checks the synthesized JSON without it.");
    return 2;
  }
  say(terraform.stdout.split("\n")[0]);
  for (const script of ["synth", "synth:module"]) {
    const synth = run("npm", ["run", "--silent", script], ROOT);
    if (synth.status !== 0) {
      process.stderr.write(synth.stdout + synth.stderr);
      return 1;
    }
  }

  const work = mkdtempSync(join(tmpdir(), "validate-tf-"));
  const env: NodeJS.ProcessEnv = { ...process.env, TF_IN_AUTOMATION: "1" };
  const given = process.env.TF_CLI_CONFIG_FILE;
  let pinned: string | undefined;
  const constraint = moduleConstraint();
  const minimum = /\d+\.\d+\.\d+/.exec(constraint)![0];
  if (given && existsSync(given)) {
    say(`Providers: as TF_CLI_CONFIG_FILE (${given}) says.`);
  } else {
    const mirror = findMirror();
    if (mirror) {
      const config = join(work, "terraform.tfrc");
      writeFileSync(
        config,
        `provider_installation {\n  filesystem_mirror {\n    path    = "${mirror.dir}"\n    include = ["${AWS_PROVIDER}"]\n  }\n  direct {\n    exclude = ["${AWS_PROVIDER}"]\n  }\n}\n`,
      );
      env.TF_CLI_CONFIG_FILE = config;
      say(`Providers: the filesystem mirror ${mirror.dir} (hashicorp/aws ${mirror.version}).`);
      if (!atLeast(mirror.version, minimum)) {
        pinned = mirror.version;
        say(`  The module asks for hashicorp/aws ${constraint}: the copies checked here are pinned to ${pinned},`);
        say("  and what only the version difference explains is rewritten in them and named.");
      }
    } else {
      delete env.TF_CLI_CONFIG_FILE;
      say("Providers: the Terraform registry (no TF_CLI_CONFIG_FILE file, no local mirror found).");
    }
  }

  let failed = false;
  const explained = new Set<string>();
  for (const relative of DIRECTORIES) {
    const copy = join(work, relative);
    cpSync(join(ROOT, relative), copy, { recursive: true, filter: (source) => !source.includes(".terraform") });
    say(`\n== ${relative}`);
    if (pinned) {
      pinProvider(copy, pinned);
      for (const [difference, count] of rewriteDifferences(copy)) {
        explained.add(difference.why);
        say(`pinned to ${pinned}: ${count} reference(s) rewritten for it (${difference.why})`);
      }
    }
    const init = run("terraform", ["init", "-backend=false", "-input=false", "-no-color"], copy, env);
    if (init.status !== 0) {
      say(`terraform init failed: the configuration was read, but the hashicorp/aws provider could not be installed.`);
      say("  Offline, point TF_CLI_CONFIG_FILE at a CLI configuration with a provider mirror. terraform said:");
      say(
        (init.stderr || init.stdout)
          .split("\n")
          .filter((line) => line.trim())
          .slice(-6)
          .map((line) => `  ${line}`)
          .join("\n"),
      );
      rmSync(work, { recursive: true, force: true });
      return 3;
    }
    say("terraform init -backend=false: ok");
    const validate = run("terraform", ["validate", "-json", "-no-color"], copy, env);
    const diagnostics = (JSON.parse(validate.stdout || "{}").diagnostics ?? []) as Diagnostic[];
    let unexplained = 0;
    for (const diagnostic of diagnostics) {
      const where = diagnostic.range ? ` (${diagnostic.range.filename}:${diagnostic.range.start.line})` : "";
      if (diagnostic.severity === "error") unexplained++;
      say(
        `  ${diagnostic.severity}: ${diagnostic.summary}${where}${diagnostic.detail ? `: ${diagnostic.detail}` : ""}`,
      );
    }
    say(unexplained === 0 ? "terraform validate: no error" : `terraform validate: ${unexplained} error(s)`);
    failed ||= unexplained > 0;

    if (relative.startsWith("build/terraform-module/")) {
      writeFileSync(join(copy, "bring-your-own.tftest.hcl"), bringYourOwnTest(copy, pinned ? "name" : "region"));
      const test = run("terraform", ["test", "-no-color"], copy, env);
      const summary = /(Success|Failure)! .*/.exec(test.stdout)?.[0] ?? "no summary";
      say(`terraform test (mock provider, bring your own): ${summary}`);
      if (test.status !== 0) {
        say(
          test.stdout
            .split("\n")
            .filter((line) => /run "|Error|error_message|condition/.test(line))
            .map((line) => `  ${line.trim()}`)
            .join("\n"),
        );
        failed = true;
      }
    }
  }
  rmSync(work, { recursive: true, force: true });

  say("");
  for (const why of explained) say(`Rewritten for the older provider: ${why}.`);
  say(
    "Not checked here: a plan against AWS or an apply (they need credentials)" +
      (pinned ? `, and the schema of hashicorp/aws ${minimum} itself (checked against ${pinned})` : "") +
      ".",
  );
  return failed ? 1 : 0;
}

process.exitCode = main();
