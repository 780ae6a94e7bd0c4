// planRemove: the plan (plan.ts) of a delete. Our VBDs go, our rule goes and udev drops the
// symlink, the SR forgets the VDI, our claim and our boot-repair record go. Each part is planned
// from what is on the host now, so a delete retried after any failure finishes the job; pieces of
// another owner are never touched, and nothing writes the disk's data. Pure.
import { recordNameOf } from "./boot-repair.js";
import type { HostView } from "./host-view.js";
import type { PassthroughDiskInputs } from "./inputs.js";
import type { BootRepairChange, Dom0Change, Plan, XapiStep } from "./plan.js";
import { rulePath, symlinkPath } from "./rule.js";

/** The part of the host's view a delete reads. */
export type RemoveView = Pick<
  HostView,
  | "ownVbds"
  | "otherVbds"
  | "misplacedVbds"
  | "disk"
  | "ruleText"
  | "otherRules"
  | "foreignOwner"
  | "symlinkPresent"
  | "symlinkName"
  | "claimKey"
  | "claimOwner"
  | "vdi"
  | "bootRepair"
>;

export function planRemove(view: RemoveView, inputs: PassthroughDiskInputs): Plan {
  // Another resource owns the disk: its rule, symlink and VDI stay (our VBDs, if any, go).
  const othersHold = view.foreignOwner !== undefined || view.otherRules.length > 0;
  // The symlink is gone once the dom0 change ran: the SR forgets the disk's VDI, unless someone
  // else's VBD still uses it (even one a swap left there: forgetting its VDI would let XAPI's GC
  // destroy that VBD).
  const othersOnVdi = view.otherVbds.length + view.misplacedVbds.length;
  const forget =
    !othersHold && view.vdi !== undefined && othersOnVdi === 0
      ? { kind: "knownVdi" as const, vdiUuid: view.vdi.uuid }
      : undefined;
  return { release: releaseVbds(view), dom0: dom0Removal(view, inputs, othersHold), attach: [], forget };
}

/**
 * Inside XAPI's GC window (its VDI is gone) a plugged VBD can be neither unplugged nor destroyed;
 * the GC drops it within 30 s (converge-plan.ts removeVbdSteps). The others are unplugged if
 * plugged, then destroyed.
 */
function releaseVbds(view: RemoveView): XapiStep[] {
  if (view.ownVbds.length === 0) return [];
  const inGcWindow = (vbd: RemoveView["ownVbds"][number]) => vbd.vdiUuid === "" && vbd.currentlyAttached;
  return [
    {
      kind: "removeOwnVbds",
      vbds: view.ownVbds
        .filter((vbd) => !inGcWindow(vbd))
        .map((vbd) => ({ uuid: vbd.uuid, unplug: vbd.currentlyAttached })),
      leftToGc: view.ownVbds.filter(inGcWindow).map((vbd) => vbd.uuid),
    },
  ];
}

function dom0Removal(
  view: RemoveView,
  inputs: PassthroughDiskInputs,
  othersHold: boolean,
): Dom0Change | undefined {
  const { disk } = view;
  // Re-evaluate the disk even when the rule was already gone: udev drops the symlink only then.
  const retrigger = disk !== undefined && !othersHold && (view.ruleText !== undefined || view.symlinkPresent);
  const releaseClaim =
    view.claimKey !== undefined && view.claimOwner !== undefined && view.claimOwner !== view.foreignOwner
      ? { key: view.claimKey, owner: view.claimOwner }
      : undefined;
  const bootRepair = bootRepairRemoval(view);
  const change: Dom0Change = {
    ...(releaseClaim === undefined ? {} : { releaseClaim }),
    ...(view.ruleText === undefined ? {} : { removeRule: rulePath(inputs.disk) }),
    ...(retrigger ? { retrigger: disk.kernelName } : {}),
    // The delete is done only once the link is gone: while it lingers, an SR scan brings the VDI back.
    ...(retrigger && view.symlinkName !== undefined
      ? {
          awaitLinkGone: {
            path: symlinkPath(view.symlinkName),
            timeoutSeconds: inputs.symlinkTimeoutSeconds,
          },
        }
      : {}),
    ...(bootRepair === undefined ? {} : { bootRepair }),
  };
  return Object.keys(change).length === 0 ? undefined : change;
}

/**
 * The boot repair's pieces a delete removes: this passthrough's record and failure note, unless
 * another resource owns the disk; and the unit, its link and the script once the round leaves no
 * claim on dom0 (the host's last passthrough went).
 */
export function bootRepairRemoval(
  view: Pick<HostView, "bootRepair" | "foreignOwner">,
): BootRepairChange | undefined {
  const { record, recordPresent, failure, installed } = view.bootRepair;
  const ours = view.foreignOwner === undefined;
  const removeRecord = ours && recordPresent;
  const removeFailureNote = ours && failure !== undefined;
  if (!removeRecord && !removeFailureNote && !installed) return undefined;
  return {
    recordName: recordNameOf(record.path),
    ...(removeRecord ? { removeRecord } : {}),
    ...(removeFailureNote ? { removeFailureNote } : {}),
    ...(installed ? { removeUnitWhenUnclaimed: true } : {}),
  };
}
