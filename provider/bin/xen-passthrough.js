#!/usr/bin/env node
"use strict";
// Launcher of the `xen-passthrough` command (`npx xen-passthrough disks --help`).
const { main, processIo } = require("../dist/cli/main.js");

main(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
