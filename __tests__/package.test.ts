/**
 * What `npm pack` gives another team: the built library (dist/), the CLI and what it runs, the
 * license and changelog; no tests, fixtures, benchmarks or examples. And the manifest: the cdktf
 * libraries as peer dependencies (an app brings its own; two copies would break construct
 * checks), dev dependencies inside the peer ranges, a prepare script that builds dist/ so a git
 * dependency works. `npm run check:package` installs the tarball in a fresh cdktf app.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "..");
const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

function packedFiles(): string[] {
  if (!existsSync(join(ROOT, "dist", "index.js"))) {
    throw new Error("dist/ is missing: npm ci (its prepare script) or npm run build makes it");
  }
  // --ignore-scripts: dist/ is built already; the listing is what matters here.
  const output = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return (JSON.parse(output)[0].files as { path: string }[]).map((file) => file.path);
}

describe("the npm package", () => {
  const files = packedFiles();

  test("holds the library, the CLI and what they read, the license and the changelog", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "dist/index.js",
        "dist/index.d.ts",
        "dist/modules/pipeline.js",
        "bin/facility-pipeline.js",
        "cli/main.ts",
        "lambdas/filter-expiring/handler.ts",
        "state-machines/facility-pipeline.asl.json",
        "state-machines/expiry-digest.asl.json",
        "sql/merge_current_state.sql",
        "data/sample_facility_data.json",
        "LICENSE",
        "README.md",
        "CHANGELOG.md",
        "package.json",
      ]),
    );
  });

  test("holds no tests, fixtures, benchmarks, examples or build output other than dist/", () => {
    const unwanted = files.filter((path) =>
      /(^|\/)(__tests__|fixtures|bench|examples|build|cdktf\.out|coverage|\.local-state)\/|\.test\.ts$/.test(path),
    );
    expect(unwanted).toEqual([]);
  });

  test("cdktf, constructs and the provider are peer dependencies, with dev copies inside their ranges", () => {
    const peers = ["cdktf", "constructs", "@cdktf/provider-aws"];
    for (const name of peers) {
      expect([name, manifest.dependencies[name]]).toEqual([name, undefined]);
      expect([name, manifest.peerDependencies[name]]).toEqual([name, expect.any(String)]);
      const dev = manifest.devDependencies[name] as string;
      const installed = JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
      expect([name, dev]).toEqual([name, installed]);
      const [, low, high] = /^(?:>=|\^)(\d+\.\d+\.\d+)(?: <(\d+\.\d+\.\d+))?$/.exec(manifest.peerDependencies[name])!;
      const compare = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });
      expect(compare(installed, low)).toBeGreaterThanOrEqual(0);
      if (high) expect(compare(installed, high)).toBeLessThan(0);
    }
  });

  test("the CLI's runtime is installed with it: tsx and the local mode's packages are dependencies", () => {
    for (const name of ["tsx", "@duckdb/node-api", "s3rver", "aws-local-stepfunctions"])
      expect([name, manifest.dependencies[name]]).toEqual([name, expect.any(String)]);
    expect(manifest.scripts.prepare).toBe("npm run build");
    expect(manifest.license).toBe("Apache-2.0");
    expect(readFileSync(join(ROOT, "LICENSE"), "utf8")).toContain(
      "Apache License\n                           Version 2.0",
    );
  });
});
