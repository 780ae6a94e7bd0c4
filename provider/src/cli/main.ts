// Entry point of the `xen-passthrough` command (bin/xen-passthrough.js): parses the command
// line, runs the command, and turns failures into a message and an exit code.
import { readFile } from "node:fs/promises";
import type { CliIo } from "./disks.js";
import { listDisks } from "./disks.js";
import { parseCommandLine } from "./args.js";
import { EXIT_OK, describeFailure } from "./failure.js";
import { USAGE } from "./usage.js";
import { listUsbDevices } from "./usb.js";

/**
 * Runs the CLI and resolves to its exit code; never throws.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2), processIo());
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const command = parseCommandLine(argv);
    if (command.command === "help") io.stdout(`${USAGE}\n`);
    else if (command.command === "version") io.stdout(`${packageVersion()}\n`);
    else if (command.command === "usb") await listUsbDevices(command.options, io);
    else await listDisks(command.options, io);
    return EXIT_OK;
  } catch (error) {
    const failure = describeFailure(error);
    io.stderr(`xen-passthrough: ${failure.message}\n`);
    // Only when asked: expected failures read better without a stack trace.
    if (io.env["XEN_PASSTHROUGH_DEBUG"] === "1" && error instanceof Error && error.stack !== undefined) {
      io.stderr(`${error.stack}\n`);
    }
    return failure.exitCode;
  }
}

/** The real process: its streams, environment and file system. */
export function processIo(): CliIo {
  return {
    env: process.env,
    readFile: (path) => readFile(path, "utf8"),
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
  };
}

function packageVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require("../../package.json") as { version: string }).version;
}
