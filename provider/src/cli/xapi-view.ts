// Reads the XAPI records the disk report needs in one round of get_all_records calls: the host,
// its udev "Removable storage" SR, that SR's VDIs, every VBD and every VM.
import { hostUnknownToXapi } from "../core/refusals.js";
import type { XapiCaller } from "../xapi/caller.js";
import { hostByUuid } from "../xapi/host.js";
import { fetchSnapshot } from "../xapi/snapshot.js";
import { removableStorageSr } from "../xapi/sr.js";
import type { XapiView } from "./disk-report.js";

/** `hostUuid` is INSTALLATION_UUID from the dom0 we reached over SSH. */
export async function readXapiView(xapi: XapiCaller, hostUuid: string): Promise<XapiView> {
  const snapshot = await fetchSnapshot(xapi);
  const host = hostByUuid(snapshot, hostUuid);
  if (host === undefined) throw hostUnknownToXapi(hostUuid);
  const sr = removableStorageSr(snapshot, host.$ref);
  if (sr === undefined) return { hostUuid, vdis: [], vbds: [], vms: new Map() };
  return {
    hostUuid,
    sr: { ref: sr.$ref, uuid: sr.uuid, nameLabel: sr.name_label },
    vdis: snapshot.vdis.filter((vdi) => vdi.SR === sr.$ref),
    vbds: snapshot.vbds,
    vms: new Map(snapshot.vms.map(({ $ref, ...vm }) => [$ref, vm])),
  };
}
