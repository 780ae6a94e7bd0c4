// delete: unplug and destroy our VBDs, remove our rule, let udev drop the symlink, forget the
// VDI, drop our claim. Each step is decided from what is on the host now, so a delete retried
// after any failure finishes the job; pieces of another owner are never touched. Never touches
// the disk's data.
import {
  BOOT_REPAIR_SCRIPT_PATH,
  BOOT_REPAIR_STATE_DIR,
  BOOT_REPAIR_UNIT,
  BOOT_REPAIR_WANTS,
} from "../core/boot-repair.js";
import type { HostView } from "../core/host-view.js";
import type { PassthroughDiskInputs } from "../core/inputs.js";
import { rulePath as rulePathOf, symlinkPath } from "../core/rule.js";
import type { Log } from "../dom0/remote.js";
import { destroyVbd, unplugVbd } from "../xapi/vbd.js";
import { forgetVdi } from "../xapi/vdi.js";
import { connectAndLook, progressLog, type HostAccess } from "./connect.js";
import { withProgress } from "./progress.js";

/** `previous`: an owner change cut short (lifecycle/converge.ts), whose pieces are ours too. */
export async function removePassthrough(
  inputs: PassthroughDiskInputs,
  previous?: { readonly owner: string | undefined },
): Promise<void> {
  const log = progressLog(inputs);
  const { access, view } = await connectAndLook(inputs, log, previous, "background");
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
  const rulePath = rulePathOf(inputs.disk);
  if (view.ruleText !== undefined) log(`removing ${rulePath}`);
  // Another resource owns the disk: its rule, symlink and VDI stay (our VBDs, if any, are gone).
  const othersHold = view.foreignOwner !== undefined || view.otherRules.length > 0;
  // Re-evaluate the disk even when the rule was already gone: udev drops the symlink only then.
  const retrigger = disk !== undefined && !othersHold && (view.ruleText !== undefined || view.symlinkPresent);
  const release =
    view.claimKey !== undefined && view.claimOwner !== undefined && view.claimOwner !== view.foreignOwner
      ? { key: view.claimKey, owner: view.claimOwner }
      : undefined;
  // The delete is done only once the link is gone: while it lingers, an SR scan brings the VDI back.
  const linkGone =
    retrigger && view.symlinkName !== undefined
      ? [{ path: symlinkPath(view.symlinkName), timeoutSeconds: inputs.symlinkTimeoutSeconds }]
      : [];
  const repair = bootRepairRemoval(view);
  if (
    view.ruleText !== undefined ||
    retrigger ||
    release !== undefined ||
    repair.removes.length > 0 ||
    repair.removeWhenUnclaimed.length > 0
  ) {
    await access.batches.udev({
      removes: [...(view.ruleText === undefined ? [] : [rulePath]), ...repair.removes],
      triggers: retrigger ? [disk.kernelName] : [],
      ...(linkGone.length === 0 ? {} : { waitsGone: linkGone }),
      ...(release === undefined ? {} : { release }),
      ...(repair.removeWhenUnclaimed.length === 0 ? {} : { removeWhenUnclaimed: repair.removeWhenUnclaimed }),
    });
  }
  // The symlink is gone (now, or by an earlier attempt): the SR forgets the disk's VDI, unless
  // another resource holds the disk or someone else's VBD still uses the VDI (even one a swap
  // left there: forgetting its VDI would let XAPI's GC destroy that VBD).
  const othersOnVdi = view.otherVbds.length + view.misplacedVbds.length;
  if (!othersHold && view.vdi !== undefined && othersOnVdi === 0) {
    log(`forgetting VDI ${view.vdi.uuid}`);
    await forgetVdi(access.xapi, view.vdi.ref);
  }
}

/**
 * The boot repair's pieces a delete removes (pure): this passthrough's record and failure note,
 * unless another resource owns the disk; and the unit, its link and the script once the round
 * leaves no claim on dom0 (the host's last passthrough went).
 */
export function bootRepairRemoval(view: Pick<HostView, "bootRepair" | "foreignOwner">): {
  readonly removes: string[];
  readonly removeWhenUnclaimed: string[];
} {
  const { record, recordPresent, failure, installed } = view.bootRepair;
  const name = record.path.slice(record.path.lastIndexOf("/") + 1);
  const ours = view.foreignOwner === undefined;
  return {
    removes: [
      ...(ours && recordPresent ? [record.path] : []),
      ...(ours && failure !== undefined ? [`${BOOT_REPAIR_STATE_DIR}/failed/${name}`] : []),
    ],
    // The link first: a boot between two removals then runs nothing.
    removeWhenUnclaimed: installed ? [BOOT_REPAIR_WANTS, BOOT_REPAIR_UNIT, BOOT_REPAIR_SCRIPT_PATH] : [],
  };
}
