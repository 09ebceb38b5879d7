/**
 * Two projects: "unit" (in-process, fast) and "e2e" (the local stack: s3rver, DuckDB, the state
 * machine emulator, the CLI and the benchmarks as processes). `npm test` runs both;
 * `npx jest --selectProjects unit` runs the fast ones only.
 *
 * @type {import('jest').Config}
 */

/**
 * Test files (globs under __tests__/) that start the local stack, s3rver or DuckDB, run the CLI's
 * local pipeline, or spawn the benchmarks.
 */
const E2E = [
  "local/**/*.test.ts",
  "reliability/**/*.test.ts",
  "cli/run*.test.ts",
  // A real browser (the Chromium of @sparticuz/chromium) over a report of the local digest.
  "cli/html-report.test.ts",
  "bench/bench-smoke.test.ts",
  "bench/scan-growth.test.ts",
  // The handlers against a real S3 endpoint (s3rver).
  "lambdas/**/handler.test.ts",
];

const shared = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  // Type errors are reported by `npm run typecheck`, which `npm test` runs first.
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
  // Bundles the Lambdas once per run (modules/lambda-bundle.ts reuses the recorded build).
  globalSetup: "<rootDir>/__tests__/setup/bundle-lambdas.ts",
  // A test that asserts nothing fails.
  setupFilesAfterEnv: ["<rootDir>/__tests__/setup/assertions.ts"],
};

module.exports = {
  // A global option: Jest ignores it in a project.
  testTimeout: 30000,
  // One worker per core (2 here; Jest's default is one fewer, which leaves a 2-core machine half
  // idle). Measured on 2 cores: 1 worker 87 s, 2 workers 52 s, 3 workers 51 s (no better, and
  // oversubscribed cores make the timing-sensitive tests flakier).
  maxWorkers: "100%",
  projects: [
    {
      ...shared,
      displayName: "unit",
      // Everything that is not e2e (a leading "!" cannot take <rootDir>).
      testMatch: ["<rootDir>/__tests__/**/*.test.ts", ...E2E.map((glob) => `!**/__tests__/${glob}`)],
    },
    { ...shared, displayName: "e2e", testMatch: E2E.map((glob) => `<rootDir>/__tests__/${glob}`) },
  ],
};
