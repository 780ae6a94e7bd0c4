// What an apply changed on the host: the value from which a failed create decides between undoing
// its changes (rollback.ts) and keeping partial state (converge.ts).

import { messageOf, PassthroughError } from "../core/error-base.js";

export interface Changes {
  /** Our rule file was written where none was (also when the round failed after sending it). */
  readonly ruleWritten: boolean;
  /** Rules of others set aside (adopt): original path -> where it went. */
  readonly rulesSetAside: ReadonlyMap<string, string>;
  /** A VBD of ours exists (found, adopted or created): from here on, failures keep partial state. */
  readonly vbdExists: boolean;
  /** This run claimed the disk (or may have: the round failed after sending the claim). */
  readonly claimed?: boolean;
}

/** Nothing changed yet; `vbdExists` says whether the look found our VBD. */
export function noChanges(vbdExists: boolean): Changes {
  return { ruleWritten: false, rulesSetAside: new Map(), vbdExists };
}

/** An apply failed: its cause, and what it had changed by then. */
export class ApplyError extends PassthroughError<"APPLY_FAILED"> {
  override readonly name = "ApplyError";
  constructor(
    readonly changes: Changes,
    options: { readonly cause: unknown },
  ) {
    super("APPLY_FAILED", {}, messageOf(options.cause), options);
  }
}
