// Reads the XAPI records the disk report needs, in a handful of calls: the host, its udev
// "Removable storage" SR, that SR's VDIs, every VBD and every VM.
import type { XapiCaller } from "../xapi/caller.js";
import { hostRef, removableStorageSr } from "../xapi/host.js";
import type { Ref, VdiRecord, VmRecord } from "../xapi/records.js";
import { withRefs } from "../xapi/records.js";
import { allVbds } from "../xapi/vbd.js";
import type { XapiView } from "./disk-report.js";

/** `hostUuid` is INSTALLATION_UUID from the dom0 we reached over SSH. */
export async function readXapiView(xapi: XapiCaller, hostUuid: string): Promise<XapiView> {
  const sr = await removableStorageSr(xapi, await hostRef(xapi, hostUuid));
  if (sr === undefined) return { hostUuid, vdis: [], vbds: [], vms: new Map() };
  const [vdis, vbds, vms] = await Promise.all([
    xapi.call<Record<Ref, VdiRecord>>("VDI.get_all_records"),
    allVbds(xapi),
    xapi.call<Record<Ref, VmRecord>>("VM.get_all_records"),
  ]);
  return {
    hostUuid,
    sr: { ref: sr.$ref, uuid: sr.uuid, nameLabel: sr.name_label },
    vdis: withRefs(vdis).filter((vdi) => vdi.SR === sr.$ref),
    vbds,
    vms: new Map(Object.entries(vms)),
  };
}
