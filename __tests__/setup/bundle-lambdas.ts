/**
 * Jest globalSetup: bundles every Lambda once, before any test file runs. Each test file that
 * synthesizes a stack (and `npm run bench` in the bench smoke test) then finds the zip that
 * modules/lambda-bundle.ts recorded under build/lambdas/ and reuses it instead of running
 * esbuild again: workers do not share the per-process cache, the recorded build they do.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { bundleLambda, PROJECT_ROOT } from "../../modules/lambda-bundle";

export default function bundleLambdasOnce(): void {
  const lambdas = join(PROJECT_ROOT, "lambdas");
  for (const name of readdirSync(lambdas).sort()) {
    if (existsSync(join(lambdas, name, "handler.ts"))) bundleLambda(name);
  }
}
