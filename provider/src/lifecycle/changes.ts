// What an apply changed on the host: the value from which a failed create decides between undoing
// its changes (rollback.ts) and keeping partial state (converge.ts).

import { messageOf, PassthroughError } from "../core/error-base.js";

export interface Changes {
  /** Our rule file was written where none was (also when the round failed after sending it). */
  readonly ruleWritten: boolean;
  /** Rules of others set aside (adopt): original path -> where it went. */
  readonly rulesSetAside: ReadonlyMap<string, string>;
  /** Past the point of no return: a VBD of ours was found, adopted or created (it stays true after
   * the VBD is destroyed); from here on, failures keep partial state instead of rolling back. */
  readonly pastPointOfNoReturn: boolean;
  /** This run claimed the disk (or may have: the round failed after sending the claim). */
  readonly claimed?: boolean;
}

/** Nothing changed yet; `pastPointOfNoReturn` is true when the look already found our VBD (a VBD, once made, is never rolled back). */
export function noChanges(pastPointOfNoReturn: boolean): Changes {
  return { ruleWritten: false, rulesSetAside: new Map(), pastPointOfNoReturn };
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
