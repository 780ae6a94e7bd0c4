/**
 * Quotes a value for a POSIX shell. Inputs are validated against strict patterns before they get
 * here; quoting is the second line of defence, not the first.
 */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
