import { PassthroughError } from "../core/error-base.js";

/** The command line is wrong (unknown option, bad value, missing setting): exit code 2, usage shown. */
export class UsageError extends PassthroughError<"USAGE"> {
  override readonly name = "UsageError";
  constructor(message: string) {
    super("USAGE", {}, message);
  }
}
