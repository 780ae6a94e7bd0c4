// Every refusal before a change, in one place: what must hold for converging to be safe, and
// what would take something that is not ours. Pure: reads the host's view and the inputs.
import type { Dom0Disk } from "./dom0-inventory.js";
import { RefusedError } from "./errors.js";
import type { HostView, SrFacts, VbdFacts, VmFacts } from "./host-view.js";
import { describeDisk, describeVm } from "./identity.js";
import { describeOwner } from "./owner.js";
import type { PassthroughDiskInputs, VmIdentity } from "./inputs.js";

export const NO_REMOVABLE_STORAGE_SR =
  'this host has no udev "Removable storage" SR for block devices. Create it on the host with: ' +
  'xe sr-create name-label="Removable storage" type=udev content-type=disk ' +
  "device-config:location=/dev/xapi/block sm-config:type=block host-uuid=<host uuid>";

/** XAPI knows no host with dom0's INSTALLATION_UUID: the two endpoints are not one pool. */
export function hostUnknownToXapi(hostUuid: string): RefusedError {
  return new RefusedError(
    "HOST_UNKNOWN_TO_XAPI",
    { host: hostUuid },
    `XAPI does not know host ${hostUuid} (INSTALLATION_UUID of the dom0 reached over SSH): ` +
      "the XAPI endpoint and the SSH host are not the same pool",
  );
}

/** Several VMs answer to the name: which one is meant cannot be told. */
export function vmAmbiguous(identity: VmIdentity, uuids: readonly string[]): RefusedError {
  return new RefusedError(
    "VM_AMBIGUOUS",
    { vm: describeVm(identity) },
    `${describeVm(identity)} is ambiguous: ${uuids.length} VMs have that name (${uuids.join(", ")}); use vm.uuid`,
  );
}

/** The part of the view the refusals read (tests build it without a host). */
export type RefusalView = Pick<
  HostView,
  "hostUuid" | "hostName" | "diskProblem" | "diskProblemCode" | "diskUse" | "otherRules" | "foreignOwner"
> & {
  readonly otherVbds: readonly Pick<VbdFacts, "uuid" | "vmUuid">[];
  readonly disk: Pick<Dom0Disk, "kernelName"> | undefined;
  readonly sr: Pick<SrFacts, "ref" | "unpluggedPbd"> | undefined;
  readonly vm: GuestView | undefined;
};

/** The VM as the refusals and the planner read it. */
export type GuestView = Pick<
  VmFacts,
  | "uuid"
  | "powerState"
  | "isControlDomain"
  | "hvm"
  | "canHotplug"
  | "residentOnUuid"
  | "residentOnName"
  | "affinityUuid"
>;

/** What a converge may act on once nothing was refused. */
export interface Target {
  readonly disk: Pick<Dom0Disk, "kernelName">;
  readonly vm: Pick<VmFacts, "uuid" | "powerState" | "canHotplug" | "affinityUuid">;
}

/** Throws RefusedError when converging is unsafe or would take what is not ours; else the target. */
export function refuseUnsafe(view: RefusalView, inputs: PassthroughDiskInputs): Target {
  const disk = describeDisk(inputs.disk);
  if (view.disk === undefined) {
    const problem = view.diskProblem ?? `no disk with ${disk} on this host`;
    // A disk that is simply absent (unplugged, dead, another host's) is said so, naming the host.
    const absent = view.diskProblem === undefined || view.diskProblemCode === "DISK_ABSENT";
    throw new RefusedError(
      "DISK_NOT_FOUND",
      { disk, host: view.hostUuid },
      absent
        ? `the disk ${disk} is not present on host "${view.hostName}" (${view.hostUuid}): ${problem}`
        : problem,
    );
  }
  if (view.foreignOwner !== undefined) throw ownedElsewhere(disk, view.foreignOwner);
  if (view.diskUse !== undefined) {
    throw new RefusedError(
      "DISK_IN_USE_BY_DOM0",
      { disk, kernelName: view.disk.kernelName },
      `refusing to pass through ${disk} (/dev/${view.disk.kernelName}): ${view.diskUse}. Passing it to a VM would corrupt it`,
    );
  }
  if (view.sr === undefined) {
    throw new RefusedError("NO_REMOVABLE_STORAGE_SR", { host: view.hostUuid }, NO_REMOVABLE_STORAGE_SR);
  }
  if (view.sr.unpluggedPbd !== undefined)
    throw srUnplugged(view.hostName, view.hostUuid, view.sr.unpluggedPbd);
  if (view.vm?.isControlDomain === true) {
    throw new RefusedError(
      "VM_IS_CONTROL_DOMAIN",
      { vm: describeVm(inputs.vm) },
      `${describeVm(inputs.vm)} is dom0 (the control domain): name a guest VM`,
    );
  }
  if (view.vm === undefined) {
    throw new RefusedError(
      "VM_NOT_FOUND",
      { vm: describeVm(inputs.vm) },
      `${describeVm(inputs.vm)} was not found`,
    );
  }
  refuseGuest(view, inputs, view.vm);
  refuseOthers(view, inputs, view.vm.uuid);
  return { disk: view.disk, vm: view.vm };
}

