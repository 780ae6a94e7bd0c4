// What an apply changed on the host: the value from which a failed create decides between undoing
// its changes (rollback.ts) and keeping partial state (converge.ts).

import { messageOf, PassthroughError } from "../core/error-base.js";

export interface Changes {
  /** Our rule file was written where none was (also when the round failed after sending it). */
  readonly ruleWritten: boolean;
  /** Rules of others set aside (adopt): original path -> where it went. */
  readonly rulesSetAside: ReadonlyMap<string, string>;
  /** This run claimed the disk (or may have: the round failed after sending the claim). */
  readonly claimed?: boolean;
}

export const NO_CHANGES: Changes = { ruleWritten: false, rulesSetAside: new Map() };

/** An apply failed: its cause, and what it had changed by then. */
export class ApplyError extends PassthroughError<"APPLY_FAILED"> {
  override readonly name = "ApplyError";
  constructor(
    readonly changes: Changes,
    /** A VBD of ours was there or touched (apply.ts says when): a VBD, once made, is never rolled
     * back, so the failure keeps partial state instead of undoing `changes`. */
    readonly pastPointOfNoReturn: boolean,
    options: { readonly cause: unknown },
  ) {
    super("APPLY_FAILED", {}, messageOf(options.cause), options);
  }
}
