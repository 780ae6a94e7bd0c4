// delete: unplug and destroy our VBDs, remove our rule, let udev drop the symlink, forget the
// VDI. Succeeds when pieces are already gone; never touches the disk's data.
import type { HostView } from "../core/host-view.js";
import type { PassthroughDiskInputs } from "../core/inputs.js";
import { renderRule } from "../core/rule.js";
import type { Log } from "../dom0/remote.js";
import { destroyVbd, unplugVbd } from "../xapi/vbd.js";
import { forgetVdi } from "../xapi/vdi.js";
import { connectAndLook, progressLog, type HostAccess } from "./connect.js";
import { withProgress } from "./progress.js";

export async function removePassthrough(inputs: PassthroughDiskInputs): Promise<void> {
  const log = progressLog(inputs);
  const { access, view } = await connectAndLook(inputs, log);
  await removeFrom(access, view, inputs, log);
}

/** Removes what `view` shows of ours. */
export async function removeFrom(
  access: HostAccess,
  view: HostView,
  inputs: PassthroughDiskInputs,
  log: Log,
): Promise<void> {
  await Promise.all(
    view.ownVbds.map(async (vbd) => {
      // Inside XAPI's GC window (its VDI is gone) a plugged VBD can be neither unplugged nor
      // destroyed; the GC drops it within 30 s (see converge-plan.ts removeVbdSteps).
      if (vbd.vdiUuid === "" && vbd.currentlyAttached) {
        log(`VBD ${vbd.uuid} refers to a VDI that is gone: XAPI's database GC removes it`);
        return;
      }
      if (vbd.currentlyAttached) {
        log(`unplugging VBD ${vbd.uuid}`);
        await withProgress(log, `waiting for VBD.unplug of ${vbd.uuid}`, unplugVbd(access.xapi, vbd.ref));
      }
      await destroyVbd(access.xapi, vbd.ref);
    }),
  );
  const { disk } = view;
  const rulePath = renderRule(inputs.disk).path;
  if (view.ruleText !== undefined) log(`removing ${rulePath}`);
  // Re-evaluate the disk even when the rule was already gone: udev drops the symlink only then.
  const retrigger =
    disk !== undefined &&
    view.otherRules.length === 0 &&
    (view.ruleText !== undefined || view.symlinkPresent);
  if (view.ruleText !== undefined || retrigger) {
    await access.batches.udev({
      removes: view.ruleText === undefined ? [] : [rulePath],
      triggers: retrigger ? [disk.kernelName] : [],
    });
  }
  // The symlink is gone: the SR forgets the disk's VDI, unless someone else's VBD still uses it.
  if (retrigger && view.vdi !== undefined && view.otherVbds.length === 0) {
    log(`forgetting VDI ${view.vdi.uuid}`);
    await forgetVdi(access.xapi, view.vdi.ref);
  }
}