/**
 * The host's udev SR is unplugged there: XAPI would refuse its scan with SR_HAS_NO_PBDS (xen-api
 * `message_forwarding.ml` choose_pbd_for_sr), so no VDI could appear for the disk.
 */
export function srUnplugged(hostName: string, hostUuid: string, pbd: string): RefusedError {
  return new RefusedError(
    "REMOVABLE_STORAGE_SR_UNPLUGGED",
    { host: hostUuid, pbd },
    `the udev "Removable storage" SR of host "${hostName}" (${hostUuid}) is unplugged there (PBD ${pbd}), ` +
      `so XAPI cannot scan it for the disk: plug it with xe pbd-plug uuid=${pbd}, then run this again`,
  );
}

/** Another resource owns the disk (core/owner.ts): one disk, one owner. */
export function ownedElsewhere(disk: string, owner: string): RefusedError {
  return new RefusedError(
    "DISK_OWNED_ELSEWHERE",
    { disk, owner },
    `${disk} belongs to ${describeOwner(owner)}: a disk can belong to one resource only ` +
      "(destroy that resource first, or remove this one from the program)",
  );
}

/** What the guest itself cannot take: a read-only disk under qemu, a disk of another host. */
function refuseGuest(view: RefusalView, inputs: PassthroughDiskInputs, vm: GuestView): void {
  const name = describeVm(inputs.vm);
  if (inputs.mode === "RO" && vm.hvm) {
    // xen-api `xapi_vbd.ml` plug: qemu cannot present a read-only disk (CA-83260).
    throw new RefusedError(
      "RO_DISK_ON_HVM_GUEST",
      { vm: name },
      `${name} is an HVM guest: XAPI refuses to plug a read-only disk into it ` +
        '(DISK_VBD_MUST_BE_READWRITE_FOR_HVM, qemu emulates its disks): use mode "RW"',
    );
  }
  if (vm.powerState === "Running" && vm.residentOnUuid !== "" && vm.residentOnUuid !== view.hostUuid) {
    throw new RefusedError(
      "VM_ON_OTHER_HOST",
      { vm: name, residentOn: vm.residentOnUuid, host: view.hostUuid },
      `${name} runs on host "${vm.residentOnName}" (${vm.residentOnUuid}), but the disk is on host ` +
        `"${view.hostName}" (${view.hostUuid}): a VM can use a passed-through disk only on the disk's host. ` +
        "Shut the VM down and start it on that host (setAffinity: true makes XAPI prefer it), then run this again",
    );
  }
}

/** Rules and VBDs of others for this disk: taken over with adopt, refused otherwise. */
function refuseOthers(view: RefusalView, inputs: PassthroughDiskInputs, vmUuid: string): void {
  const disk = describeDisk(inputs.disk);
  for (const rule of view.otherRules) {
    if (rule.writtenBy === "xen-passthrough") {
      throw new RefusedError(
        "DISK_MANAGED_ELSEWHERE",
        { disk, rule: rule.path },
        `${disk} is already passed through by another PassthroughDisk (${rule.path}, ${rule.evidence}): a disk can belong to one resource only`,
      );
    }
    if (!inputs.adopt) {
      throw new RefusedError(
        "DISK_IN_OTHER_RULE",
        { disk, rule: rule.path },
        `${disk} is already passed through by ${rule.path} (${rule.evidence}): set adopt: true to take it over, or remove that rule`,
      );
    }
  }
  for (const vbd of view.otherVbds) {
    if (vbd.vmUuid !== vmUuid) {
      throw new RefusedError(
        "DISK_ATTACHED_ELSEWHERE",
        { disk, vbd: vbd.uuid, vm: vbd.vmUuid },
        `${disk} is attached to another VM (${vbd.vmUuid}, VBD ${vbd.uuid}): detach it there first`,
      );
    }
    if (!inputs.adopt) {
      throw new RefusedError(
        "DISK_HAS_UNMANAGED_VBD",
        { disk, vbd: vbd.uuid },
        `${disk} already has a VBD on this VM that Pulumi does not manage (${vbd.uuid}): set adopt: true to take it over`,
      );
    }
  }
}
