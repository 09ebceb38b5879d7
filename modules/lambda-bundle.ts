/**
 * Bundles a handler under lambdas/<name>/handler.ts with esbuild and zips it reproducibly.
 *
 * The same source gives a byte-identical zip on any machine (fixed entry order, timestamps and
 * permissions; source map paths relative to the bundle), so Terraform's source_code_hash changes
 * only when the code does and an unchanged function is never redeployed.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { buildSync, type BuildResult, type OutputFile } from "esbuild";
import { zipSync } from "fflate";
import { PACKAGE_ROOT } from "../core/package-root";

export const PROJECT_ROOT = PACKAGE_ROOT;

/** Zip entries get this timestamp (zip cannot store dates before 1980). */
const FIXED_MTIME = new Date("1980-01-01T00:00:00Z");

export interface LambdaBundle {
  /** Handler name, e.g. "filter-expiring". */
  readonly name: string;
  /** Absolute path of the zip. */
  readonly zipPath: string;
  /** Base64 SHA-256 of the zip, as Lambda's source_code_hash expects. */
  readonly sourceCodeHash: string;
  /** Size of the minified bundle in bytes (without the source map). */
  readonly bundleBytes: number;
  /** The Lambda handler setting. */
  readonly handler: string;
}

export class LambdaBundleError extends Error {
  override readonly name = "LambdaBundleError";
}

export interface BundleOptions {
  /** The checkout holding lambdas/. @default - this project */
  readonly root?: string;
}

const cache = new Map<string, LambdaBundle>();

/**
 * Bundles lambdas/<name>/handler.ts into build/lambdas/<name>.zip (index.mjs + index.mjs.map).
 * Results are cached per process: tests synthesize many stacks.
 */
export function bundleLambda(name: string, options: BundleOptions = {}): LambdaBundle {
  const root = options.root ?? PROJECT_ROOT;
  const bundleDir = join(root, "build", "lambdas");
  const cached = cache.get(join(bundleDir, name));
  if (cached) return cached;

  const entry = join(root, "lambdas", name, "handler.ts");
  const outDir = join(bundleDir, name);
  let result: BuildResult & { outputFiles: OutputFile[] };
  try {
    result = buildSync({
      entryPoints: [entry],
      outfile: join(outDir, "index.mjs"),
      absWorkingDir: root,
      bundle: true,
      platform: "node",
      target: "node22",
      format: "esm",
      minify: true,
      sourcemap: "external",
      sourcesContent: false,
      legalComments: "none",
      metafile: false,
      write: false,
      logLevel: "silent",
      // Keeps source map paths inside the checkout even when node_modules is a link.
      preserveSymlinks: true,
      // ESM output cannot call require(); some bundled CommonJS dependencies do.
      banner: { js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);' },
    });
  } catch (error) {
    throw new LambdaBundleError(`Cannot bundle ${relative(root, entry)} for Lambda: ${(error as Error).message}`);
  }

  const files: Record<string, Uint8Array> = {};
  for (const file of result.outputFiles) files[relative(outDir, file.path)] = file.contents;
  const entries = Object.keys(files).sort();
  const zip = zipSync(
    Object.fromEntries(
      entries.map((file) => [file, [files[file], { mtime: FIXED_MTIME, level: 9, os: 3, attrs: 0o644 << 16 }]]),
    ),
  );

  mkdirSync(bundleDir, { recursive: true });
  const zipPath = join(bundleDir, `${name}.zip`);
  writeFileSync(zipPath, zip);
  const bundle: LambdaBundle = {
    name,
    zipPath,
    sourceCodeHash: createHash("sha256").update(zip).digest("base64"),
    bundleBytes: files["index.mjs"].byteLength,
    handler: "index.handler",
  };
  cache.set(join(bundleDir, name), bundle);
  return bundle;
}
