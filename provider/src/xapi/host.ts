// host: the XAPI host that is the dom0 reached over SSH.
import { RefusedError } from "../core/errors.js";
import type { HostRecord, WithRef } from "./records.js";
import type { XapiSnapshot } from "./snapshot.js";

/** The host whose uuid is dom0's INSTALLATION_UUID; refused when XAPI does not know it. */
export function hostByUuid(snapshot: XapiSnapshot, hostUuid: string): WithRef<HostRecord> {
  const host = snapshot.hosts.find((h) => h.uuid === hostUuid);
  if (host === undefined) {
    throw new RefusedError(
      "HOST_UNKNOWN_TO_XAPI",
      { host: hostUuid },
      `XAPI does not know host ${hostUuid} (INSTALLATION_UUID of the dom0 reached over SSH): ` +
        "the XAPI endpoint and the SSH host are not the same pool",
    );
  }
  return host;
}
