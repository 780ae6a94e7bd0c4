// VDI: a disk of the udev SR, found by its location (the /dev/xapi/block symlink).
import type { XapiCaller } from "./caller.js";
import { idempotent } from "./idempotent.js";
import type { Ref, VdiRecord, WithRef } from "./records.js";
import type { XapiSnapshot } from "./snapshot.js";

/** udev SR VDIs are matched by location, never by a stored UUID: a re-added disk gets a new one. */
export function vdiAt(snapshot: XapiSnapshot, sr: Ref, location: string): WithRef<VdiRecord> | undefined {
  return vdisAt(snapshot, sr, new Set([location]))[0];
}

/** The SR's VDIs at any of the locations, in XAPI's order. */
export function vdisAt(
  snapshot: XapiSnapshot,
  sr: Ref,
  locations: ReadonlySet<string>,
): WithRef<VdiRecord>[] {
  return snapshot.vdis.filter((vdi) => vdi.SR === sr && locations.has(vdi.location));
}

/**
 * Drops XAPI's record of a VDI. For a disk of the udev SR this is all an SR scan would do once
 * the disk's symlink is gone (VDI.forget touches no storage), without scanning the whole SR.
 */
export const forgetVdi = (xapi: XapiCaller, vdi: Ref) => idempotent(xapi, "VDI.forget", vdi);
