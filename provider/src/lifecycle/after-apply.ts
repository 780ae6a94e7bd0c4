// The host as a successful apply left it, derived from the first look and what the apply did,
// instead of a second full look (one more SSH exec and record round per resource): dom0's side
// is the udev round (core/udev-round.ts) replayed on the first look, XAPI's side the newest
// record round with our VBD as re-read after its last change. Pure.
import { dom0FilesOf, inventoryOfFiles } from "../core/dom0-files.js";
import type { Dom0Inventory } from "../core/dom0-inventory.js";
import type { Dom0Change } from "../core/plan.js";
import { applyRound, roundOps } from "../core/udev-round.js";
import type { Ref, VbdRecord, WithRef } from "../xapi/records.js";
import type { XapiSnapshot } from "../xapi/snapshot.js";
import { udevRequestOf } from "./dom0-request.js";

/** dom0 after a udev round that made `change` and succeeded. */
export function inventoryAfterChange(inventory: Dom0Inventory, change: Dom0Change): Dom0Inventory {
  // The round succeeded, so its wait did: udev gave the re-evaluated disk the link waited for.
  const linked = change.awaitLink;
  const { after } = applyRound(dom0FilesOf(inventory), roundOps([udevRequestOf(change)]), (kernelName) =>
    linked?.kernelName === kernelName ? linked.path.slice(linked.path.lastIndexOf("/") + 1) : undefined,
  );
  return { ...inventory, ...inventoryOfFiles(after) };
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
