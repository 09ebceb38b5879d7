/**
 * Bundles a handler under lambdas/<name>/handler.ts with esbuild and zips it reproducibly.
 *
 * The same source gives a byte-identical zip on any machine (fixed entry order, timestamps and
 * permissions; source map paths relative to the bundle), so Terraform's source_code_hash changes
 * only when the code does and an unchanged function is never redeployed.
 *
 * A build is reused while its inputs are unchanged: next to each zip, build/lambdas/<name>.json
 * records what it was built from (a key over the bundler and its settings, and the content of
 * every file esbuild read). A later call, in this process or another one, returns that zip
 * without bundling again when every recorded hash still matches, so synthesizing (and each test
 * file that synthesizes a stack) does not pay for esbuild each time, and a changed source is
 * always rebuilt.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { buildSync, version as esbuildVersion, type BuildOptions, type BuildResult, type OutputFile } from "esbuild";
import { zipSync } from "fflate";
import { PACKAGE_ROOT } from "../core/package-root";

export const PROJECT_ROOT = PACKAGE_ROOT;

/** Zip entries get this timestamp (zip cannot store dates before 1980). */
const FIXED_MTIME = new Date("1980-01-01T00:00:00Z");

/**
 * The project folders whose every file is part of the cache key (not only the files the bundle
 * reads), so that a file added there that would change how an import resolves is noticed too.
 */
const SOURCE_FOLDERS = ["lambdas", "core"] as const;

/** Project files that change how esbuild reads the sources or which dependencies it finds. */
const PROJECT_FILES = ["package.json", "package-lock.json", "tsconfig.json"] as const;

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
  /**
   * Reuse the zip of an earlier build from the same inputs (build/lambdas/<name>.json), in this
   * process or from another one. false always runs esbuild (and records the result).
   * @default true
   */
  readonly cache?: boolean;
}

/** What build/lambdas/<name>.json holds. */
interface BundleRecord {
  readonly key: string;
  /** Every file esbuild read, relative to the root, with its SHA-256 (hex). */
  readonly inputs: Readonly<Record<string, string>>;
  readonly sourceCodeHash: string;
  readonly bundleBytes: number;
}

const memo = new Map<string, LambdaBundle>();

/**
 * Bundles lambdas/<name>/handler.ts into build/lambdas/<name>.zip (index.mjs + index.mjs.map).
 * Results are kept per process (tests synthesize many stacks) and, across processes, reused
 * while the sources they were built from are unchanged (see the top of this file).
 */
