// How the CLI reports a failure: expected ones (usage, connection, host key, XAPI) as one clear
// message without a stack trace. Adapter errors are already worded with the CLI's flags
// (CLI_SETTING_NAMES), so they are shown as they are.
import { messageOf } from "../core/error-base.js";
import { UsageError } from "./usage-error.js";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface Failure {
  readonly exitCode: number;
  readonly message: string;
}

/** The message and exit code for an error thrown by a command. */
export function describeFailure(error: unknown): Failure {
  if (error instanceof UsageError) {
    return {
      exitCode: EXIT_USAGE,
      message: `${error.message}\nRun \`xen-passthrough --help\` for the options.`,
    };
  }
  return { exitCode: EXIT_FAILED, message: messageOf(error) };
}
