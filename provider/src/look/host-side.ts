// The part of a look at a host that every disk on it shares: XAPI's record of the host that is
// the dom0 reached over SSH, its udev "Removable storage" SR, and the records they were read
// from. The lifecycle's HostView (look/host-view.ts) and the CLI's disk report both start here.
import type { SrFacts } from "../core/host-view.js";
import { hostUnknownToXapi } from "../core/refusals.js";
import { hostByUuid } from "../xapi/host.js";
import type { HostRecord, WithRef } from "../xapi/records.js";
import type { XapiSnapshot } from "../xapi/snapshot.js";
import { removableStorageSr, type RemovableStorage } from "../xapi/sr.js";

export interface HostSide {
  /** INSTALLATION_UUID of dom0's xensource-inventory. */
  readonly hostUuid: string;
  readonly host: WithRef<HostRecord>;
  /** The host's udev "Removable storage" SR (undefined: the host has none). */
  readonly sr: SrFacts | undefined;
  readonly snapshot: XapiSnapshot;
}

/** The host whose uuid is dom0's INSTALLATION_UUID and its udev SR; refused when XAPI does not know it. */
export function hostSide(snapshot: XapiSnapshot, hostUuid: string): HostSide {
  const host = hostByUuid(snapshot, hostUuid);
  if (host === undefined) throw hostUnknownToXapi(hostUuid);
  const found = removableStorageSr(snapshot, host.$ref);
  return { hostUuid, host, sr: found === undefined ? undefined : srFacts(found), snapshot };
}

function srFacts({ sr, pbd }: RemovableStorage): SrFacts {
  const facts = { ref: sr.$ref, uuid: sr.uuid, nameLabel: sr.name_label };
  return pbd.currently_attached ? facts : { ...facts, unpluggedPbd: pbd.uuid };
}
