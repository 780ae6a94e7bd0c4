// The udev round's request (dom0/udev-round.ts) for a plan's dom0 change (core/plan.ts). The one
// place that knows where the boot repair's pieces live on dom0. Pure.
import { BOOT_REPAIR_FILES as FILES } from "../core/boot-repair.js";
import type { BootRepairChange, ClaimChange, Dom0Change } from "../core/plan.js";
import { BOOT_REPAIR_SCRIPT, BOOT_REPAIR_UNIT_TEXT } from "../dom0/boot-repair.js";
import type { UdevRequest } from "../dom0/udev-round.js";

/** Where a passthrough's boot-repair record lives. */
export const bootRepairRecordAt = (recordName: string): string => `${FILES.records}/${recordName}`;

/** The request that makes `change`. */
export function udevRequestOf(change: Dom0Change): UdevRequest {
  const repair = change.bootRepair;
  const installs = repair === undefined ? [] : bootRepairInstalls(repair);
  const removes = [
    ...(change.removeRule === undefined ? [] : [change.removeRule]),
    ...(repair === undefined ? [] : bootRepairRemoves(repair)),
  ];
  const request: UdevRequest = {
    ...(change.claim === undefined ? {} : { claim: claimOp(change.claim) }),
    ...(change.releaseClaim === undefined ? {} : { release: claimOp(change.releaseClaim) }),
    ...(change.writeRule === undefined ? {} : { writes: [change.writeRule] }),
    ...(removes.length === 0 ? {} : { removes }),
    ...(change.setAsideRules === undefined ? {} : { disables: change.setAsideRules }),
    ...(change.restoreRules === undefined ? {} : { restores: change.restoreRules }),
    ...(change.retrigger === undefined ? {} : { triggers: [change.retrigger] }),
    ...(change.awaitLink === undefined ? {} : { waits: [change.awaitLink] }),
    ...(change.awaitLinkGone === undefined ? {} : { waitsGone: [change.awaitLinkGone] }),
    ...(installs.length === 0 ? {} : { installs }),
    // The unit's link after the unit it enables (installs run first).
    ...(repair?.installUnit === true ? { links: [{ path: FILES.wants, target: FILES.unit }] } : {}),
    ...(repair?.removeUnitWhenUnclaimed === true
      ? // The link first: a boot between two removals then runs nothing.
        { removeWhenUnclaimed: [FILES.wants, FILES.unit, FILES.script] }
      : {}),
  };
  return request;
}

function claimOp(claim: ClaimChange): NonNullable<UdevRequest["claim"]> {
  return {
    key: claim.key,
    owner: claim.owner,
    ...(claim.previous === undefined ? {} : { previous: claim.previous }),
  };
}

/** The record, then the script before the unit that runs it. */
function bootRepairInstalls(repair: BootRepairChange): NonNullable<UdevRequest["installs"]> {
  return [
    ...(repair.writeRecord === undefined
      ? []
      : [{ path: bootRepairRecordAt(repair.recordName), text: repair.writeRecord, executable: false }]),
    ...(repair.installUnit === true
      ? [
          { path: FILES.script, text: BOOT_REPAIR_SCRIPT, executable: true },
          { path: FILES.unit, text: BOOT_REPAIR_UNIT_TEXT, executable: false },
        ]
      : []),
  ];
}

function bootRepairRemoves(repair: BootRepairChange): string[] {
  return [
    ...(repair.removeRecord === true ? [bootRepairRecordAt(repair.recordName)] : []),
    ...(repair.removeFailureNote === true ? [`${FILES.state}/failed/${repair.recordName}`] : []),
  ];
}
