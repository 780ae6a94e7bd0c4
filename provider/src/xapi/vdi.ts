import type { XapiCaller } from "./caller.js";
import type { Ref, SrRecord, VdiRecord, WithRef } from "./records.js";
import { withRefs } from "./records.js";

/** udev SR VDIs are matched by location, never by a stored UUID: a re-added disk gets a new one. */
export async function findVdiByLocation(
  xapi: XapiCaller,
  sr: Ref,
  location: string,
): Promise<WithRef<VdiRecord> | undefined> {
  const vdis = withRefs(await xapi.call<Record<Ref, VdiRecord>>("VDI.get_all_records"));
  return vdis.find((vdi) => vdi.SR === sr && vdi.location === location);
}

/**
 * Makes sure the udev SR lists the VDI for `location`: dom0's local-device-change usually
 * introduces it on the udev event; a scan covers the case where it did not (yet).
 */
export async function ensureVdi(
  xapi: XapiCaller,
  sr: WithRef<SrRecord>,
  location: string,
): Promise<WithRef<VdiRecord>> {
  const existing = await findVdiByLocation(xapi, sr.$ref, location);
  if (existing !== undefined) return existing;
  await xapi.call("SR.scan", sr.$ref);
  const scanned = await findVdiByLocation(xapi, sr.$ref, location);
  if (scanned === undefined) {
    throw new Error(
      `SR "${sr.name_label}" (${sr.uuid}) lists no VDI for ${location} after a scan: ` +
        "check that the SR's location is /dev/xapi/block and that the symlink resolves to a block device",
    );
  }
  return scanned;
}
