// Reaching a host and looking at it for one PassthroughUsb: the same shared SSH connection and
// XAPI session as PassthroughDisk (adapters/host-pool.ts, stack XAPI settings from connect.ts),
// dom0's INSTALLATION_UUID (which host of the pool "this host" is), and XAPI's USB records.
import { openHostSessions } from "../../adapters/host-pool.js";
import { describeUsbDevice, type PassthroughUsbInputs } from "../../core/usb-inputs.js";
import type { UsbView } from "../../core/usb-view.js";
import type { Log } from "../../dom0/remote.js";
import { dom0HostUuid } from "../../dom0/host-uuid.js";
import { usbViewOf } from "../../look/usb-view.js";
import type { XapiCaller } from "../../xapi/caller.js";
import { fetchUsbSnapshot } from "../../xapi/usb.js";
import { stackXapiSettings, type AfterLook } from "../connect.js";
export { usbProgressLog } from "../progress.js";

export interface UsbAccess {
  readonly xapi: XapiCaller;
  readonly hostUuid: string;
}

/** How long create waits for a scan to list a device that was not listed yet (PUSB.scan is asynchronous). */
export const SCAN_WAIT = { tries: 4, intervalMs: 750 } as const;

/**
 * Connects (sharing this process's connections) and looks: XAPI's records are read as soon as the
 * session is up, while dom0 answers for its uuid; `afterLook` as for PassthroughDisk (connect.ts).
 */
export async function connectAndLookUsb(
  inputs: PassthroughUsbInputs,
  log: Log,
  previousOwner?: string,
  afterLook: AfterLook = "nothing",
): Promise<{ access: UsbAccess; view: UsbView }> {
  const sessions = openHostSessions(inputs.connection, inputs.xapi ?? stackXapiSettings(), log);
  const snapshot = sessions.xapi.then((xapi) => {
    const records = fetchUsbSnapshot(xapi);
    if (afterLook === "changes") xapi.prepareClient();
    return records;
  });
  const [hostUuid, xapi, records] = await Promise.all([
    sessions.remote.then((remote) => dom0HostUuid(remote)),
    sessions.xapi,
    snapshot,
  ]);
  return { access: { xapi, hostUuid }, view: usbViewOf(records, hostUuid, inputs, previousOwner) };
}

export async function lookUsb(
  access: UsbAccess,
  inputs: PassthroughUsbInputs,
  previousOwner?: string,
): Promise<UsbView> {
  return usbViewOf(await fetchUsbSnapshot(access.xapi), access.hostUuid, inputs, previousOwner);
}

/**
 * A device not listed anywhere in the pool may be newly plugged in: ask the host to scan
 * (PUSB.scan only wakes XAPI's scan thread and returns, xapi_pusb.ml) and look again a few
 * times. PUSB.scan came with the PUSB class itself (XenServer 7.3), so every XAPI that lists
 * PUSBs has it: a failure of it is a real error, not a reason to guess.
 */
export async function lookAfterScan(
  access: UsbAccess,
  inputs: PassthroughUsbInputs,
  view: UsbView,
  log: Log,
  previousOwner?: string,
): Promise<UsbView> {
  if (view.matches.length > 0 || view.elsewhere.length > 0) return view;
  log(`${describeUsbDevice(inputs.device)} not listed: asking host ${view.hostName} to scan its USB devices`);
  const hostRef = await access.xapi.call<string>("host.get_by_uuid", access.hostUuid);
  await access.xapi.call("PUSB.scan", hostRef);
  let latest = view;
  for (let attempt = 0; attempt < SCAN_WAIT.tries; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, SCAN_WAIT.intervalMs));
    latest = await lookUsb(access, inputs, previousOwner);
    if (latest.matches.length > 0 || latest.elsewhere.length > 0) return latest;
  }
  return latest;
}
