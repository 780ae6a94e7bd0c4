// The shared connections of this provider process (one SSH connection and one XAPI session per
// host), and the XAPI settings from stack config that `configure` received.
import { hostSession } from "../adapters/host-pool.js";
import type { PassthroughDiskInputs, XapiDirect } from "../core/inputs.js";
import type { Log } from "../dom0/remote.js";
import { hostBatches } from "./host-batches.js";
import type { HostAccess } from "./observe.js";

let stackXapi: XapiDirect | undefined;

/** Stack config (namespace xen-passthrough: xapiUrl, xapiUsername, xapiPassword), from configure. */
export function setStackXapi(settings: XapiDirect | undefined): void {
  stackXapi = settings;
}

export async function connect(inputs: PassthroughDiskInputs, log: Log): Promise<HostAccess> {
  const { remote, xapi } = await hostSession(inputs.connection, inputs.xapi ?? stackXapi, log);
  return { remote, xapi, batches: hostBatches(remote, xapi) };
}

/** Progress lines reach the user through the engine (console.log of the provider host). */
export function progressLog(inputs: PassthroughDiskInputs): Log {
  const [kind, value] = Object.entries(inputs.disk)[0] ?? ["disk", "?"];
  return (line) => console.log(`[xen-passthrough ${kind}=${String(value)}] ${line}`);
}
