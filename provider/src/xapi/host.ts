// host: the XAPI host that is the dom0 reached over SSH.
import type { HostRecord, WithRef } from "./records.js";
import type { XapiSnapshot } from "./snapshot.js";

/** The host whose uuid is dom0's INSTALLATION_UUID (undefined: XAPI does not know it). */
export function hostByUuid(snapshot: XapiSnapshot, hostUuid: string): WithRef<HostRecord> | undefined {
  return snapshot.hosts.find((h) => h.uuid === hostUuid);
}
