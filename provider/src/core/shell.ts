/**
 * Quotes a value for a POSIX shell. Inputs are validated against strict patterns before they get
 * here; quoting is the second line of defence, not the first.
 */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A script preceded by `set -- args...`, so its parameters arrive as $1, $2... */
export function withArgs(script: string, args: readonly string[]): string {
  return `set -- ${args.map(shellQuote).join(" ")}\n${script}`;
}
