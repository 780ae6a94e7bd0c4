// SR: the udev "Removable storage" SR through which dom0's block devices become VDIs.
import type { XapiCaller } from "./caller.js";
import type { PbdRecord, Ref, SrRecord, WithRef } from "./records.js";
import type { XapiSnapshot } from "./snapshot.js";

/** A udev SR of one host and that host's PBD of it. */
export interface RemovableStorage {
  readonly sr: WithRef<SrRecord>;
  readonly pbd: WithRef<PbdRecord>;
}

/**
 * The udev "Removable storage" SR of one host: type udev, sm_config type=block, with a PBD on that
 * host (each host of a pool has its own). One whose PBD is plugged comes first: XAPI scans an SR
 * only through a plugged PBD (xen-api `message_forwarding.ml` choose_pbd_for_sr, else
 * SR_HAS_NO_PBDS). With none plugged, the unplugged one is returned so that the caller can say so.
 */
export function removableStorageSr(snapshot: XapiSnapshot, host: Ref): RemovableStorage | undefined {
  const candidates = snapshot.pbds
    .filter((pbd) => pbd.host === host)
    .flatMap((pbd) => {
      const sr = snapshot.srs.find((record) => record.$ref === pbd.SR);
      return sr !== undefined && sr.type === "udev" && sr.sm_config["type"] === "block" ? [{ sr, pbd }] : [];
    });
  return candidates.find((candidate) => candidate.pbd.currently_attached) ?? candidates[0];
}

/**
 * Re-reads the SR's location directory: the udev SR's scan introduces a VDI for each new entry
 * and forgets those whose entry is gone (xapi-project/sm, drivers/udevSR.py, UdevSR.scan).
 */
export async function scanSr(xapi: XapiCaller, sr: Ref): Promise<void> {
  await xapi.call("SR.scan", sr);
}
