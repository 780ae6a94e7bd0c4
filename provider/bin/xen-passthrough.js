#!/usr/bin/env node
"use strict";
// Launcher of the command the package installs as `pulumi-xen-passthrough` (the package's own name,
// so `npx pulumi-xen-passthrough disks --help` always runs this package, never another).
const { main, processIo } = require("../dist/cli/main.js");

main(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
