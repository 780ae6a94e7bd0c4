import type { XapiCaller } from "./caller.js";
import { xapiErrorCode } from "./caller.js";
import type { PbdRecord, Ref, SrRecord, WithRef } from "./records.js";
import { withRefs } from "./records.js";

/** The host's reference, from its uuid (INSTALLATION_UUID of its dom0). */
export async function hostRef(xapi: XapiCaller, hostUuid: string): Promise<Ref> {
  try {
    return await xapi.call<Ref>("host.get_by_uuid", hostUuid);
  } catch (error) {
    if (xapiErrorCode(error) === "UUID_INVALID") {
      throw new Error(
        `XAPI does not know host ${hostUuid} (INSTALLATION_UUID of the dom0 we reached over SSH): ` +
          "the XAPI endpoint and the SSH host are not the same pool",
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * The udev "Removable storage" SR of one host: type udev, sm_config type=block, plugged on that
 * host through a PBD (each host of a pool has its own).
 */
export async function removableStorageSr(
  xapi: XapiCaller,
  host: Ref,
): Promise<WithRef<SrRecord> | undefined> {
  const [srs, pbds] = await Promise.all([
    xapi.call<Record<Ref, SrRecord>>("SR.get_all_records"),
    xapi.call<Record<Ref, PbdRecord>>("PBD.get_all_records"),
  ]);
  const srsOnHost = new Set(
    withRefs(pbds)
      .filter((pbd) => pbd.host === host)
      .map((pbd) => pbd.SR),
  );
  return withRefs(srs).find(
    (sr) => sr.type === "udev" && sr.sm_config["type"] === "block" && srsOnHost.has(sr.$ref),
  );
}

export const NO_REMOVABLE_STORAGE_SR =
  'this host has no udev "Removable storage" SR for block devices. Create it on the host with: ' +
  'xe sr-create name-label="Removable storage" type=udev content-type=disk ' +
  "device-config:location=/dev/xapi/block sm-config:type=block host-uuid=<host uuid>";
