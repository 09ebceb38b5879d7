/**
 * The recorded build of modules/lambda-bundle.ts: a bundle is reused while everything it was
 * built from is unchanged, and rebuilt as soon as anything is not. Each call below loads the
 * module afresh (as another process would, without this one's memo) and counts esbuild runs.
 */
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as Esbuild from "esbuild";
import type * as LambdaBundleModule from "../../modules/lambda-bundle";
import { PROJECT_ROOT, type BundleOptions, type LambdaBundle } from "../../modules/lambda-bundle";

// The smaller of the two handlers: each rebuild below costs one esbuild run.
const NAME = "relocate-results";

let checkout: string;
beforeAll(() => {
  checkout = mkdtempSync(join(tmpdir(), "bundle-cache-"));
  for (const path of ["lambdas", "core", "package.json", "package-lock.json", "tsconfig.json"])
    cpSync(join(PROJECT_ROOT, path), join(checkout, path), { recursive: true });
  symlinkSync(join(PROJECT_ROOT, "node_modules"), join(checkout, "node_modules"));
});
afterAll(() => {
  rmSync(checkout, { recursive: true, force: true });
});

/** bundleLambda in the scratch checkout as a new process runs it, and whether it ran esbuild. */
function bundle(options: BundleOptions = {}): { bundle: LambdaBundle; built: boolean } {
  let result: { bundle: LambdaBundle; built: boolean } | undefined;
  jest.isolateModules(() => {
    const esbuild = jest.requireActual<typeof Esbuild>("esbuild");
    const buildSync = jest.fn(esbuild.buildSync);
    jest.doMock("esbuild", () => ({ ...esbuild, buildSync }));
    const { bundleLambda } = jest.requireActual<typeof LambdaBundleModule>("../../modules/lambda-bundle");
    result = { bundle: bundleLambda(NAME, { root: checkout, ...options }), built: buildSync.mock.calls.length > 0 };
  });
  jest.dontMock("esbuild");
  return result!;
}

const recordPath = () => join(checkout, "build", "lambdas", `${NAME}.json`);

describe("the recorded Lambda build", () => {
  let first: LambdaBundle;

  test("a first build runs esbuild and records its inputs next to the zip", () => {
    const { bundle: built, built: ran } = bundle();
    first = built;
    expect(ran).toBe(true);
    expect(first.zipPath).toBe(join(checkout, "build", "lambdas", `${NAME}.zip`));
    const record = JSON.parse(readFileSync(recordPath(), "utf8"));
    expect(record).toMatchObject({ sourceCodeHash: first.sourceCodeHash, bundleBytes: first.bundleBytes });
    expect(Object.keys(record.inputs)).toEqual(
      expect.arrayContaining([`lambdas/${NAME}/handler.ts`, "lambdas/shared/s3.ts", "core/data-layout.ts"]),
    );
    expect(Object.keys(record.inputs).some((input) => input.startsWith("node_modules/@aws-sdk/client-s3/"))).toBe(true);
  });

  test("the same sources again: the recorded zip, without running esbuild", () => {
    const again = bundle();
    expect(again.built).toBe(false);
    expect(again.bundle).toEqual(first);
  });

  test("the reused zip is the one a fresh build gives (cache: false always runs esbuild)", () => {
    const fresh = bundle({ cache: false });
    expect(fresh.built).toBe(true);
    expect(fresh.bundle.sourceCodeHash).toBe(first.sourceCodeHash);
  });

  test("a changed source is rebuilt, and the new build is then reused", () => {
    appendFileSync(join(checkout, "lambdas", NAME, "handler.ts"), '\nconsole.log("changed");\n');
    const changed = bundle();
    expect(changed.built).toBe(true);
    expect(changed.bundle.sourceCodeHash).not.toBe(first.sourceCodeHash);
    first = changed.bundle;
    expect(bundle()).toEqual({ bundle: first, built: false });
  });

  test("a file added under core/ or lambdas/ is rebuilt (it could change what an import resolves to)", () => {
    writeFileSync(join(checkout, "core", "added.ts"), "export const ADDED = 1;\n");
    const added = bundle();
    expect(added.built).toBe(true);
    expect(added.bundle.sourceCodeHash).toBe(first.sourceCodeHash);
  });

  test("a dependency that changed since (a recorded input under node_modules/) is rebuilt", () => {
    const record = JSON.parse(readFileSync(recordPath(), "utf8"));
    const dependency = Object.keys(record.inputs).find((input) => input.startsWith("node_modules/"))!;
    writeFileSync(
      recordPath(),
      JSON.stringify({ ...record, inputs: { ...record.inputs, [dependency]: "0".repeat(64) } }),
    );
    expect(bundle().built).toBe(true);
  });

  test("a zip that is not the recorded one is rebuilt", () => {
    writeFileSync(first.zipPath, "not the zip");
    const rebuilt = bundle();
    expect(rebuilt.built).toBe(true);
    expect(rebuilt.bundle.sourceCodeHash).toBe(first.sourceCodeHash);
    expect(readFileSync(first.zipPath).subarray(0, 2).toString()).toBe("PK");
  });
});
