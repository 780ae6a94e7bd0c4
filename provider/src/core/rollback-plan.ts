// planRollback: the plan (plan.ts) that undoes a create which failed before its VBD existed:
// nothing of it may stay on the host. Planned from the first look and what the apply says it
// changed (lifecycle/changes.ts). Pure.
import { recordNameOf } from "./boot-repair.js";
import type { HostView } from "./host-view.js";
import type { PassthroughDiskInputs } from "./inputs.js";
import { EMPTY_PLAN, type BootRepairChange, type Plan } from "./plan.js";
import { rulePath, symlinkName, symlinkPath } from "./rule.js";

/** What the failed apply changed (lifecycle/changes.ts Changes has these fields). */
export interface ChangesToUndo {
  readonly ruleWritten: boolean;
  /** Others' rules set aside: original path -> where it went. */
  readonly rulesSetAside: ReadonlyMap<string, string>;
  readonly claimed?: boolean;
}

/** The part of the host's view (the look before the create) a rollback reads. */
export type RollbackView = Pick<
  HostView,
  "disk" | "owner" | "claimKey" | "claimOwner" | "wantedNaming" | "bootRepair" | "sr" | "vdi"
>;

/** EMPTY_PLAN when the create changed nothing that needs undoing. */
export function planRollback(
  view: RollbackView,
  changes: ChangesToUndo,
  inputs: PassthroughDiskInputs,
): Plan {
  const kernelName = view.disk?.kernelName;
  // A claim this create took (not one it found) is dropped with the rest.
  const claimKey = changes.claimed === true && view.claimOwner !== view.owner ? view.claimKey : undefined;
  const setAside = [...changes.rulesSetAside.keys()];
  if (kernelName === undefined || (!changes.ruleWritten && setAside.length === 0 && claimKey === undefined))
    return EMPTY_PLAN;
  const location = symlinkPath(symlinkName(inputs.disk, kernelName, view.wantedNaming));
  const bootRepair = bootRepairUndo(view.bootRepair);
  return {
    release: [],
    dom0: {
      ...(claimKey === undefined ? {} : { releaseClaim: { key: claimKey, owner: view.owner } }),
      ...(changes.ruleWritten ? { removeRule: rulePath(inputs.disk) } : {}),
      ...(setAside.length === 0 ? {} : { restoreRules: setAside }),
      retrigger: kernelName,
      // Our rule's link must be gone before the scan of `forget` (unless a rule moved back makes it again).
      ...(changes.ruleWritten && setAside.length === 0
        ? { awaitLinkGone: { path: location, timeoutSeconds: inputs.symlinkTimeoutSeconds } }
        : {}),
      ...(bootRepair === undefined ? {} : { bootRepair }),
    },
    attach: [],
    // The VDI appeared during this create: a scan forgets it once the symlink is gone.
    forget: view.sr !== undefined && view.vdi === undefined ? { kind: "vdiLeftAt", location } : undefined,
  };
}

/**
 * The boot repair this create installed: its record if there was none, and the unit, script and
 * link if the host had none of them (removed only if no claim is left on dom0).
 */
function bootRepairUndo(repair: RollbackView["bootRepair"]): BootRepairChange | undefined {
  if (repair.status !== "missing" && repair.status !== "outdated") return undefined;
  const removeRecord = !repair.recordPresent;
  const removeUnit = !repair.installed;
  if (!removeRecord && !removeUnit) return undefined;
  return {
    recordName: recordNameOf(repair.record.path),
    ...(removeRecord ? { removeRecord } : {}),
    ...(removeUnit ? { removeUnitWhenUnclaimed: true } : {}),
  };
}
