// PassthroughUsb's provider methods, as the dynamic-provider host calls them through the
// serialized provider (serialized-provider.ts loads this module by package name, as
// "pulumi-xen-passthrough/lifecycle/usb"). check and diff are pure; the rest talk to the host:
// look.ts (connect, look) -> core/usb-plan.ts (refusals, then the plan) -> apply.ts -> a fresh
// look for the outputs (core/usb-state.ts).
import type { dynamic } from "@pulumi/pulumi";
import { MIGRATING_FROM } from "../../core/owner.js";
import { planUsbDiff } from "../../core/usb-diff.js";
import { diffBy } from "../diff.js";
import type { PassthroughUsbInputs } from "../../core/usb-inputs.js";
import { describeUsbDevice } from "../../core/usb-inputs.js";
import { checkUsbInputs, parseUsbInputs } from "../../core/usb-schema.js";
import { dialHostFirst } from "../dial-first.js";
import { usbProgressLog } from "../progress.js";

// Stack config is shared with PassthroughDisk: one provider process, one set of settings.
export { configure } from "../index.js";

// The parts that talk to the host load on first use: previews run only check and diff.
const converging = () => import("./converge.js");

/** The host's SSH connection first, the operation's own modules once it is on its way. */
const dialFirst = (inputs: PassthroughUsbInputs) => dialHostFirst(inputs.connection, usbProgressLog(inputs));

export function check(
  _olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<dynamic.CheckResult> {
  const { inputs, failures } = checkUsbInputs(news ?? {});
  return Promise.resolve(failures.length === 0 ? { inputs } : { inputs, failures });
}

/** Replace on another host; update on any other change or on drift a refresh recorded. */
export const diff = diffBy(planUsbDiff);

/** The resource id: the host-independent identity of the device (the host is in the outputs). */
function idOf(inputs: PassthroughUsbInputs): string {
  return `usb:${describeUsbDevice(inputs.device).replace(/^USB device /, "")}`;
}

export async function create(props: Record<string, unknown>): Promise<dynamic.CreateResult> {
  const inputs = parseUsbInputs(props);
  await dialFirst(inputs);
  const state = await (await converging()).convergeUsb(inputs, undefined);
  return { id: idOf(inputs), outs: state };
}

/** Refresh: what is on the host now; drift shows in `drift`, and the next `pulumi up` converges. */
export async function read(id: string, props: Record<string, unknown>): Promise<dynamic.ReadResult> {
  const inputs = parseUsbInputs(props);
  await dialFirst(inputs);
  return { id, props: await (await converging()).readUsb(inputs, props) };
}

/** An earlier owner (a rename or alias) is this resource too: its pieces are taken over. */
export async function update(
  _id: string,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<dynamic.UpdateResult> {
  const previous = typeof olds["owner"] === "string" ? olds["owner"] : undefined;
  const inputs = parseUsbInputs(news);
  await dialFirst(inputs);
  const state = await (await converging()).convergeUsb(inputs, previous);
  return { outs: state };
}

async function remove(_id: string, props: Record<string, unknown>): Promise<void> {
  const migrating = props[MIGRATING_FROM];
  const inputs = parseUsbInputs(props);
  await dialFirst(inputs);
  await (await converging()).removeUsb(inputs, typeof migrating === "string" ? migrating : undefined);
}
export { remove as delete };
