import type { XapiCaller } from "./caller.js";
import { xapiErrorCode } from "./caller.js";
import type { Ref, VbdRecord, WithRef } from "./records.js";

/** other_config key that marks the VBDs this provider manages; its value names the disk. */
export const VBD_TAG_KEY = "xen-passthrough";

export interface VbdSettings {
  readonly userdevice: string;
  readonly mode: "RW" | "RO";
  readonly bootable: boolean;
}

export function isTagged(vbd: VbdRecord, tag: string): boolean {
  return vbd.other_config[VBD_TAG_KEY] === tag;
}

export async function createVbd(
  xapi: XapiCaller,
  target: { vm: Ref; vdi: Ref; tag: string },
  settings: VbdSettings,
): Promise<WithRef<VbdRecord>> {
  const ref = await xapi.call<Ref>("VBD.create", {
    VM: target.vm,
    VDI: target.vdi,
    userdevice: settings.userdevice,
    bootable: settings.bootable,
    mode: settings.mode,
    type: "Disk",
    empty: false,
    other_config: { [VBD_TAG_KEY]: target.tag },
    qos_algorithm_type: "",
    qos_algorithm_params: {},
  });
  return readVbd(xapi, ref);
}

async function readVbd(xapi: XapiCaller, ref: Ref): Promise<WithRef<VbdRecord>> {
  return { ...(await xapi.call<VbdRecord>("VBD.get_record", ref)), $ref: ref };
}

export async function tagVbd(xapi: XapiCaller, vbd: Ref, tag: string): Promise<void> {
  await xapi.call("VBD.remove_from_other_config", vbd, VBD_TAG_KEY);
  await xapi.call("VBD.add_to_other_config", vbd, VBD_TAG_KEY, tag);
}

/**
 * Error codes that mean "already in the wanted state", per operation: re-running after a crash
 * or racing a change behind our back must converge, not fail. A VBD that vanished is detached:
 * dom0's local-device-change force-unplugs and forgets a disk's VDI (and XAPI then destroys its
 * VBDs) in the background of a udev remove event, possibly between our look and our unplug.
 */
const ALREADY_DONE: Readonly<Record<string, readonly string[]>> = {
  "VBD.plug": ["DEVICE_ALREADY_ATTACHED"],
  "VBD.unplug": ["DEVICE_ALREADY_DETACHED", "HANDLE_INVALID"],
  "VBD.destroy": ["HANDLE_INVALID"],
};

async function idempotent(xapi: XapiCaller, method: string, vbd: Ref): Promise<void> {
  try {
    await xapi.call(method, vbd);
  } catch (error) {
    const code = xapiErrorCode(error);
    if (code !== undefined && (ALREADY_DONE[method] ?? []).includes(code)) return;
    throw error;
  }
}

export const plugVbd = (xapi: XapiCaller, vbd: Ref) => idempotent(xapi, "VBD.plug", vbd);
export const destroyVbd = (xapi: XapiCaller, vbd: Ref) => idempotent(xapi, "VBD.destroy", vbd);

/** Unplugs; a VBD created not unpluggable is made unpluggable first (as xen-orchestra does). */
export async function unplugVbd(xapi: XapiCaller, vbd: Ref): Promise<void> {
  try {
    await idempotent(xapi, "VBD.unplug", vbd);
  } catch (error) {
    if (xapiErrorCode(error) !== "VBD_NOT_UNPLUGGABLE") throw error;
    await xapi.call("VBD.set_unpluggable", vbd, true);
    await idempotent(xapi, "VBD.unplug", vbd);
  }
}
