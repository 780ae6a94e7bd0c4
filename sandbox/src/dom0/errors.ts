/** What went wrong while starting, driving or stopping the dom0 sandbox. */
export type SandboxErrorCode =
  | "PREREQUISITES_MISSING"
  | "COMMAND_FAILED"
  | "PROCESS_EXITED"
  | "TIMEOUT"
  | "DISK_UNKNOWN"
  | "NO_FREE_LOOP_DEVICE"
  | "REBOOT_REFUSED"
  | "OPTION_INVALID";

/**
 * One error class for the sandbox: a code to branch on, params naming the target, and a
 * message that says what failed, on what, and what to do.
 */
export class SandboxError extends Error {
  override readonly name = "SandboxError";

  constructor(
    readonly code: SandboxErrorCode,
    readonly params: Readonly<Record<string, string>>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
