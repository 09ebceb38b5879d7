import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

// ---------------------------------------------------------------------------------------------
// Dependency rules between the top-level folders (README.md, "Dependency rules").
//
// Each restricted folder lists what it MAY import; every other project folder is forbidden.
// `(root)` stands for the top-level files index.ts, main.ts and terraform-module.ts.
// __tests__/architecture/dependency-rules.test.ts keeps a copy of this table: it lints a
// snippet for every (folder, target) pair, and checks the folder-level import graph of the
// whole repository (including cycles, and "only cli/ imports both local/ and aws/", which a
// per-file rule cannot express). Change both together.
// ---------------------------------------------------------------------------------------------

const SEE = "see README.md, Dependency rules";

/** Every top-level place code can be imported from. */
const PROJECT_UNITS = [
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
];

const CDKTF_PACKAGES = {
  label: "cdktf, constructs or @cdktf/*",
  regex: "^(cdktf|constructs)(/|$)|^@cdktf/",
};
const LOCAL_ONLY_PACKAGES = {
  label: "aws-local-stepfunctions, @duckdb/node-api or s3rver",
  regex: "^(aws-local-stepfunctions|@duckdb/node-api|s3rver)(/|$)",
};

/** Folders whose imports are an allow-list. */
const ALLOWED = {
  core: {
    may: [],
    packages: [CDKTF_PACKAGES],
    why: "core/ is the pure shared layer every folder builds on, so it depends on none of them",
  },
  lambdas: {
    may: ["core"],
    packages: [CDKTF_PACKAGES],
    why: "the Lambda bundles stay small and carry no synth-time, local-only or CLI code",
  },
  config: {
    may: ["core"],
    packages: [],
    why: "the config schema is loaded by main.ts and the constructs, and depends on core/ only",
  },
  modules: {
    may: ["core", "config"],
    packages: [LOCAL_ONLY_PACKAGES],
    why: "the constructs synthesize the stack and must not pull in the local emulator, the AWS target or the CLI",
  },
  aws: {
    may: ["core"],
    packages: [],
    why: "the AWS target is a peer of the local target; only cli/ chooses between them",
  },
  local: {
    may: ["core", "lambdas"],
    packages: [],
    why: "the local emulator runs the handlers; only cli/ chooses between it and the AWS target",
  },
  cli: {
    may: ["core", "config", "local", "aws"],
    packages: [],
    why: "cli/ is the entry point; nothing it does belongs in a construct, a handler or a test",
  },
};

/** Folders that may import any project folder except cli/ (only bin/ launches the CLI). */
const NOT_CLI = {
  why: "cli/ is the only folder that may import both local/ and aws/, and nothing imports it",
};
const UNRESTRICTED_BUT_CLI = ["bench", "scripts", "examples", "(root)"];

const MAX_DEPTH = 6;
const TS_FILES = "*.{ts,tsx,mts,cts}";

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const label = (unit) =>
  unit === "(root)" ? "the top-level files (index.ts, main.ts, terraform-module.ts)" : `${unit}/`;

/**
 * A regex matching a relative specifier that, written in a file `depth` folders below the
 * repository root, resolves into `unit`. Exact depth keeps it precise: from
 * lambdas/filter-expiring/x.ts, "../local/x" is lambdas/local/x, not local/.
 * The last depth also covers deeper files (`{depth,}`).
 */
function relativeInto(unit, depth, orDeeper) {
  const ups = depth === 0 ? "\\./" : `(\\./)?(\\.\\./){${depth}${orDeeper ? "," : ""}}`;
  if (unit !== "(root)") return `^${ups}${escape(unit)}(/|$)`;
  // ".." / "../" / "../index" / "../main.ts" ... (the repository root itself resolves to index.ts)
  const upsButOne = depth === 0 ? "" : `(\\./)?(\\.\\./){${depth - 1}${orDeeper ? "," : ""}}`;
  return `^${upsButOne}\\.\\.(/|/(index|main|terraform-module)(\\.[cm]?[jt]s)?)?$`;
}

/** no-restricted-syntax selectors only see literal sources: import("..."), require("..."), typeof import("..."). */
function dynamicImportSelector(regex) {
  const literal = `/${regex.replace(/\//g, "\\/")}/`;
  return [
    `ImportExpression[source.value=${literal}]`,
    `CallExpression[callee.type="Identifier"][callee.name="require"][arguments.0.value=${literal}]`,
    `TSImportType[source.value=${literal}]`,
  ].join(", ");
}

function restrictionBlocks(from, forbidden, packages, why) {
  const depths = from === "(root)" ? [0] : Array.from({ length: MAX_DEPTH }, (_, i) => i + 1);
  return depths.map((depth) => {
    const orDeeper = depth === MAX_DEPTH;
    const files =
      from === "(root)" ? [TS_FILES] : [`${from}/${"*/".repeat(depth - 1)}${orDeeper ? "**/" : ""}${TS_FILES}`];
    const restrictions = [
      ...forbidden.map((unit) => ({
        regex: relativeInto(unit, depth, orDeeper),
        message: `${label(from)} must not import ${label(unit)}: ${why}; ${SEE}.`,
      })),
      ...packages.map((pkg) => ({
        regex: pkg.regex,
        message: `${label(from)} must not import ${pkg.label}: ${why}; ${SEE}.`,
      })),
    ];
    return {
      name: `dependency-rules/${from}${from === "(root)" ? "" : `/depth-${depth}${orDeeper ? "+" : ""}`}`,
      files,
      rules: {
        "@typescript-eslint/no-restricted-imports": [
          "error",
          { patterns: restrictions.map(({ regex, message }) => ({ regex, caseSensitive: true, message })) },
        ],
        "no-restricted-syntax": [
          "error",
          ...restrictions.map(({ regex, message }) => ({ selector: dynamicImportSelector(regex), message })),
        ],
      },
    };
  });
}

const dependencyRules = [
  ...Object.entries(ALLOWED).flatMap(([from, { may, packages, why }]) =>
    restrictionBlocks(
      from,
      PROJECT_UNITS.filter((unit) => unit !== from && !may.includes(unit)),
      packages,
      why,
    ),
  ),
  ...UNRESTRICTED_BUT_CLI.flatMap((from) => restrictionBlocks(from, ["cli"], [], NOT_CLI.why)),
];

export default tseslint.config(
  { ignores: ["node_modules/", "cdktf.out/", "dist/", "build/", "coverage/", "**/*.js", "**/*.mjs"] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
    },
  },
  ...dependencyRules,
);
