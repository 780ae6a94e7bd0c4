// The one shape of every error this package throws, and the one way to put a caught value into
// words. Callers branch on `code` (and read `params`), never on the message: messages are for
// people and may be reworded; codes are stable.

/** Base of every error of the package: a stable `code`, its `params`, a message that says what to do. */
export abstract class PassthroughError<
  Code extends string = string,
  Params = Readonly<Record<string, string>>,
> extends Error {
  constructor(
    readonly code: Code,
    readonly params: Params,
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** The message of a caught value, whatever was thrown ("failed to X: <message>"). */
export function messageOf(caught: unknown): string {
  return isErrorLike(caught) ? caught.message : String(caught);
}

/** The caught value itself when it looks like an error, else an Error carrying its text. */
export function toError(caught: unknown): Error {
  return isErrorLike(caught) ? caught : new Error(String(caught));
}

// Duck-typed, not `instanceof Error`: errors from Node's core (net, tls) may come from another
// realm (Jest's VM contexts, for one), where `instanceof Error` is false.
function isErrorLike(value: unknown): value is Error {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { message?: unknown }).message === "string"
  );
}
