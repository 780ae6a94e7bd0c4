// The host as a successful apply left it, derived from the first look and what the apply did,
// instead of a second full look (one more SSH exec and record round per resource): dom0's side
// is what our udev round wrote and waited for, XAPI's side the newest record round with our VBD
// as re-read after its last change. Pure.
import {
  BOOT_REPAIR_RECORDS_DIR,
  BOOT_REPAIR_SCRIPT_PATH,
  BOOT_REPAIR_UNIT,
  BOOT_REPAIR_WANTS,
  type BootRepairFound,
} from "../core/boot-repair.js";
import type { Dom0Inventory } from "../core/dom0-inventory.js";
import { BOOT_REPAIR_MARKER } from "../dom0/boot-repair.js";
import type { UdevOutcome, UdevRequest } from "../dom0/udev-round.js";
import type { Ref, VbdRecord, WithRef } from "../xapi/records.js";
import type { XapiSnapshot } from "../xapi/snapshot.js";

/** dom0 after a udev round that succeeded for `request`. */
export function inventoryAfterRound(
  inventory: Dom0Inventory,
  request: UdevRequest,
  outcome: UdevOutcome,
): Dom0Inventory {
  const rules = new Map(inventory.passthroughRules);
  for (const write of request.writes ?? []) rules.set(write.path, write.text);
  for (const path of [...(request.removes ?? []), ...outcome.disabled.keys()]) rules.delete(path);
  // A wait succeeds only once the symlink resolves to a block device: the disk it names (a
  // kernel-named symlink names itself). udev drops a re-evaluated disk's links its rules no longer
  // make (a rule renamed from %k to a stable name).
  const xapiBlock = new Map(inventory.xapiBlock);
  const waited = new Set(
    (request.waits ?? []).map((wait) => wait.path.slice(wait.path.lastIndexOf("/") + 1)),
  );
  for (const [name, target] of inventory.xapiBlock) {
    if ((request.triggers ?? []).includes(target) && !waited.has(name)) xapiBlock.delete(name);
  }
  for (const wait of request.waits ?? []) {
    const name = wait.path.slice(wait.path.lastIndexOf("/") + 1);
    xapiBlock.set(name, wait.kernelName ?? name);
  }
  const claims = new Map(inventory.claims);
  if (request.claim !== undefined) claims.set(request.claim.key, request.claim.owner);
  if (request.release !== undefined) claims.delete(request.release.key);
  return {
    ...inventory,
    passthroughRules: rules,
    xapiBlock,
    claims,
    bootRepair: bootRepairAfter(inventory, request),
  };
}

/** The boot repair's pieces after a round that installed or removed some. */
function bootRepairAfter(inventory: Dom0Inventory, request: UdevRequest): BootRepairFound {
  const found = inventory.bootRepair;
  const records = new Map(found.records);
  let { unitMarker, scriptMarker, enabled } = found;
  for (const install of request.installs ?? []) {
    if (install.path === BOOT_REPAIR_UNIT) unitMarker = BOOT_REPAIR_MARKER;
    if (install.path === BOOT_REPAIR_SCRIPT_PATH) scriptMarker = BOOT_REPAIR_MARKER;
    if (install.path.startsWith(`${BOOT_REPAIR_RECORDS_DIR}/`))
      records.set(install.path.slice(BOOT_REPAIR_RECORDS_DIR.length + 1), install.text);
  }
  for (const link of request.links ?? []) {
    if (link.path === BOOT_REPAIR_WANTS) enabled = link.target === BOOT_REPAIR_UNIT;
  }
  for (const path of request.removes ?? []) {
    if (path.startsWith(`${BOOT_REPAIR_RECORDS_DIR}/`))
      records.delete(path.slice(BOOT_REPAIR_RECORDS_DIR.length + 1));
  }
  return { ...found, unitMarker, scriptMarker, enabled, records };
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