export function bundleLambda(name: string, options: BundleOptions = {}): LambdaBundle {
  const root = options.root ?? PROJECT_ROOT;
  const useCache = options.cache ?? true;
  const bundleDir = join(root, "build", "lambdas");
  const memoKey = join(bundleDir, name);
  if (useCache) {
    const remembered = memo.get(memoKey);
    if (remembered) return remembered;
  }

  const entry = join(root, "lambdas", name, "handler.ts");
  const outDir = join(bundleDir, name);
  const zipPath = join(bundleDir, `${name}.zip`);
  const recordPath = join(bundleDir, `${name}.json`);
  const buildOptions: BuildOptions = {
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
    write: false,
    logLevel: "silent",
    // Keeps source map paths inside the checkout even when node_modules is a link.
    preserveSymlinks: true,
    // ESM output cannot call require(); some bundled CommonJS dependencies do.
    banner: { js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);' },
  };
  const key = cacheKey(root, name, buildOptions);

  const reused = useCache ? reuse(root, name, key, zipPath, recordPath) : undefined;
  if (reused) {
    memo.set(memoKey, reused);
    return reused;
  }

  let result: BuildResult & { outputFiles: OutputFile[]; metafile: NonNullable<BuildResult["metafile"]> };
  try {
    // The metafile lists the inputs to record; it does not change the output.
    result = buildSync({ ...buildOptions, write: false, metafile: true });
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
  const bundle: LambdaBundle = {
    name,
    zipPath,
    sourceCodeHash: createHash("sha256").update(zip).digest("base64"),
    bundleBytes: files["index.mjs"].byteLength,
    handler: "index.handler",
  };
  // Zip first, record second: a record never names a zip that is not there yet, and reuse()
  // checks the zip's hash anyway, so concurrent builds cannot leave a wrong pair behind.
  writeAtomically(zipPath, zip);
  const inputs = inputHashes(root, Object.keys(result.metafile.inputs));
  if (inputs === undefined) {
    rmSync(recordPath, { force: true });
  } else {
    const record: BundleRecord = {
      key,
      inputs,
      sourceCodeHash: bundle.sourceCodeHash,
      bundleBytes: bundle.bundleBytes,
    };
    writeAtomically(recordPath, `${JSON.stringify(record, null, 1)}\n`);
  }
  memo.set(memoKey, bundle);
  return bundle;
}

/** Each input's SHA-256 by its path relative to the root; undefined if one is not a file (nothing to check later). */
function inputHashes(root: string, inputs: readonly string[]): Record<string, string> | undefined {
  const hashes: Record<string, string> = {};
  for (const input of [...inputs].sort()) {
    const hash = fileHash(join(root, input));
    if (hash === undefined) return undefined;
    hashes[input.split(sep).join("/")] = hash;
  }
  return hashes;
}

/** The recorded build, if its key, every input and the zip itself are still what was recorded. */
function reuse(root: string, name: string, key: string, zipPath: string, recordPath: string): LambdaBundle | undefined {
  let record: BundleRecord;
  try {
    record = JSON.parse(readFileSync(recordPath, "utf8")) as BundleRecord;
  } catch {
    return undefined;
  }
  if (record.key !== key || typeof record.inputs !== "object" || record.inputs === null) return undefined;
  for (const [input, hash] of Object.entries(record.inputs)) {
    if (fileHash(join(root, input)) !== hash) return undefined;
  }
  let zip: Buffer;
  try {
    zip = readFileSync(zipPath);
  } catch {
    return undefined;
  }
  const sourceCodeHash = createHash("sha256").update(zip).digest("base64");
  if (sourceCodeHash !== record.sourceCodeHash) return undefined;
  return { name, zipPath, sourceCodeHash, bundleBytes: record.bundleBytes, handler: "index.handler" };
}

/**
 * What a build depends on besides the files it reads: this bundler (its code, esbuild's
 * version, the settings), the project files that steer resolution, and every file under
 * lambdas/ and core/. Paths are relative to the root: another checkout of the same source has
 * the same key, as it gets the same zip.
 */
function cacheKey(root: string, name: string, buildOptions: BuildOptions): string {
  const hash = createHash("sha256");
  const add = (label: string, value: string | undefined) => hash.update(`${label}\0${value ?? "-"}\0`);
  add("name", name);
  add("esbuild", esbuildVersion);
  add("bundler", fileHash(__filename));
  add("fflate", fileHash(join(dirname(require.resolve("fflate")), "..", "package.json")));
  add(
    "options",
    JSON.stringify(buildOptions, (_key, value: unknown) =>
      typeof value === "string" && value.startsWith(root) ? relative(root, value).split(sep).join("/") : value,
    ),
  );
  for (const file of PROJECT_FILES) add(file, fileHash(join(root, file)));
  for (const folder of SOURCE_FOLDERS) {
    for (const file of filesUnder(join(root, folder))) add(relative(root, file).split(sep).join("/"), fileHash(file));
  }
  return hash.digest("hex");
}

/** SHA-256 (hex) of a file's content, or undefined if it is not a readable file. */
function fileHash(path: string): string | undefined {
  try {
    return createHash("sha256").update(readFileSync(path)).digest("hex");
  } catch {
    return undefined;
  }
}

/** Files under a folder, recursively, in a fixed order. */
function filesUnder(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .sort()
    .flatMap((entry) => {
      const path = join(folder, entry);
      return statSync(path).isDirectory() ? filesUnder(path) : [path];
    });
}

/** Writes through a temporary file and a rename, so no reader ever sees half a file. */
function writeAtomically(path: string, contents: Uint8Array | string): void {
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}
