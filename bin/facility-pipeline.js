#!/usr/bin/env node
// Runs the local pipeline CLI (local/cli.ts) through tsx, so no build step is needed.
"use strict";
require("tsx/cjs");
require("tsx/esm/api").register();
require("../local/cli.ts")
  .main(process.argv.slice(2))
  .then(
    (code) => (process.exitCode = code),
    (error) => {
      process.stderr.write(`facility-pipeline: ${error && error.stack ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    },
  );
