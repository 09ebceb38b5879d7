/**
 * The dependency rules between the top-level folders (README.md, "Dependency rules").
 *
 * (a) eslint.config.mjs enforces them per file with @typescript-eslint/no-restricted-imports
 *     (static imports, `import type`, re-exports, `import x = require()`) and no-restricted-syntax
 *     (`import("...")`, `require("...")`, `typeof import("...")` with a literal source): these
 *     tests lint small snippets through ESLint's Node API with the real config.
 * (b) The folder-level import graph of the whole repository, read from the source files, has no
 *     cycle and obeys the same table — including "only cli/ imports both local/ and aws/", which
 *     a per-file lint rule cannot express.
 *
 * MAY_IMPORT below is a copy of ALLOWED in eslint.config.mjs; "the lint config agrees with the
 * table" fails if one changes without the other.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { Linter } from "eslint";
import * as ts from "typescript";

const ROOT = join(__dirname, "..", "..");

/** Every top-level place code can be imported from; `(root)` is index.ts, main.ts, terraform-module.ts. */
const UNITS = [
  "core",
  "lambdas",
  "modules",
  "config",
  "local",
  "aws",
  "cli",
  "bench",
  "scripts",
  "examples",
  "bin",
  "__tests__",
  "(root)",
] as const;
type Unit = (typeof UNITS)[number];

/** Folders whose imports are an allow-list (every other project folder is forbidden). */
const MAY_IMPORT: Partial<Record<string, readonly Unit[]>> = {
  core: [],
  lambdas: ["core"],
  config: ["core"],
  modules: ["core", "config"],
  aws: ["core"],
  local: ["core", "lambdas"],
  cli: ["core", "config", "local", "aws"],
};
/** Folders that may import anything of the project except cli/. */
const ANYTHING_BUT_CLI: readonly Unit[] = ["bench", "scripts", "examples", "(root)"];
/** bin/facility-pipeline.js launches the CLI; tests import anything. */
const MAY_IMPORT_CLI: readonly string[] = ["bin", "__tests__"];
/** Only cli/ (and the tests) may import both targets. */
const MAY_IMPORT_BOTH_TARGETS: readonly string[] = ["cli", "__tests__"];

const RESTRICTED_IMPORT = "@typescript-eslint/no-restricted-imports";
const RESTRICTED_SYNTAX = "no-restricted-syntax";
const DEPENDENCY_RULE_IDS = [RESTRICTED_IMPORT, RESTRICTED_SYNTAX];

const label = (unit: string) =>
  unit === "(root)" ? "the top-level files (index.ts, main.ts, terraform-module.ts)" : `${unit}/`;

// ---------------------------------------------------------------------------------------------
// (a) the lint rules, on snippets
// ---------------------------------------------------------------------------------------------

/**
 * ESLint loads eslint.config.mjs with a dynamic import(), which jest's module sandbox refuses
 * without --experimental-vm-modules; so one ESLint instance lives in a child process (same node
 * binary, cwd ROOT) and lints each snippet on request over IPC.
 */
const LINT_WORKER = `
const { ESLint } = require("eslint");
const eslint = new ESLint({ cwd: process.cwd() });
process.on("message", async ({ id, code, filePath }) => {
  try {
    const [result] = await eslint.lintText(code, { filePath });
    process.send({ id, messages: result.messages });
  } catch (error) {
    process.send({ id, error: String((error && error.stack) || error) });
  }
});
`;

type WorkerReply = { id: number; messages?: Linter.LintMessage[]; error?: string };

let worker: ChildProcess;
let nextId = 0;
const pending = new Map<number, { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void }>();

