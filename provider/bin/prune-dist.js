#!/usr/bin/env node
"use strict";
// Part of `prepack` (after `tsc -b`): removes what dist/ holds for sources that no longer exist
// (a renamed or deleted module), which an incremental build leaves behind and a publish would ship.
const { existsSync, readdirSync, rmSync } = require("node:fs");
const { join, relative } = require("node:path");

const root = join(__dirname, "..");
const dist = join(root, "dist");
const OUTPUT = /\.(?:js|js\.map|d\.ts)$/;

function sourceOf(output) {
  return join(root, "src", relative(dist, output).replace(OUTPUT, ".ts"));
}

function prune(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) prune(path);
    else if (OUTPUT.test(entry.name) && !existsSync(sourceOf(path))) {
      rmSync(path);
      process.stderr.write(`prepack: removed ${relative(root, path)} (its source is gone)\n`);
    }
  }
}

prune(dist);
