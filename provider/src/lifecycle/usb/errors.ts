// A PassthroughUsb step that failed after the plan's refusals: the host said no to a change.
import { messageOf, PassthroughError } from "../../core/error-base.js";
import { xapiErrorCode } from "../../xapi/caller.js";

/** A XAPI call of an apply failed; `done` lists the steps that had succeeded before it. */
export class UsbApplyError extends PassthroughError<"USB_STEP_FAILED"> {
  override readonly name = "UsbApplyError";
  constructor(
    step: string,
    readonly done: readonly string[],
    cause: unknown,
  ) {
    const code = xapiErrorCode(cause);
    super(
      "USB_STEP_FAILED",
      { step, xapiCode: code ?? "" },
      `failed to ${step}: ${messageOf(cause)}. ` +
        (done.length > 0 ? `Done before it: ${done.join("; ")}. ` : "Nothing was changed before it. ") +
        "Every piece made is tagged with its owner: fix the cause and run `pulumi up` again, it continues from there",
      { cause },
    );
  }
}
