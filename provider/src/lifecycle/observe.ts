// Looks at the host: dom0's disks, rules and symlinks (one SSH exec) and XAPI's records (one
// round of get_all_records), both shared by every resource that looks at the same moment
// (host-batches.ts). What it finds feeds planConverge (what to do) and the resource state.
import type { Observation, VbdObservation } from "../core/converge-plan.js";
import type { Dom0Disk, Dom0Inventory } from "../core/dom0-inventory.js";
import { resolveDisk } from "../core/dom0-inventory.js";
import type { PassthroughDiskInputs } from "../core/inputs.js";
import { conflictingRules, rulePath, ruleSlug, symlinkPath } from "../core/rule.js";
import type { Remote } from "../dom0/remote.js";
import type { XapiCaller } from "../xapi/caller.js";
import type { SrRecord, VbdRecord, VdiRecord, VmRecord, WithRef } from "../xapi/records.js";
import type { XapiSnapshot } from "../xapi/snapshot.js";
import { findVm, hostByUuid, removableStorageSr, uuidOf, vdiAt } from "../xapi/snapshot.js";
import { isTagged } from "../xapi/vbd.js";
import type { HostBatches } from "./host-batches.js";

export interface HostAccess {
  readonly remote: Remote;
  readonly xapi: XapiCaller;
  readonly batches: HostBatches;
}

/** The host as found, with the XAPI references the executor needs. */
export interface HostView {
  readonly hostUuid: string;
  /** Tag of our VBD (other_config) and the resource id: unique per host and disk identity. */
  readonly tag: string;
  readonly inventory: Dom0Inventory;
  readonly snapshot: XapiSnapshot;
  readonly disk: Dom0Disk | undefined;
  /** Why the disk was not resolved (not found, ambiguous, a partition). */
  readonly diskProblem: string | undefined;
  readonly ruleText: string | undefined;
  readonly sr: WithRef<SrRecord> | undefined;
  readonly vm: WithRef<VmRecord> | undefined;
  readonly vdi: WithRef<VdiRecord> | undefined;
  /** VBDs carrying our tag (normally one). */
  readonly ownVbds: readonly WithRef<VbdRecord>[];
  /** The one of them that counts: preferably on the wanted VM and the current VDI. */
  readonly ownVbd: WithRef<VbdRecord> | undefined;
  /** VBDs of the disk's VDI without our tag. */
  readonly otherVbds: readonly WithRef<VbdRecord>[];
  readonly observation: Observation;
}

export function resourceTag(hostUuid: string, inputs: PassthroughDiskInputs): string {
  return `${hostUuid}:${ruleSlug(inputs.disk)}`;
}

export async function observe(access: HostAccess, inputs: PassthroughDiskInputs): Promise<HostView> {
  const [inventory, snapshot] = await Promise.all([access.batches.inventory(), access.batches.snapshot()]);
  return viewOf(inventory, snapshot, inputs);
}

/** Pure: the view of one resource from what dom0 and XAPI reported. */
export function viewOf(
  inventory: Dom0Inventory,
  snapshot: XapiSnapshot,
  inputs: PassthroughDiskInputs,
): HostView {
  const hostUuid = inventory.xensource["INSTALLATION_UUID"];
  if (hostUuid === undefined || hostUuid === "") {
    throw new Error(
      "/etc/xensource-inventory on the SSH host has no INSTALLATION_UUID: is this a XenServer / XCP-ng dom0?",
    );
  }
  const tag = resourceTag(hostUuid, inputs);
  const resolution = resolveDisk(inventory, inputs.disk);
  const disk = resolution.ok ? resolution.disk : undefined;
  const sr = removableStorageSr(snapshot, hostByUuid(snapshot, hostUuid).$ref);
  const vm = findVm(snapshot, inputs.vm);
  const vdi =
    sr !== undefined && disk !== undefined
      ? vdiAt(snapshot, sr.$ref, symlinkPath(disk.kernelName))
      : undefined;
  const ownVbds = snapshot.vbds.filter((vbd) => isTagged(vbd, tag));
  const rank = (vbd: VbdRecord) => (vbd.VM === vm?.$ref ? 2 : 0) + (vbd.VDI === vdi?.$ref ? 1 : 0);
  const ownVbd = [...ownVbds].sort((a, b) => rank(b) - rank(a))[0];
  const otherVbds =
    vdi === undefined ? [] : snapshot.vbds.filter((vbd) => vbd.VDI === vdi.$ref && !isTagged(vbd, tag));
  const ruleText = inventory.passthroughRules.get(rulePath(inputs.disk));

  const vbdObservation = (vbd: VbdRecord): VbdObservation => ({
    uuid: vbd.uuid,
    vmUuid: uuidOf(snapshot, vbd.VM),
    vdiUuid: uuidOf(snapshot, vbd.VDI),
    mode: vbd.mode,
    userdevice: vbd.userdevice,
    bootable: vbd.bootable,
    currentlyAttached: vbd.currently_attached,
  });
  const observation: Observation = {
    disk: disk === undefined ? undefined : { kernelName: disk.kernelName },
    ruleText,
    otherRules:
      disk === undefined ? [] : conflictingRules(inventory.passthroughRules, disk, rulePath(inputs.disk)),
    symlinkPresent: disk !== undefined && inventory.xapiBlock.get(disk.kernelName) === disk.kernelName,
    vdiUuid: vdi?.uuid,
    vm: vm === undefined ? undefined : { uuid: vm.uuid, powerState: vm.power_state },
    vbd: ownVbd === undefined ? undefined : vbdObservation(ownVbd),
    otherVbds: otherVbds.map(vbdObservation),
  };
  return {
    hostUuid,
    tag,
    inventory,
    snapshot,
    disk,
    diskProblem: resolution.ok ? undefined : resolution.reason,
    ruleText,
    sr,
    vm,
    vdi,
    ownVbds,
    ownVbd,
    otherVbds,
    observation,
  };
}
