// Reaching a host and looking at it: the shared connections of this provider process (one SSH
// connection and one XAPI session per host), the XAPI settings from stack config that
// `configure` received, and the look that produces the host's view (core/host-view.ts).
import { openHostSessions } from "../adapters/host-pool.js";
import { viewOf, type HostLook } from "../look/host-view.js";
import type { PassthroughDiskInputs, XapiDirect } from "../core/inputs.js";
import type { Log, Remote } from "../dom0/remote.js";
import type { XapiCaller } from "../xapi/caller.js";
import { dom0BatchesOf, hostBatches, type HostBatches } from "./host-batches.js";

export { progressLog } from "./progress.js";

/** How the lifecycle reaches one host: dom0 over SSH, XAPI, and the work they share per host. */
export interface HostAccess {
  readonly remote: Remote;
  readonly xapi: XapiCaller;
  readonly batches: HostBatches;
}

export function hostAccess(remote: Remote, xapi: XapiCaller): HostAccess {
  return { remote, xapi, batches: hostBatches(remote, xapi) };
}

let stackXapi: XapiDirect | undefined;

/** Stack config (namespace xen-passthrough: xapiUrl, xapiUsername, xapiPassword), from configure. */
export function setStackXapi(settings: XapiDirect | undefined): void {
  stackXapi = settings;
}

/** The stack config's direct-XAPI settings (undefined: XAPI through SSH). */
export function stackXapiSettings(): XapiDirect | undefined {
  return stackXapi;
}

/**
 * What follows the look: "changes" starts loading the xen-api client as soon as the session is
 * logged in, so it loads while the look's reads and dom0's inventory are under way and the first
 * change finds it ready; "nothing" (refresh) never loads it: reads need none (adapters/xapi.ts).
 */
export type AfterLook = "changes" | "nothing";

/**
 * Connects and takes the first look: dom0's inventory starts as soon as SSH is up, while the
 * XAPI login (which rides on that connection) is still under way.
 */
export async function connectAndLook(
  inputs: PassthroughDiskInputs,
  log: Log,
  previous?: { readonly owner: string | undefined },
  afterLook: AfterLook = "nothing",
): Promise<{ access: HostAccess; view: HostLook }> {
  const sessions = openHostSessions(inputs.connection, inputs.xapi ?? stackXapi, log);
  const inventory = sessions.remote.then((remote) => dom0BatchesOf(remote).inventory());
  const both = Promise.all([sessions.remote, sessions.xapi]);
  const snapshot = both.then(([remote, xapi]) => {
    const records = hostBatches(remote, xapi).snapshot();
    if (afterLook === "changes") xapi.prepareClient();
    return records;
  });
  const [[remote, xapi], dom0, records] = await Promise.all([both, inventory, snapshot]);
  return { access: hostAccess(remote, xapi), view: viewOf(dom0, records, inputs, previous) };
}

/** A look over connections already open (after a failure, or in tests). */
export async function look(
  access: HostAccess,
  inputs: PassthroughDiskInputs,
  previous?: { readonly owner: string | undefined },
): Promise<HostLook> {
  const [inventory, snapshot] = await Promise.all([access.batches.inventory(), access.batches.snapshot()]);
  return viewOf(inventory, snapshot, inputs, previous);
}
