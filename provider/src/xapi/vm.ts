// VM: the guest a disk is passed through to.
import type { VmIdentity } from "../core/inputs.js";
import type { VmRecord, WithRef } from "./records.js";
import type { XapiSnapshot } from "./snapshot.js";

/** The VMs (never templates) the identity names: none, one, or several sharing a name. */
export function vmsNamed(snapshot: XapiSnapshot, identity: VmIdentity): WithRef<VmRecord>[] {
  return snapshot.vms.filter(
    (vm) =>
      !vm.is_a_template &&
      ("uuid" in identity ? vm.uuid === identity.uuid : vm.name_label === identity.nameLabel),
  );
}
