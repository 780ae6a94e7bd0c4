// The shared connections of this provider process (one SSH connection and one XAPI session per
// host), and the XAPI settings from stack config that `configure` received.
import { openHostSessions } from "../adapters/host-pool.js";
import type { PassthroughDiskInputs, XapiDirect } from "../core/inputs.js";
import type { Log } from "../dom0/remote.js";
import { dom0BatchesOf, hostBatches } from "./host-batches.js";
import { viewOf, type HostAccess, type HostView } from "./observe.js";

let stackXapi: XapiDirect | undefined;

/** Stack config (namespace xen-passthrough: xapiUrl, xapiUsername, xapiPassword), from configure. */
export function setStackXapi(settings: XapiDirect | undefined): void {
  stackXapi = settings;
}

/**
 * Connects and takes the first look: dom0's inventory starts as soon as SSH is up, while the
 * XAPI login (which rides on that connection) is still under way, and the first records are
 * fetched while the XAPI client settles.
 */
export async function connectAndObserve(
  inputs: PassthroughDiskInputs,
  log: Log,
): Promise<{ access: HostAccess; view: HostView }> {
  const sessions = openHostSessions(inputs.connection, inputs.xapi ?? stackXapi, log);
  const inventory = sessions.remote.then((remote) => dom0BatchesOf(remote).inventory());
  const both = Promise.all([sessions.remote, sessions.xapi]);
  // The XAPI client settles (xen-api's connect) while the records come: the look ends with both,
  // so every operation makes the same calls, whatever their timing.
  const snapshot = both.then(async ([remote, xapi]) => {
    const [records] = await Promise.all([hostBatches(remote, xapi).snapshot(), xapi.settled()]);
    return records;
  });
  const [[remote, xapi], dom0, records] = await Promise.all([both, inventory, snapshot]);
  return {
    access: { remote, xapi, batches: hostBatches(remote, xapi) },
    view: viewOf(dom0, records, inputs),
  };
}

/** Progress lines reach the user through the engine (console.log of the provider host). */
export function progressLog(inputs: PassthroughDiskInputs): Log {
  const [kind, value] = Object.entries(inputs.disk)[0] ?? ["disk", "?"];
  return (line) => console.log(`[xen-passthrough ${kind}=${String(value)}] ${line}`);
}
