/** An xe command line: `xe <command> [--minimal] [key=value ...]`. */
export interface XeInvocation {
  command: string;
  params: Map<string, string>;
  minimal: boolean;
}

/** Pure: parses xe's argument list. Values may contain '=' (only the first one splits). */
export function parseXeArgs(argv: readonly string[]): XeInvocation | { error: string } {
  const [command, ...rest] = argv;
  if (command === undefined || command.startsWith("-")) {
    return { error: "Usage: xe <command> [--minimal] [param=value ...]" };
  }
  const params = new Map<string, string>();
  let minimal = false;
  for (const arg of rest) {
    if (arg === "--minimal") {
      minimal = true;
      continue;
    }
    const split = arg.indexOf("=");
    if (split <= 0) return { error: `Syntax error: '${arg}' is not of the form param=value` };
    params.set(arg.slice(0, split), arg.slice(split + 1));
  }
  return { command, params, minimal };
}
