import type { XapiCaller } from "./caller.js";
import { xapiErrorCode } from "./caller.js";
import { describeVm } from "../core/identity.js";
import type { VmIdentity } from "../core/inputs.js";
import type { Ref, VmRecord, WithRef } from "./records.js";

/** The VM, or undefined when it does not exist. Several VMs with one name is an error. */
export async function findVm(xapi: XapiCaller, vm: VmIdentity): Promise<WithRef<VmRecord> | undefined> {
  let refs: Ref[];
  if ("uuid" in vm) {
    try {
      refs = [await xapi.call<Ref>("VM.get_by_uuid", vm.uuid)];
    } catch (error) {
      if (xapiErrorCode(error) === "UUID_INVALID") return undefined;
      throw error;
    }
  } else {
    refs = await xapi.call<Ref[]>("VM.get_by_name_label", vm.nameLabel);
  }
  const records = await Promise.all(
    refs.map(async (ref) => ({ ...(await xapi.call<VmRecord>("VM.get_record", ref)), $ref: ref })),
  );
  const vms = records.filter((record) => !record.is_a_template);
  if (vms.length > 1) {
    const uuids = vms.map((record) => record.uuid).join(", ");
    throw new Error(
      `${describeVm(vm)} is ambiguous: ${vms.length} VMs have that name (${uuids}); use vm.uuid`,
    );
  }
  return vms[0];
}
