// What can make the demo fail, beyond the sandbox's and the engine's own errors.

export type DemoErrorCode =
  "NOT_BUILT" | "PREVIEW_TOUCHED_HOST" | "DRIFT_NOT_SHOWN" | "NOT_REPAIRED" | "LEFT_BEHIND";

export class DemoError extends Error {
  override readonly name = "DemoError";
  constructor(
    readonly code: DemoErrorCode,
    readonly params: Readonly<Record<string, string>>,
    message: string,
  ) {
    super(message);
  }
}
