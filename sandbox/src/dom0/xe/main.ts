// The sandbox's stand-in for dom0's `xe` CLI: one XAPI session per invocation over the
// local Unix socket, xe's output formats, and XAPI errors printed as xe prints them.
import { parseXeArgs } from "./args";
import { isKnownCommand, runXeCommand } from "./commands";
import { XAPI_SOCKET, XapiCallError, withSession } from "./rpc";

async function main(argv: readonly string[]): Promise<number> {
  const invocation = parseXeArgs(argv);
  if ("error" in invocation) {
    process.stderr.write(`${invocation.error}\n`);
    return 1;
  }
  if (!isKnownCommand(invocation.command)) {
    process.stderr.write(`Unknown command: ${invocation.command}\n`);
    return 1;
  }
  try {
    const output = await withSession(XAPI_SOCKET, (call) => runXeCommand(call, invocation));
    process.stdout.write(output.stdout);
    process.stderr.write(output.stderr);
    return output.exitCode;
  } catch (error) {
    if (error instanceof XapiCallError) {
      process.stderr.write(`Error code: ${error.code}\nError parameters: ${error.params.join(", ")}\n`);
    } else {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    }
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
