// The fault matrix's moving parts for PassthroughUsb: one resource on the sandbox's Zigbee stick,
// driven through the real dynamic-provider host, an operation run with a fault armed, retried the
// way the engine would, then checked in XAPI's records: one VUSB (ours, on the wanted VM) and
// passthrough on the stick, or after delete no VUSB and no passthrough left. Used by
// tests/host/fault-matrix-usb.test.ts.
import { DEFAULT_USB_DEVICE } from "xen-sandbox";
import type { ModelOptions, Sandbox } from "xen-sandbox";
import type { Engine, Stored } from "./engine";
import { matrixSteps, type MatrixSteps, type Operation } from "./fault-matrix";
import { connectionTo } from "./sandbox";

export interface UsbMatrixWorld {
  sandbox: Sandbox;
  engine: Engine;
}

/** Two halted HVM guests: create gives the stick to the first, update moves it to the second. */
export const USB_GUESTS = {
  vms: [
    { nameLabel: "homeassistant", powerState: "Halted" },
    { nameLabel: "kodi", powerState: "Halted" },
  ],
} satisfies ModelOptions;

const OWNER = "matrix/usb/zigbee";

function argsFor(world: UsbMatrixWorld, vm: string): Record<string, unknown> {
  const { vendorId, productId, serial } = DEFAULT_USB_DEVICE;
  return {
    connection: connectionTo(world.sandbox),
    device: { vendorId, productId, serial },
    vm: { nameLabel: vm },
    owner: OWNER,
  };
}

const wantedVm = (operation: Operation) => (operation === "update" ? "kodi" : "homeassistant");

/** The PassthroughUsb matrix's steps: created on the first guest, updated to the second. */
export const usbSteps = (world: UsbMatrixWorld): MatrixSteps =>
  matrixSteps(world.engine, (operation) => argsFor(world, wantedVm(operation)));

/** The USB records left that belong to a passthrough: every VUSB, every PUSB enabled or tagged. */
export function usbLeft(world: UsbMatrixWorld): string[] {
  const { pusbs, vusbs } = world.sandbox.simulator.control.state();
  return [
    ...vusbs.map((vusb) => `VUSB ${vusb.uuid} (${JSON.stringify(vusb.otherConfig)})`),
    ...pusbs
      .filter((pusb) => pusb.passthroughEnabled || Object.keys(pusb.otherConfig).length > 0)
      .map((pusb) => `PUSB ${pusb.uuid} (passthrough ${String(pusb.passthroughEnabled)})`),
  ];
}

/** What is wrong after the operation converged (empty: nothing). */
export async function usbConvergenceProblems(
  world: UsbMatrixWorld,
  operation: Operation,
  after: Stored | undefined,
): Promise<string[]> {
  if (operation === "delete") {
    const left = usbLeft(world);
    return left.length === 0 ? [] : [`left after delete: ${left.join("; ")}`];
  }
  if (after === undefined) return ["the engine holds no resource after the retry"];
  const refreshed = await world.engine.refresh(after);
  if (refreshed === undefined) return ["refresh after the retry says the resource is gone"];
  const problems: string[] = [];
  const drift = refreshed.state["drift"];
  if (Array.isArray(drift) && drift.length > 0) problems.push(`drift after the retry: ${drift.join("; ")}`);
  const state = world.sandbox.simulator.control.state();
  const vm = state.vms.find((each) => each.nameLabel === wantedVm(operation));
  const ours = state.vusbs.filter((vusb) => vusb.otherConfig["xen-passthrough-owner"] === OWNER);
  if (state.vusbs.length !== 1 || ours.length !== 1) problems.push(`VUSBs: ${usbLeft(world).join("; ")}`);
  else if (ours[0]?.vm !== vm?.ref || ours[0]?.uuid !== refreshed.state["vusbUuid"])
    problems.push(`the VUSB ${ours[0]?.uuid} is not the state's, on VM ${wantedVm(operation)}`);
  if (!state.pusbs.some((pusb) => pusb.passthroughEnabled && pusb.uuid === refreshed.state["pusbUuid"]))
    problems.push("passthrough is not on for the state's PUSB");
  return problems;
}

/** Removes the resource and checks nothing is left, so the next case starts from nothing. */
export async function tearDownUsb(world: UsbMatrixWorld, stored: Stored | undefined): Promise<string[]> {
  if (stored !== undefined) await world.engine.destroy(stored);
  const left = usbLeft(world);
  return left.length === 0 ? [] : [`left after the final destroy: ${left.join("; ")}`];
}
