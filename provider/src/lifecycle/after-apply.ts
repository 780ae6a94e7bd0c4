// The host as a successful apply left it, derived from the first look and what the apply did,
// instead of a second full look (one more SSH exec and record round per resource): dom0's side
// is what our udev round wrote and waited for, XAPI's side the newest record round with our VBD
// as re-read after its last change. Pure.
import type { BootRepairFound } from "../core/boot-repair.js";
import type { Dom0Inventory } from "../core/dom0-inventory.js";
import type { Dom0Change } from "../core/plan.js";
import { BOOT_REPAIR_MARKER } from "../dom0/boot-repair.js";
import type { UdevOutcome } from "../dom0/udev-round.js";
import type { Ref, VbdRecord, WithRef } from "../xapi/records.js";
import type { XapiSnapshot } from "../xapi/snapshot.js";

/** dom0 after a udev round that made `change`. */
export function inventoryAfterChange(
  inventory: Dom0Inventory,
  change: Dom0Change,
  outcome: UdevOutcome,
): Dom0Inventory {
  const rules = new Map(inventory.passthroughRules);
  if (change.writeRule !== undefined) rules.set(change.writeRule.path, change.writeRule.text);
  if (change.removeRule !== undefined) rules.delete(change.removeRule);
  for (const path of outcome.disabled.keys()) rules.delete(path);
  // A wait succeeds only once the symlink resolves to a block device: the disk it names. udev
  // drops a re-evaluated disk's links its rules no longer make (a rule renamed from %k to a
  // stable name).
  const xapiBlock = new Map(inventory.xapiBlock);
  const linked = change.awaitLink;
  const linkName = linked?.path.slice(linked.path.lastIndexOf("/") + 1);
  for (const [name, target] of inventory.xapiBlock) {
    if (target === change.retrigger && name !== linkName) xapiBlock.delete(name);
  }
  if (linked !== undefined && linkName !== undefined) xapiBlock.set(linkName, linked.kernelName);
  const claims = new Map(inventory.claims);
  if (change.claim !== undefined) claims.set(change.claim.key, change.claim.owner);
  if (change.releaseClaim !== undefined) claims.delete(change.releaseClaim.key);
  return {
    ...inventory,
    passthroughRules: rules,
    xapiBlock,
    claims,
    bootRepair: bootRepairAfter(inventory.bootRepair, change),
  };
}

/** The boot repair's pieces after a round that installed or removed some. */
function bootRepairAfter(found: BootRepairFound, change: Dom0Change): BootRepairFound {
  const repair = change.bootRepair;
  if (repair === undefined) return found;
  const records = new Map(found.records);
  if (repair.writeRecord !== undefined) records.set(repair.recordName, repair.writeRecord);
  if (repair.removeRecord === true) records.delete(repair.recordName);
  if (repair.installUnit !== true) return { ...found, records };
  return {
    ...found,
    unitMarker: BOOT_REPAIR_MARKER,
    scriptMarker: BOOT_REPAIR_MARKER,
    enabled: true,
    records,
  };
}

/** The records with destroyed VBDs left out and a re-read VBD in place of its old record. */
export function snapshotAfterVbdChanges(
  snapshot: XapiSnapshot,
  changes: { readonly destroyed: readonly Ref[]; readonly reread: WithRef<VbdRecord> | undefined },
): XapiSnapshot {
  const { destroyed, reread } = changes;
  const gone = new Set([...destroyed, ...(reread === undefined ? [] : [reread.$ref])]);
  const vbds = snapshot.vbds.filter((vbd) => !gone.has(vbd.$ref));
  return { ...snapshot, vbds: reread === undefined ? vbds : [...vbds, reread] };
}
