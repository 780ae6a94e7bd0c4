// create, update, read and delete of PassthroughUsb over one look each: plan, apply, look again.
import { convergeChangesHost, planUsbConverge, planUsbRemoval } from "../../core/usb-plan.js";
import type { PassthroughUsbInputs } from "../../core/usb-inputs.js";
import {
  carriedBaseline,
  focusOf,
  recordedOf,
  restartNotice,
  usbDrift,
  usbStateOf,
  type PassthroughUsbOutputs,
} from "../../core/usb-state.js";
import { applyUsbConverge, applyUsbRemoval } from "./apply.js";
import { connectAndLookUsb, lookAfterScan, lookUsb, usbProgressLog } from "./look.js";

export type UsbState = PassthroughUsbInputs & PassthroughUsbOutputs;

/** create (previousOwner undefined) and update: refusals, then the plan, then a look for the outputs. */
export async function convergeUsb(
  inputs: PassthroughUsbInputs,
  previousOwner: string | undefined,
): Promise<UsbState> {
  const log = usbProgressLog(inputs);
  const { access, view: first } = await connectAndLookUsb(inputs, log, previousOwner, "changes");
  const view = await lookAfterScan(access, inputs, first, log, previousOwner);
  const plan = planUsbConverge(view, inputs);
  const changes = convergeChangesHost(plan);
  if (!changes) log("already in place: nothing to change");
  else await applyUsbConverge(access.xapi, view, inputs, plan, log);
  // Nothing applied: the look already is the host as it stands (no second round of records).
  const after = changes ? await lookUsb(access, inputs) : view;
  const notice = restartNotice(focusOf(after));
  // Said plainly, in the log as in the outputs: the resource never restarts a VM itself.
  if (notice !== "") log(notice);
  return { ...inputs, ...usbStateOf(after, []) };
}

/** read: the state as the host is now, with the drift from what the state recorded. */
export async function readUsb(
  inputs: PassthroughUsbInputs,
  props: Record<string, unknown>,
): Promise<UsbState> {
  const { view } = await connectAndLookUsb(inputs, usbProgressLog(inputs));
  const recorded = recordedOf(props);
  return {
    ...inputs,
    ...usbStateOf(view, usbDrift(view, inputs, recorded), carriedBaseline(recorded, view)),
  };
}

/** delete: our VUSBs go (refused while attached), then the passthrough we enabled. */
export async function removeUsb(
  inputs: PassthroughUsbInputs,
  previousOwner: string | undefined,
): Promise<void> {
  const log = usbProgressLog(inputs);
  const { access, view } = await connectAndLookUsb(inputs, log, previousOwner, "changes");
  const plan = planUsbRemoval(view);
  if (plan.destroyVusbs.length === 0 && plan.releasePusbs.length === 0)
    log("nothing of this resource is left on the host");
  await applyUsbRemoval(access.xapi, plan, log);
}
