#!/usr/bin/env node
// The facility-pipeline CLI, run through tsx so no build step is needed.
//   facility-pipeline [FILES...] [options]          run the pipeline locally (local/cli.ts)
//   facility-pipeline replay|status|query|notify-test  operate a deployment (operations/cli.ts)
"use strict";
require("tsx/cjs");
require("tsx/esm/api").register();

const OPERATIONS = new Set(["replay", "status", "query", "notify-test"]);
const argv = process.argv.slice(2);
const entry = OPERATIONS.has(argv[0]) ? "../operations/cli.ts" : "../local/cli.ts";
require(entry)
  .main(argv)
  .then(
    (code) => (process.exitCode = code),
    (error) => {
      process.stderr.write(`facility-pipeline: ${error && error.stack ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    },
  );
