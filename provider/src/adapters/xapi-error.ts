/**
 * A failure reported by XAPI: callers branch on `code` (e.g. "VM_BAD_POWER_STATE") and read
 * `params`; the message is "<method> failed: CODE [params]", plus a hint when we have one.
 */
export class XapiError extends Error {
  override readonly name = "XapiError";

  constructor(
    readonly method: string,
    readonly code: string,
    readonly params: string[],
    hint?: string,
  ) {
    super(`${method} failed: ${code} [${params.join(", ")}]${hint === undefined ? "" : `. ${hint}`}`);
  }
}

/** XAPI could not be reached or did not answer in time: names the target, the call and why. */
export class XapiTransportError extends Error {
  override readonly name = "XapiTransportError";
  readonly code = "XAPI_UNREACHABLE";
  readonly stage = "XAPI call";

  constructor(
    readonly target: string,
    readonly method: string,
    why: string,
    options: { cause: unknown },
  ) {
    super(`${method} on ${target} failed: ${why}`, options);
  }
}
