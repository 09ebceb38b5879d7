// Preloaded into the facility-pipeline CLI by the end-to-end benchmark (node --import), so the CLI
// itself runs unchanged. Records, in the file named by FACILITY_BENCH_PROBE_OUT:
//   - for each execution, the time spent in each state (from the execution history, as
//     LocalPipeline reports it) and when the upload and the execution started and ended;
//   - the process's peak RSS, written when it exits or is stopped with SIGTERM.
// The file is rewritten after each execution, so what was measured survives a CLI that fails
// afterwards. If the hook cannot be set, the error is recorded and the run is still timed.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const out = process.env.FACILITY_BENCH_PROBE_OUT;
const executions = [];
const marks = {};
let probeError = null;

function save(final) {
  if (!out) return;
  const maxRssBytes = final ? process.resourceUsage().maxRSS * 1024 : null;
  writeFileSync(out, JSON.stringify({ maxRssBytes, marks, executions, probeError }));
}

function timed(prototype, method) {
  const original = prototype[method];
  prototype[method] = async function (...args) {
    const start = Date.now();
    try {
      return await original.apply(this, args);
    } finally {
      (marks[method] ??= []).push({ start, end: Date.now() });
    }
  };
}

try {
  const require = createRequire(import.meta.url);
  // The CLI loads its TypeScript through tsx's require hook; this loads the same module instance.
  require("tsx/cjs");
  const { LocalPipeline } = require("../../local/pipeline.ts");
  timed(LocalPipeline.prototype, "upload");
  timed(LocalPipeline.prototype, "runExecution");
  const processFile = LocalPipeline.prototype.processFile;
  LocalPipeline.prototype.processFile = async function (file) {
    const result = await processFile.call(this, file);
    executions.push({
      source: result.source,
      status: result.status,
      error: result.error,
      durationMs: result.durationMs,
      stateDurationsMs: result.stateDurationsMs,
      retries: result.retries,
      ingest: result.ingest,
    });
    save(false);
    return result;
  };
} catch (error) {
  probeError = String(error && error.stack ? error.stack : error);
}

process.on("exit", () => save(true));
process.once("SIGTERM", () => {
  save(true);
  process.exit(143);
});
