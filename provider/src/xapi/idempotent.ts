// Calls that converge: re-running after a crash or racing a change behind our back must reach
// the wanted state, not fail.
import type { XapiCaller } from "./caller.js";
import { xapiErrorCode } from "./caller.js";
import type { Ref } from "./records.js";

/**
 * Error codes that mean "already in the wanted state", per operation. A VBD that vanished is
 * detached: dom0's local-device-change force-unplugs and forgets a disk's VDI (and XAPI then
 * destroys its VBDs) in the background of a udev remove event, possibly between our look and our
 * unplug. A VDI that vanished is forgotten.
 */
const ALREADY_DONE: Readonly<Record<string, readonly string[]>> = {
  "VBD.plug": ["DEVICE_ALREADY_ATTACHED"],
  "VBD.unplug": ["DEVICE_ALREADY_DETACHED", "HANDLE_INVALID"],
  "VBD.destroy": ["HANDLE_INVALID"],
  "VDI.forget": ["HANDLE_INVALID"],
};

/** Calls `method` on `target`; an "already done" failure counts as success. */
export async function idempotent(xapi: XapiCaller, method: string, target: Ref): Promise<void> {
  try {
    await xapi.call(method, target);
  } catch (error) {
    const code = xapiErrorCode(error);
    if (code !== undefined && (ALREADY_DONE[method] ?? []).includes(code) && aboutTarget(error, method))
      return;
    throw error;
  }
}

/**
 * HANDLE_INVALID names the class whose reference is dead: only the target's own counts as done.
 * Inside XAPI's GC window a VBD whose VDI is gone fails unplug with HANDLE_INVALID ["VDI", ...]
 * (xen-api `xapi_vbd_helpers.ml` valid_operations reads the VDI): the VBD is still there.
 */
function aboutTarget(error: unknown, method: string): boolean {
  if (xapiErrorCode(error) !== "HANDLE_INVALID") return true;
  const params: unknown =
    typeof error === "object" && error !== null && "params" in error ? error.params : undefined;
  const cls: unknown = Array.isArray(params) ? (params as unknown[])[0] : undefined;
  return cls === undefined || cls === method.split(".")[0];
}
