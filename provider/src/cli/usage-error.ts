/** The command line is wrong (unknown option, bad value, missing setting): exit code 2, usage shown. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly code = "USAGE";
}
