import { VBD_OWNER_KEY, VBD_TAG_KEY } from "../core/owner.js";
import type { XapiCaller } from "./caller.js";
import { xapiErrorCode } from "./caller.js";
import { idempotent } from "./idempotent.js";
import type { Ref, VbdRecord, WithRef } from "./records.js";

export interface VbdSettings {
  readonly userdevice: string;
  readonly mode: "RW" | "RO";
  readonly bootable: boolean;
}

export function isTagged(vbd: VbdRecord, tag: string): boolean {
  return vbd.other_config[VBD_TAG_KEY] === tag;
}

/** The owner key of a VBD (absent on VBDs of earlier versions, and on others'). */
export function vbdOwnerKey(vbd: VbdRecord): string | undefined {
  return vbd.other_config[VBD_OWNER_KEY];
}

/** Creates our VBD (tagged); returns its reference. */
export async function createVbd(
  xapi: XapiCaller,
  target: { vm: Ref; vdi: Ref; tag: string; owner: string },
  settings: VbdSettings,
): Promise<Ref> {
  return xapi.call<Ref>("VBD.create", {
    VM: target.vm,
    VDI: target.vdi,
    userdevice: settings.userdevice,
    bootable: settings.bootable,
    mode: settings.mode,
    type: "Disk",
    empty: false,
    other_config: { [VBD_TAG_KEY]: target.tag, [VBD_OWNER_KEY]: target.owner },
    qos_algorithm_type: "",
    qos_algorithm_params: {},
  });
}

export async function readVbd(xapi: XapiCaller, ref: Ref): Promise<WithRef<VbdRecord>> {
  return { ...(await xapi.call<VbdRecord>("VBD.get_record", ref)), $ref: ref };
}

/**
 * Marks a VBD as ours: tag and owner (adopting it, or migrating an earlier version's). The tag is
 * left alone when it is already ours, so a failure half-way leaves a VBD with our tag and no
 * owner key, which the holder of the disk's claim owns (core/host-view.ts).
 */
export async function tagVbd(
  xapi: XapiCaller,
  vbd: Ref,
  mark: { tag: string; owner: string },
  found: { readonly tag: string | undefined },
): Promise<void> {
  // add_to_other_config fails on an existing key (MAP_DUPLICATE_KEY): remove first.
  if (found.tag !== mark.tag) {
    await xapi.call("VBD.remove_from_other_config", vbd, VBD_TAG_KEY);
    await xapi.call("VBD.add_to_other_config", vbd, VBD_TAG_KEY, mark.tag);
  }
  await xapi.call("VBD.remove_from_other_config", vbd, VBD_OWNER_KEY);
  await xapi.call("VBD.add_to_other_config", vbd, VBD_OWNER_KEY, mark.owner);
}

export async function setVbdBootable(xapi: XapiCaller, vbd: Ref, bootable: boolean): Promise<void> {
  await xapi.call("VBD.set_bootable", vbd, bootable);
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

/** Whether the VBD still exists (HANDLE_INVALID ["VBD", ...]: destroyed, by us or XAPI's GC). */
export async function vbdExists(xapi: XapiCaller, vbd: Ref): Promise<boolean> {
  try {
    await xapi.call("VBD.get_uuid", vbd);
    return true;
  } catch (error) {
    if (xapiErrorCode(error) === "HANDLE_INVALID") return false;
    throw error;
  }
}

/**
 * Waits until XAPI's database GC has destroyed the VBD (polled every `everyMs`); false when it is
 * still there after `timeoutSeconds`.
 */
export async function awaitVbdCollected(
  xapi: XapiCaller,
  vbd: Ref,
  timeoutSeconds: number,
  everyMs = 1_000,
): Promise<boolean> {
  const polls = Math.ceil((timeoutSeconds * 1000) / everyMs);
  for (let poll = 0; poll <= polls; poll += 1) {
    if (!(await vbdExists(xapi, vbd))) return true;
    if (poll < polls) await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return false;
}

/**
 * Waits until none of the VBDs is plugged (unplugged or destroyed, polled every `everyMs`);
 * false when one still is after `timeoutSeconds`.
 */
export async function awaitVbdsDetached(
  xapi: XapiCaller,
  vbds: readonly Ref[],
  timeoutSeconds: number,
  everyMs = 1_000,
): Promise<boolean> {
  const polls = Math.ceil((timeoutSeconds * 1000) / everyMs);
  const plugged = async (vbd: Ref) => {
    try {
      return await xapi.call<boolean>("VBD.get_currently_attached", vbd);
    } catch (error) {
      if (xapiErrorCode(error) === "HANDLE_INVALID") return false;
      throw error;
    }
  };
  for (let poll = 0; poll <= polls; poll += 1) {
    if (!(await Promise.all(vbds.map(plugged))).includes(true)) return true;
    if (poll < polls) await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return false;
}

/**
 * A VBD call failed because the VBD's VDI is gone: XAPI's GC window, where every VBD operation
 * fails HANDLE_INVALID ["VDI", ...] (xen-api `xapi_vbd_helpers.ml` valid_operations reads the VDI).
 */
export function failedForGoneVdi(error: unknown): boolean {
  if (xapiErrorCode(error) !== "HANDLE_INVALID") return false;
  const params: unknown =
    typeof error === "object" && error !== null && "params" in error ? error.params : undefined;
  return Array.isArray(params) && (params as unknown[])[0] === "VDI";
}
