#!/usr/bin/env node
// The facility-pipeline CLI (cli/main.ts), run through tsx so no build step is needed.
"use strict";
require("tsx/cjs");
require("tsx/esm/api").register();
require("../cli/main.ts").runFromCommandLine();
