// Looks at the host: one SSH exec for dom0's disks and rules, then a handful of XAPI calls.
// The result feeds both planConverge (what to do) and the resource state (what read reports).
import type { Dom0Disk, Dom0Inventory } from "../core/dom0-inventory.js";
import { resolveDisk } from "../core/dom0-inventory.js";
import type { Observation, VbdObservation } from "../core/converge-plan.js";
import type { PassthroughDiskInputs } from "../core/inputs.js";
import { conflictingRules, rulePath, ruleSlug, symlinkPath } from "../core/rule.js";
import { readInventory } from "../dom0/inventory.js";
import type { Remote } from "../dom0/remote.js";
import type { XapiCaller } from "../xapi/caller.js";
import { hostRef, removableStorageSr } from "../xapi/host.js";
import type { Ref, SrRecord, VbdRecord, VdiRecord, VmRecord, WithRef } from "../xapi/records.js";
import { allVbds, isTagged } from "../xapi/vbd.js";
import { findVdiByLocation } from "../xapi/vdi.js";
import { findVm } from "../xapi/vm.js";

export interface HostAccess {
  readonly remote: Remote;
  readonly xapi: XapiCaller;
}

/** The host as found, with the XAPI references the executor needs. */
export interface HostView {
  readonly hostUuid: string;
  /** Tag of our VBD (other_config) and the resource id: unique per host and disk identity. */
  readonly tag: string;
  readonly inventory: Dom0Inventory;
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
  /** For VbdObservation: uuids of the VMs and VDIs our and other VBDs refer to. */
  readonly uuidOf: ReadonlyMap<Ref, string>;
  readonly observation: Observation;
}

export function resourceTag(hostUuid: string, inputs: PassthroughDiskInputs): string {
  return `${hostUuid}:${ruleSlug(inputs.disk)}`;
}

export async function observe(access: HostAccess, inputs: PassthroughDiskInputs): Promise<HostView> {
  const inventory = await readInventory(access.remote);
  const hostUuid = inventory.xensource["INSTALLATION_UUID"];
  if (hostUuid === undefined || hostUuid === "") {
    throw new Error(
      "/etc/xensource-inventory on the SSH host has no INSTALLATION_UUID: is this a XenServer / XCP-ng dom0?",
    );
  }
  const tag = resourceTag(hostUuid, inputs);
  const resolution = resolveDisk(inventory, inputs.disk);
  const disk = resolution.ok ? resolution.disk : undefined;
  const location = disk === undefined ? undefined : symlinkPath(disk.kernelName);

  const host = await hostRef(access.xapi, hostUuid);
  const [sr, vm, vbds] = await Promise.all([
    removableStorageSr(access.xapi, host),
    findVm(access.xapi, inputs.vm),
    allVbds(access.xapi),
  ]);
  const vdi =
    sr !== undefined && location !== undefined
      ? await findVdiByLocation(access.xapi, sr.$ref, location)
      : undefined;
  const ownVbds = vbds.filter((vbd) => isTagged(vbd, tag));
  const rank = (vbd: VbdRecord) => (vbd.VM === vm?.$ref ? 2 : 0) + (vbd.VDI === vdi?.$ref ? 1 : 0);
  const ownVbd = [...ownVbds].sort((a, b) => rank(b) - rank(a))[0];
  const otherVbds =
    vdi === undefined ? [] : vbds.filter((vbd) => vbd.VDI === vdi.$ref && !isTagged(vbd, tag));
  const uuidOf = await uuidsOf(access.xapi, [...ownVbds, ...otherVbds], vm, vdi);

  const ruleText = inventory.passthroughRules.get(rulePath(inputs.disk));
  const view = {
    hostUuid,
    tag,
    inventory,
    disk,
    diskProblem: resolution.ok ? undefined : resolution.reason,
    ruleText,
    sr,
    vm,
    vdi,
    ownVbds,
    ownVbd,
    otherVbds,
    uuidOf,
  };
  return { ...view, observation: toObservation(view, inputs) };
}

/** Resolves the VM and VDI refs of VBDs to uuids; dangling refs (a forgotten VDI) map to "". */
async function uuidsOf(
  xapi: XapiCaller,
  vbds: readonly VbdRecord[],
  vm: WithRef<VmRecord> | undefined,
  vdi: WithRef<VdiRecord> | undefined,
): Promise<Map<Ref, string>> {
  const known = new Map<Ref, string>();
  if (vm !== undefined) known.set(vm.$ref, vm.uuid);
  if (vdi !== undefined) known.set(vdi.$ref, vdi.uuid);
  const unknown = new Map<Ref, "VM" | "VDI">();
  for (const vbd of vbds) {
    if (!known.has(vbd.VM)) unknown.set(vbd.VM, "VM");
    if (!known.has(vbd.VDI)) unknown.set(vbd.VDI, "VDI");
  }
  await Promise.all(
    [...unknown].map(async ([ref, cls]) => {
      const uuid = await xapi.call<string>(`${cls}.get_uuid`, ref).catch(() => "");
      known.set(ref, uuid);
    }),
  );
  return known;
}

type ViewParts = Omit<HostView, "observation">;

function toObservation(view: ViewParts, inputs: PassthroughDiskInputs): Observation {
  const { disk, vm, vdi, ownVbd, otherVbds } = view;
  const vbdObservation = (vbd: VbdRecord): VbdObservation => ({
    uuid: vbd.uuid,
    vmUuid: view.uuidOf.get(vbd.VM) ?? "",
    vdiUuid: view.uuidOf.get(vbd.VDI) ?? "",
    mode: vbd.mode,
    userdevice: vbd.userdevice,
    bootable: vbd.bootable,
    currentlyAttached: vbd.currently_attached,
  });
  return {
    disk: disk === undefined ? undefined : { kernelName: disk.kernelName },
    ruleText: view.ruleText,
    otherRules:
      disk === undefined
        ? []
        : conflictingRules(view.inventory.passthroughRules, disk, rulePath(inputs.disk)),
    symlinkPresent: disk !== undefined && view.inventory.xapiBlock.get(disk.kernelName) === disk.kernelName,
    vdiUuid: vdi?.uuid,
    vm: vm === undefined ? undefined : { uuid: vm.uuid, powerState: vm.power_state },
    vbd: ownVbd === undefined ? undefined : vbdObservation(ownVbd),
    otherVbds: otherVbds.map(vbdObservation),
  };
}
