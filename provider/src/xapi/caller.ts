/** What the XAPI class modules need from a session: one call at a time, session handled by it. */
export interface XapiCaller {
  call<T>(method: string, ...args: unknown[]): Promise<T>;
}

/** The XAPI error code of a failure, if it is one (errors carry `code` and `params`). */
export function xapiErrorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return undefined;
}
