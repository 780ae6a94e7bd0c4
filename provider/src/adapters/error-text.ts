// Duck-typed, not `instanceof Error`: errors from Node's core (net, tls) may come from another
// realm (Jest's VM contexts, for one), where `instanceof Error` is false.

/** The error itself when it looks like one, else an Error carrying its text. */
export function toError(value: unknown): Error {
  return isErrorLike(value) ? value : new Error(String(value));
}

/** The cause's message, for composing "failed to X: <cause>" messages. */
export function causeMessage(cause: unknown): string {
  return isErrorLike(cause) ? cause.message : String(cause);
}

function isErrorLike(value: unknown): value is Error {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { message?: unknown }).message === "string"
  );
}
