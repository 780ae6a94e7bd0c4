// VM: the guest a disk is passed through to.
import { RefusedError } from "../core/errors.js";
import { describeVm } from "../core/identity.js";
import type { VmIdentity } from "../core/inputs.js";
import type { VmRecord, WithRef } from "./records.js";
import type { XapiSnapshot } from "./snapshot.js";

/** The VM (never a template), or undefined when it does not exist. Several with one name is refused. */
export function findVm(snapshot: XapiSnapshot, identity: VmIdentity): WithRef<VmRecord> | undefined {
  const vms = snapshot.vms.filter(
    (vm) =>
      !vm.is_a_template &&
      ("uuid" in identity ? vm.uuid === identity.uuid : vm.name_label === identity.nameLabel),
  );
  if (vms.length > 1) {
    const uuids = vms.map((vm) => vm.uuid).join(", ");
    throw new RefusedError(
      "VM_AMBIGUOUS",
      { vm: describeVm(identity) },
      `${describeVm(identity)} is ambiguous: ${vms.length} VMs have that name (${uuids}); use vm.uuid`,
    );
  }
  return vms[0];
}
