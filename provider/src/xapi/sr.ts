// SR: the udev "Removable storage" SR through which dom0's block devices become VDIs.
import type { XapiCaller } from "./caller.js";
import type { Ref, SrRecord, WithRef } from "./records.js";
import type { XapiSnapshot } from "./snapshot.js";

/**
 * The udev "Removable storage" SR of one host: type udev, sm_config type=block, plugged on that
 * host through a PBD (each host of a pool has its own).
 */
export function removableStorageSr(snapshot: XapiSnapshot, host: Ref): WithRef<SrRecord> | undefined {
  const onHost = new Set(snapshot.pbds.filter((pbd) => pbd.host === host).map((pbd) => pbd.SR));
  return snapshot.srs.find(
    (sr) => sr.type === "udev" && sr.sm_config["type"] === "block" && onHost.has(sr.$ref),
  );
}

/**
 * Re-reads the SR's location directory: the udev SR's scan introduces a VDI for each new entry
 * and forgets those whose entry is gone (xapi-project/sm, drivers/udevSR.py, UdevSR.scan).
 */
export async function scanSr(xapi: XapiCaller, sr: Ref): Promise<void> {
  await xapi.call("SR.scan", sr);
}
