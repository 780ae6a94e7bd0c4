// Reads what the disk report needs from XAPI in one round of get_all_records calls: the host's
// side of a look (look/host-side.ts), the same the lifecycle starts from.
import { hostSide, type HostSide } from "../look/host-side.js";
import type { XapiCaller } from "../xapi/caller.js";
import { fetchSnapshot } from "../xapi/snapshot.js";

/** `hostUuid` is INSTALLATION_UUID from the dom0 we reached over SSH. */
export async function readXapiView(xapi: XapiCaller, hostUuid: string): Promise<HostSide> {
  return hostSide(await fetchSnapshot(xapi), hostUuid);
}
