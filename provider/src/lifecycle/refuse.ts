// Refusals that need the host's view and come before any change: the disk must resolve to one
// whole disk that dom0 does not use, the host must have its udev SR, the VM must be a guest.
import { dom0Use } from "../core/dom0-inventory.js";
import { RefusedError } from "../core/errors.js";
import { describeDisk, describeVm } from "../core/identity.js";
import type { PassthroughDiskInputs } from "../core/inputs.js";
import { NO_REMOVABLE_STORAGE_SR } from "../xapi/snapshot.js";
import type { HostView } from "./observe.js";

export function refuseUnsafe(view: HostView, inputs: PassthroughDiskInputs): void {
  const disk = describeDisk(inputs.disk);
  if (view.disk === undefined) {
    throw new RefusedError(
      "DISK_NOT_FOUND",
      { disk },
      view.diskProblem ?? `no disk with ${disk} on the host`,
    );
  }
  const use = dom0Use(view.inventory, view.disk);
  if (use !== undefined) {
    throw new RefusedError(
      "DISK_IN_USE_BY_DOM0",
      { disk, kernelName: view.disk.kernelName },
      `refusing to pass through ${disk} (/dev/${view.disk.kernelName}): ${use}. Passing it to a VM would corrupt it`,
    );
  }
  if (view.sr === undefined) {
    throw new RefusedError("NO_REMOVABLE_STORAGE_SR", { host: view.hostUuid }, NO_REMOVABLE_STORAGE_SR);
  }
  if (view.vm?.is_control_domain === true) {
    throw new RefusedError(
      "VM_IS_CONTROL_DOMAIN",
      { vm: describeVm(inputs.vm) },
      `${describeVm(inputs.vm)} is dom0 (the control domain): name a guest VM`,
    );
  }
}
