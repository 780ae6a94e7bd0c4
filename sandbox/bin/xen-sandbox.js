#!/usr/bin/env node
"use strict";
// Launcher for the compiled CLI (build first: `npx tsc -b` at the repository root).
require("../dist/cli.js")
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