beforeAll(() => {
  worker = spawn(process.execPath, ["-e", LINT_WORKER], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  worker.on("message", (reply: WorkerReply) => {
    pending.get(reply.id)?.resolve(reply);
    pending.delete(reply.id);
  });
  worker.on("exit", (code, signal) => {
    for (const { reject } of pending.values()) reject(new Error(`the lint worker exited (${code ?? signal})`));
    pending.clear();
  });
});

afterAll(() => {
  if (worker.connected) worker.disconnect();
});

/** Lints `code` as if it were the file `file` (relative to ROOT); fails on a parse error. */
async function lint(file: string, code: string): Promise<Linter.LintMessage[]> {
  const id = nextId++;
  const reply = await new Promise<WorkerReply>((resolveReply, rejectReply) => {
    pending.set(id, { resolve: resolveReply, reject: rejectReply });
    worker.send({ id, code, filePath: join(ROOT, file) });
  });
  if (reply.error !== undefined) throw new Error(reply.error);
  const messages = reply.messages ?? [];
  const fatal = messages.filter((message) => message.fatal);
  if (fatal.length > 0) throw new Error(`${file}: ${fatal.map((message) => message.message).join("; ")}`);
  return messages;
}

/** The dependency-rule messages only (snippets may also trip e.g. no-require-imports). */
async function dependencyViolations(file: string, code: string): Promise<Linter.LintMessage[]> {
  return (await lint(file, code)).filter((message) => DEPENDENCY_RULE_IDS.includes(message.ruleId ?? ""));
}

async function expectForbidden(file: string, code: string, ruleId: string, message: string): Promise<void> {
  const violations = await dependencyViolations(file, code);
  expect(violations).toHaveLength(1);
  expect(violations[0]).toEqual(expect.objectContaining({ ruleId, message: expect.stringContaining(message) }));
  expect(violations[0].message).toContain("see README.md, Dependency rules");
}

const importOf = (specifier: string) => `import { thing } from "${specifier}";\nexport { thing };\n`;

describe("eslint.config.mjs dependency rules", () => {
  test.each(["modules", "local", "cli", "aws", "config"])("lambdas/ must not import %s/", async (target) => {
    await expectForbidden(
      "lambdas/filter-expiring/x.ts",
      importOf(`../../${target}/x`),
      RESTRICTED_IMPORT,
      `lambdas/ must not import ${target}/: the Lambda bundles stay small`,
    );
  });

  test.each(["cdktf", "constructs", "@cdktf/provider-aws/lib/s3-bucket", "cdktf/lib/app"])(
    "lambdas/ must not import the package %s",
    async (specifier) => {
      await expectForbidden(
        "lambdas/shared/x.ts",
        importOf(specifier),
        RESTRICTED_IMPORT,
        "lambdas/ must not import cdktf, constructs or @cdktf/*",
      );
    },
  );

  test.each(["local", "cli", "aws"])("modules/ must not import %s/", async (target) => {
    await expectForbidden(
      "modules/x.ts",
      importOf(`../${target}/x`),
      RESTRICTED_IMPORT,
      `modules/ must not import ${target}/: the constructs synthesize the stack`,
    );
  });

  test.each(["aws-local-stepfunctions", "@duckdb/node-api", "s3rver"])(
    "modules/ must not import the local-only package %s",
    async (specifier) => {
      await expectForbidden(
        "modules/x.ts",
        importOf(specifier),
        RESTRICTED_IMPORT,
        "modules/ must not import aws-local-stepfunctions, @duckdb/node-api or s3rver",
      );
    },
  );

  test.each(UNITS.filter((unit) => unit !== "core" && unit !== "(root)"))(
    "core/ must not import %s/",
    async (target) => {
      await expectForbidden(
        "core/x.ts",
        importOf(`../${target}/x`),
        RESTRICTED_IMPORT,
        `core/ must not import ${target}/: core/ is the pure shared layer`,
      );
    },
  );

  test("core/ must not import the top-level files", async () => {
    await expectForbidden(
      "core/x.ts",
      importOf("../index"),
      RESTRICTED_IMPORT,
      "core/ must not import the top-level files (index.ts, main.ts, terraform-module.ts)",
    );
  });

  test.each(["cdktf", "constructs", "@cdktf/provider-aws"])(
    "core/ must not import the package %s",
    async (specifier) => {
      await expectForbidden(
        "core/x.ts",
        importOf(specifier),
        RESTRICTED_IMPORT,
        "core/ must not import cdktf, constructs or @cdktf/*",
      );
    },
  );

  test.each(["cli", "aws", "modules"])("local/ must not import %s/", async (target) => {
    await expectForbidden(
      "local/x.ts",
      importOf(`../${target}/x`),
      RESTRICTED_IMPORT,
      `local/ must not import ${target}/: the local emulator runs the handlers`,
    );
  });

  test.each(["cli", "local", "modules"])("aws/ must not import %s/", async (target) => {
    await expectForbidden(
      "aws/x.ts",
      importOf(`../${target}/x`),
      RESTRICTED_IMPORT,
      `aws/ must not import ${target}/: the AWS target is a peer of the local target`,
    );
  });

  test.each(UNITS.filter((unit) => !["cli", ...MAY_IMPORT_CLI].includes(unit)))(
    "%s must not import cli/ (only bin/ launches it)",
    async (from) => {
      const file = from === "(root)" ? "index.ts" : `${from}/x.ts`;
      const specifier = from === "(root)" ? "./cli/main" : "../cli/main";
      await expectForbidden(file, importOf(specifier), RESTRICTED_IMPORT, `${label(from)} must not import cli/`);
    },
  );

  test.each([
    [
      "import type",
      'import type { LocalPipeline } from "../../local/pipeline";\nexport type { LocalPipeline };\n',
      RESTRICTED_IMPORT,
    ],
    ["export from", 'export { LocalPipeline } from "../../local/pipeline";\n', RESTRICTED_IMPORT],
    ["export *", 'export * from "../../local/pipeline";\n', RESTRICTED_IMPORT],
    ["side-effect import", 'import "../../local/pipeline";\n', RESTRICTED_IMPORT],
    [
      "import = require",
      'import pipeline = require("../../local/pipeline");\nexport { pipeline };\n',
      RESTRICTED_IMPORT,
    ],
    ["dynamic import()", 'export const load = () => import("../../local/pipeline");\n', RESTRICTED_SYNTAX],
    ["require()", 'export const load = () => require("../../local/pipeline");\n', RESTRICTED_SYNTAX],
    ["typeof import()", 'export type Pipeline = typeof import("../../local/pipeline");\n', RESTRICTED_SYNTAX],
  ])("every import form is caught: %s", async (_form, code, ruleId) => {
    await expectForbidden("lambdas/filter-expiring/x.ts", code, ruleId, "lambdas/ must not import local/");
  });

  test.each([
    ["aws/x.ts", "../local/pipeline"],
    ["lambdas/x.ts", "../local/pipeline"],
    ["lambdas/filter-expiring/x.ts", "../../local/pipeline"],
    ["lambdas/filter-expiring/x.ts", "../../local"],
    ["lambdas/filter-expiring/x.ts", "../../local/pipeline.ts"],
    ["lambdas/filter-expiring/x.ts", "./../../local/pipeline"],
    ["lambdas/a/b/x.ts", "../../../local/pipeline"],
    ["lambdas/a/b/c/d/e/f/g/x.ts", "../../../../../../../../local/pipeline"],
  ])("relative paths are resolved by depth: %s importing %s", async (file, specifier) => {
    const from = file.split("/")[0];
    await expectForbidden(file, importOf(specifier), RESTRICTED_IMPORT, `${from}/ must not import local/`);
  });

  test.each([
    ["lambdas/filter-expiring/x.ts", "../../index"],
    ["lambdas/filter-expiring/x.ts", "../.."],
    ["lambdas/x.ts", "../main"],
    ["lambdas/shared/x.ts", "../../terraform-module.ts"],
  ])("the top-level files are caught: %s importing %s", async (file, specifier) => {
    await expectForbidden(
      file,
      importOf(specifier),
      RESTRICTED_IMPORT,
      "lambdas/ must not import the top-level files (index.ts, main.ts, terraform-module.ts)",
    );
  });

  const exportsOf = (...specifiers: string[]) =>
    specifiers.map((specifier, i) => `export { thing as thing${i} } from "${specifier}";\n`).join("");

  test.each([
    ["lambdas/ -> core/", "lambdas/filter-expiring/x.ts", exportsOf("../../core/data-layout")],
    ["lambdas/ -> lambdas/", "lambdas/filter-expiring/x.ts", exportsOf("../shared/errors", "./index")],
    // Exact depth: from lambdas/filter-expiring/, "../local/x" is lambdas/local/x, not local/.
    ["a lambdas/ folder named local", "lambdas/filter-expiring/x.ts", exportsOf("../local/x")],
    ["lambdas/ -> the AWS SDK", "lambdas/shared/x.ts", exportsOf("@aws-sdk/client-s3")],
    [
      "local/ -> lambdas/ (import())",
      "local/x.ts",
      'export const load = () => import("../lambdas/filter-expiring/handler");\n',
    ],
    ["local/ -> core/ and s3rver", "local/x.ts", exportsOf("../core/target", "s3rver")],
    [
      "cli/ -> local/, aws/, config/, core/",
      "cli/x.ts",
      exportsOf("../local/target", "../aws/target", "../config/schema", "../core/sql"),
    ],
    [
      "modules/ -> core/, config/, cdktf",
      "modules/x.ts",
      exportsOf("../core/asl", "../config/schema", "cdktf", "constructs"),
    ],
    ["aws/ -> core/", "aws/x.ts", exportsOf("../core/target")],
    ["config/ -> core/", "config/x.ts", exportsOf("../core/aws-names")],
    [
      "bench/ -> lambdas/, modules/",
      "bench/lib/x.ts",
      exportsOf("../../lambdas/filter-expiring/filter-facilities", "../../modules/lambda-bundle"),
    ],
    ["index.ts -> modules/, config/", "index.ts", exportsOf("./modules/pipeline", "./config/schema")],
    ["examples/ -> index.ts", "examples/library-app/main.ts", exportsOf("../../index")],
    ["__tests__/ -> anything", "__tests__/x.test.ts", exportsOf("../cli/main", "../local/pipeline", "../aws/target")],
  ])("allowed: %s", async (_name, file, code) => {
    expect(await lint(file, code)).toEqual([]);
  });

  test("the lint config agrees with the table, for every (folder, target) pair", async () => {
    const mismatches: string[] = [];
    const restricted = [...Object.keys(MAY_IMPORT), ...ANYTHING_BUT_CLI];
    for (const from of restricted) {
      const file = from === "(root)" ? "index.ts" : `${from}/sub/x.ts`;
      const up = from === "(root)" ? "./" : "../../";
      for (const target of UNITS.filter((unit) => unit !== from)) {
        const specifier = target === "(root)" ? `${up}index` : `${up}${target}/x`;
        const allowed = MAY_IMPORT[from]?.includes(target) ?? target !== "cli";
        const caught = (await dependencyViolations(file, `import "${specifier}";\n`)).length > 0;
        if (caught === allowed)
          mismatches.push(`${file} importing "${specifier}": ${caught ? "reported" : "not reported"}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// (b) the folder-level import graph of the repository
// ---------------------------------------------------------------------------------------------

/** from unit -> to unit -> where ("file:line imports \"spec\"") */
type Graph = Map<string, Map<string, string[]>>;

const SKIPPED_DIRECTORIES = new Set(["node_modules", "dist", "cdktf.out", "build", "coverage"]);
const SOURCE_FILE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;
const RELATIVE = /^\.\.?(\/|$)/;
const OUTSIDE = "(outside the repository)";

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      const skipped =
        SKIPPED_DIRECTORIES.has(entry.name) ||
        entry.name.startsWith(".") ||
        (directory === ROOT && entry.name === "__tests__");
      return skipped ? [] : sourceFiles(path);
    }
    return entry.isFile() && SOURCE_FILE.test(entry.name) ? [path] : [];
  });
}

/** The top-level folder of a path relative to ROOT, or (root) for a top-level file. */
function unitOf(pathFromRoot: string): string {
  if (pathFromRoot === ".." || pathFromRoot.startsWith(`..${sep}`)) return OUTSIDE;
  const parts = pathFromRoot.split(sep);
  return parts.length === 1 ? "(root)" : parts[0];
}

function addEdge(graph: Graph, from: string, to: string, where: string): void {
  const targets = graph.get(from) ?? new Map<string, string[]>();
  graph.set(from, targets);
  targets.set(to, [...(targets.get(to) ?? []), where]);
}

/** Static imports and re-exports, import(), require() and import x = require(), ignoring comments and strings. */
function buildGraph(root: string): Graph {
  const graph: Graph = new Map();
  for (const file of sourceFiles(root)) {
    const text = readFileSync(file, "utf8");
    const fromPath = relative(root, file);
    const from = unitOf(fromPath);
    for (const { fileName: specifier, pos } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!RELATIVE.test(specifier)) continue;
      const to = unitOf(relative(root, resolve(dirname(file), specifier)));
      if (to === from) continue;
      const line = text.slice(0, pos).split("\n").length;
      addEdge(graph, from, to, `${fromPath}:${line} imports "${specifier}"`);
    }
  }
  return graph;
}

/** A cycle as [a, b, ..., a], or null. */
function findCycle(graph: ReadonlyMap<string, Iterable<string>>): string[] | null {
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === "done") return null;
    if (state.get(node) === "visiting") return [...path.slice(path.indexOf(node)), node];
    state.set(node, "visiting");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, "done");
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

const folderEdges = (graph: Graph) => new Map([...graph].map(([from, targets]) => [from, [...targets.keys()]]));

/** Every broken rule, with the imports that break it. */
function violations(graph: Graph): string[] {
  const found: string[] = [];
  for (const [from, targets] of graph) {
    for (const [to, where] of targets) {
      const allowList = MAY_IMPORT[from];
      const broken =
        to === OUTSIDE
          ? "nothing imports from outside the repository"
          : allowList && !allowList.includes(to as Unit)
            ? allowList.length === 0
              ? `${label(from)} imports no other project folder`
              : `${label(from)} may import only ${allowList.map(label).join(", ")}`
            : to === "cli" && !MAY_IMPORT_CLI.includes(from)
              ? "only bin/ may import cli/"
              : null;
      if (broken) found.push(`${label(from)} -> ${label(to)} (${broken}): ${where.join(", ")}`);
    }
    if (targets.has("local") && targets.has("aws") && !MAY_IMPORT_BOTH_TARGETS.includes(from)) {
      found.push(`${label(from)} imports both local/ and aws/ (only cli/ may)`);
    }
  }
  const cycle = findCycle(folderEdges(graph));
  if (cycle) found.push(`folder cycle: ${cycle.map(label).join(" -> ")}`);
  return found;
}

function graphOf(edges: Record<string, string[]>): Graph {
  const graph: Graph = new Map();
  for (const [from, targets] of Object.entries(edges)) {
    for (const to of targets) addEdge(graph, from, to, `${from}/x.ts:1 imports "../${to}/x"`);
  }
  return graph;
}

describe("the repository's folder-level import graph", () => {
  const graph = buildGraph(ROOT);

  test("is read from the source files (the scanner sees the known imports)", () => {
    const edges = folderEdges(graph);
    expect(edges.get("lambdas")).toContain("core");
    expect(edges.get("local")).toEqual(expect.arrayContaining(["core", "lambdas"])); // lambdas by import()
    expect(edges.get("cli")).toEqual(expect.arrayContaining(["core", "local", "aws"]));
    expect(edges.get("bin")).toEqual(["cli"]); // require() from a .js file
    expect(edges.get("(root)")).toContain("modules");
  });

  test("has no cycle between folders", () => {
    expect(findCycle(folderEdges(graph))).toBeNull();
  });

  test("obeys the dependency rules", () => {
    expect(violations(graph)).toEqual([]);
  });

  test("the cycle check finds cycles (and only cycles)", () => {
    const edges = (record: Record<string, string[]>) => new Map(Object.entries(record));
    expect(findCycle(edges({ a: ["b"], b: ["a"] }))).toEqual(["a", "b", "a"]);
    expect(findCycle(edges({ a: ["b"], b: ["c"], c: ["d", "a"], d: [] }))).toEqual(["a", "b", "c", "a"]);
    expect(findCycle(edges({ a: ["b", "c"], b: ["c"], c: [] }))).toBeNull();
    expect(violations(graphOf({ modules: ["core", "config"], config: ["modules"] }))).toEqual([
      expect.stringContaining("config/ -> modules/ (config/ may import only core/)"),
      "folder cycle: modules/ -> config/ -> modules/",
    ]);
  });

  test("the rule check finds every kind of violation", () => {
    const found = violations(
      graphOf({
        lambdas: ["core", "local"],
        core: ["lambdas"],
        aws: ["modules"],
        bench: ["local", "aws", "cli"],
        bin: ["cli"],
        cli: ["local", "aws", "core"],
        scripts: [OUTSIDE],
      }),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining("lambdas/ -> local/ (lambdas/ may import only core/)"),
        expect.stringContaining("core/ -> lambdas/ (core/ imports no other project folder)"),
        expect.stringContaining("aws/ -> modules/"),
        expect.stringContaining("bench/ -> cli/ (only bin/ may import cli/)"),
        "bench/ imports both local/ and aws/ (only cli/ may)",
        expect.stringContaining("scripts/ -> (outside the repository)/ (nothing imports from outside the repository)"),
        "folder cycle: lambdas/ -> core/ -> lambdas/",
      ]),
    );
    expect(found.filter((line) => line.startsWith("bin/") || line.startsWith("cli/"))).toEqual([]);
  });
});
