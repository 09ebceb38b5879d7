/**
 * `npm run check:package`: what another team gets. Packs this repository (`npm pack`, which runs
 * `prepare`, the build), creates a fresh cdktf app in a temporary directory that depends on the
 * tarball and on its own cdktf, constructs and provider (the peer dependencies), installs it from
 * the npm registry, and synthesizes a stack with a FacilityPipeline in it. Not part of `npm test`:
 * the install downloads the package's dependencies (about a minute). The tarball's contents are
 * checked by `__tests__/package.test.ts`, which is.
 *
 *   npm run check:package [-- --keep]     (--keep leaves the app directory for a look)
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(__dirname, "..");
const keep = process.argv.includes("--keep");
const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

function step(title: string, command: string, args: string[], cwd: string): string {
  process.stdout.write(`== ${title}: ${command} ${args.join(" ")}\n`);
  const started = Date.now();
  const output = execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  process.stdout.write(`   ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return output;
}

const app = mkdtempSync(join(tmpdir(), "facility-pipeline-consumer-"));
try {
  const packed = JSON.parse(step("pack", "npm", ["pack", "--json", "--pack-destination", app], ROOT))[0];
  const tarball = join(app, packed.filename);
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify(
      {
        name: "consumer-app",
        private: true,
        dependencies: {
          [manifest.name]: `file:${tarball}`,
          // The app's own copies, in the ranges the package declares as peers.
          cdktf: manifest.devDependencies.cdktf,
          constructs: manifest.devDependencies.constructs,
          "@cdktf/provider-aws": manifest.devDependencies["@cdktf/provider-aws"],
        },
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(app, "main.js"),
    `const { App, TerraformStack } = require("cdktf");
const { AwsProvider } = require("@cdktf/provider-aws/lib/provider");
const { FacilityPipeline } = require("${manifest.name}");

const app = new App({ outdir: "cdktf.out" });
const stack = new TerraformStack(app, "consumer");
new AwsProvider(stack, "aws", { region: "eu-west-1" });
new FacilityPipeline(stack, "facilities", { namePrefix: "consumer-hfap" });
app.synth();
`,
  );
  step("install", "npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], app);
  const nested = join(app, "node_modules", manifest.name, "node_modules");
  const copies = (existsSync(nested) ? readdirSync(nested) : []).filter((name) =>
    ["cdktf", "constructs", "@cdktf"].includes(name),
  );
  if (copies.length > 0) throw new Error(`the package brought its own ${copies.join(", ")}: two copies in the app`);
  step("synth", process.execPath, ["main.js"], app);
  const stack = JSON.parse(readFileSync(join(app, "cdktf.out", "stacks", "consumer", "cdk.tf.json"), "utf8"));
  const machines = Object.values(stack.resource.aws_sfn_state_machine ?? {}).map((m) => (m as { name: string }).name);
  if (machines.length !== 2) throw new Error(`expected 2 state machines, found ${machines.join(", ") || "none"}`);
  process.stdout.write(
    `ok: ${packed.filename} (${packed.entryCount} files, ${(packed.size / 1e6).toFixed(2)} MB) installs in a fresh ` +
      `cdktf app with its own cdktf, constructs and provider, and synthesizes ${machines.join(" and ")}\n`,
  );
} finally {
  if (keep) process.stdout.write(`the app is in ${app}\n`);
  else rmSync(app, { recursive: true, force: true });
}
