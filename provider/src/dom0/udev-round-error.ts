import { PassthroughError } from "../core/error-base.js";

/**
 * A udev round failed for one request (or for all of them). It still says which rules of others
 * the round had set aside for that request, so a rollback can move them back, and it keeps what
 * the script printed and its exit status.
 */
export class UdevRoundError extends PassthroughError<"UDEV_ROUND_FAILED"> {
  override readonly name = "UdevRoundError";
  constructor(
    message: string,
    /** Rules set aside before the failure: original path -> where it went. */
    readonly disabled: ReadonlyMap<string, string>,
    /** The round script's stderr and exit status. */
    readonly script: { readonly stderr: string; readonly code: number },
    /** The disk's claim is held by this other owner: the round changed nothing for the request. */
    readonly claimedBy?: string,
  ) {
    super("UDEV_ROUND_FAILED", claimedBy === undefined ? {} : { claimedBy }, message);
  }
}
