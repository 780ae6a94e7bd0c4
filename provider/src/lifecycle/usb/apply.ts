// The executor of PassthroughUsb's plans (core/usb-plan.ts): each named part in order, one XAPI
// call per piece. No rollback: every piece is tagged with the owner, so a run cut short is
// taken up by the next `pulumi up`, whose plan starts from what is there.
import { describeUsbDevice, type PassthroughUsbInputs } from "../../core/usb-inputs.js";
import type { PusbRelease, UsbConvergePlan, UsbRemovalPlan } from "../../core/usb-plan.js";
import {
  PUSB_ENABLED_BY_KEY,
  VUSB_DEVICE_KEY,
  VUSB_OWNER_KEY,
  type UsbView,
  type VusbFacts,
} from "../../core/usb-view.js";
import type { Log } from "../../dom0/remote.js";
import type { XapiCaller } from "../../xapi/caller.js";
import {
  createVusb,
  destroyVusb,
  removeOtherConfigKey,
  setOtherConfigKey,
  setPassthroughEnabled,
} from "../../xapi/usb.js";
import { UsbApplyError } from "./errors.js";

/** Runs one step; a failure says which step, on what, and that the next run continues. */
async function step(what: string, done: string[], run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
    done.push(what);
  } catch (error) {
    throw new UsbApplyError(what, done, error);
  }
}

export async function applyUsbConverge(
  xapi: XapiCaller,
  view: UsbView,
  inputs: PassthroughUsbInputs,
  plan: UsbConvergePlan,
  log: Log,
): Promise<readonly string[]> {
  // What leaves first is what a delete removes: the plan names both parts the same way.
  const done = [...(await applyUsbRemoval(xapi, plan, log))];
  const pusb = plan.device;
  // The mark goes first: a run cut short between the two then leaves a marked PUSB (which the
  // next run or a delete takes up as ours), never passthrough enabled that nobody owns.
  if (plan.markEnabledBy) {
    await step(`mark PUSB ${pusb.uuid} as enabled by ${view.owner}`, done, () =>
      setOtherConfigKey(xapi, "PUSB", pusb.ref, PUSB_ENABLED_BY_KEY, view.owner),
    );
  }
  if (plan.enablePassthrough) {
    log(`enabling passthrough on PUSB ${pusb.uuid} (port ${pusb.path})`);
    await step(`enable passthrough on PUSB ${pusb.uuid}`, done, () =>
      setPassthroughEnabled(xapi, pusb.ref, true),
    );
  }
  if (plan.createVusb) {
    log(`creating the VUSB of VM "${plan.vm.nameLabel}" on USB group ${pusb.groupUuid}`);
    await step(`create a VUSB for VM ${plan.vm.uuid}`, done, () =>
      createVusb(xapi, plan.vm.ref, pusb.groupRef, {
        [VUSB_OWNER_KEY]: view.owner,
        [VUSB_DEVICE_KEY]: describeUsbDevice(inputs.device),
      }),
    );
  }
  const retag = plan.retagVusb;
  if (retag !== undefined) {
    await step(`re-tag VUSB ${retag.uuid} as owned by ${view.owner}`, done, () =>
      setOtherConfigKey(xapi, "VUSB", retag.ref, VUSB_OWNER_KEY, view.owner),
    );
  }
  return done;
}

export async function applyUsbRemoval(
  xapi: XapiCaller,
  plan: UsbRemovalPlan,
  log: Log,
): Promise<readonly string[]> {
  const done: string[] = [];
  await removeVusbs(xapi, plan.destroyVusbs, done, log);
  await release(xapi, plan.releasePusbs, done, log);
  return done;
}

async function removeVusbs(
  xapi: XapiCaller,
  vusbs: readonly VusbFacts[],
  done: string[],
  log: Log,
): Promise<void> {
  for (const vusb of vusbs) {
    log(`destroying VUSB ${vusb.uuid} of VM "${vusb.vmName}"`);
    await step(`destroy VUSB ${vusb.uuid}`, done, () => destroyVusb(xapi, vusb.ref));
  }
}

async function release(
  xapi: XapiCaller,
  pusbs: readonly PusbRelease[],
  done: string[],
  log: Log,
): Promise<void> {
  for (const pusb of pusbs) {
    if (pusb.disable) {
      log(`disabling passthrough on PUSB ${pusb.uuid} (this resource enabled it)`);
      await step(`disable passthrough on PUSB ${pusb.uuid}`, done, () =>
        setPassthroughEnabled(xapi, pusb.ref, false),
      );
    }
    await step(`unmark PUSB ${pusb.uuid}`, done, () =>
      removeOtherConfigKey(xapi, "PUSB", pusb.ref, PUSB_ENABLED_BY_KEY),
    );
  }
}
