import type { ClassSchema, Database } from "../database";
import { Faults, fail, ok } from "../faults";
import type { Outcome } from "../faults";
import type { MethodSpec } from "../dispatch/method";
import { NULL_REF, asStringMap, asText, isStruct } from "../values";
import type { XapiValue } from "../values";
import { genericMethods } from "./generic";

// xen-api datamodel VUSB (XenServer 7.3): a VM's claim on a USB_group.
export const vusbSchema: ClassSchema = {
  name: "VUSB",
  fields: {
    uuid: "",
    allowed_operations: [],
    current_operations: {},
    VM: NULL_REF,
    USB_group: NULL_REF,
    other_config: {},
    currently_attached: false,
  },
  derived: { allowed_operations: vusbAllowedOperations },
};

/** xapi_vusb.ml create: a VM takes at most 6 VUSBs. */
export const MAX_VUSBS_PER_VM = 6;

/**
 * xapi_vusb_helpers.ml valid_operations: attach is always allowed; plug needs a Running VM and a
 * detached VUSB, unplug a Running VM and an attached one (no VUSB operation is ever in progress
 * here; the VM's shutdown/suspend/pause are not reflected, our choice). There is no VUSB.plug
 * call in the API: `plug` is only listed.
 */
function vusbAllowedOperations(db: Database, vusb: string): string[] {
  if (db.str(db.str(vusb, "VM"), "power_state") !== "Running") return ["attach"];
  return db.bool(vusb, "currently_attached") ? ["attach", "unplug"] : ["attach", "plug"];
}

/** The VUSB (there is at most one) of `group`. */
export function vusbsOfGroup(db: Database, group: string): string[] {
  return db.find("VUSB", (record) => record["USB_group"] === group);
}

/**
 * xapi_vusb.ml create, its checks in its order. The pool licence check (USB_passthrough feature)
 * always passes here: the simulated pool is licensed (our choice).
 */
function create(db: Database, vm: string, group: string, otherConfig: XapiValue): Outcome<XapiValue> {
  if (db.find("VUSB", (record) => record["VM"] === vm).length >= MAX_VUSBS_PER_VM)
    return fail("TOO_MANY_VUSBS", String(MAX_VUSBS_PER_VM));
  if (vusbsOfGroup(db, group).length > 0) return fail("USB_GROUP_CONFLICT", group);
  if (db.str(vm, "ha_restart_priority") === "restart")
    return Faults.operationNotAllowed(
      `VM ${vm} ha_restart_priority has been set to 'restart', cannot create VUSB for it. `,
    );
  return ok(db.create("VUSB", { VM: vm, USB_group: group, other_config: asStringMap(otherConfig) ?? {} }));
}

/** xapi_vusb.ml destroy: an attached VUSB must be unplugged (or its VM halted) first. */
export function destroyVusb(db: Database, vusb: string): Outcome<XapiValue> {
  if (db.bool(vusb, "currently_attached")) {
    const vmUuid = db.str(db.str(vusb, "VM"), "uuid");
    return Faults.operationNotAllowed(`VUSB '${db.str(vusb, "uuid")}' still attached to '${vmUuid}'`);
  }
  db.destroy(vusb);
  return ok("");
}

/**
 * xapi_vm_helpers.ml assert_usbs_available (part of assert_can_boot_here, so of VM.start's host
 * choice and VM.start_on's check): the first PUSB of each VUSB's group must be on `host`, else
 * OPERATION_NOT_ALLOWED ["VUSB <vusb ref> is not available on Host <host ref>"].
 */
export function usbsUnavailableOn(db: Database, vm: string, host: string): Outcome<never> | undefined {
  for (const vusb of db.find("VUSB", (record) => record["VM"] === vm)) {
    const group = db.str(vusb, "USB_group");
    const [pusb] = db.find("PUSB", (record) => record["USB_group"] === group);
    if (pusb === undefined || db.str(pusb, "host") !== host)
      return Faults.operationNotAllowed(`VUSB ${vusb} is not available on Host ${host}`);
  }
  return undefined;
}

const VALID_DEVICE_MODELS = ["qemu-upstream-compat", "qemu-upstream-uefi", "qemu-upstream"];

/**
 * xapi_vm.ml start: a VM with VUSBs needs an upstream QEMU device model
 * (vm_platform.ml check_restricted_device_model), else INVALID_VALUE
 * ["platform:device-model when vm has VUSBs", value or "undefined"]. XAPI first adds the default
 * device model to an HVM guest's platform (xapi_vm_helpers.ml ensure_device_model_profile_present),
 * not to a PV or PVH one: so only HVM guests can start with a VUSB.
 */
export function deviceModelRefusal(db: Database, vm: string): Outcome<never> | undefined {
  if (db.find("VUSB", (record) => record["VM"] === vm).length === 0) return undefined;
  const platform = asStringMap(db.field(vm, "platform")) ?? {};
  const model =
    platform["device-model"] ?? (db.str(vm, "domain_type") === "hvm" ? "qemu-upstream-compat" : undefined);
  if (model !== undefined && VALID_DEVICE_MODELS.includes(model)) return undefined;
  return fail("INVALID_VALUE", "platform:device-model when vm has VUSBs", model ?? "undefined");
}

/**
 * xapi_xenops.ml start: before handing the VM to xenopsd, XAPI marks every VUSB of the VM
 * attached (it does not look at passthrough_enabled; VM.start has already checked that each
 * PUSB is on this host). xenopsd's plug of a device that is physically gone but still has its
 * PUSB (no scan since) is not modelled: the VUSB stays attached (our choice).
 */
export function attachVusbsAtBoot(db: Database, vm: string): void {
  for (const vusb of db.find("VUSB", (record) => record["VM"] === vm))
    db.update(vusb, { currently_attached: true });
}

/** VM operations during which a VUSB can be neither plugged nor unplugged. */
const VM_OPS_BLOCKING_VUSB = ["clean_shutdown", "hard_shutdown", "suspend", "pause"];

/**
 * VUSB.unplug (message_forwarding.ml with_vusb_marked -> xapi_vusb_helpers.ml
 * assert_operation_valid, then xapi_xenops.ml vusb_unplug), first error wins:
 * VM_BAD_POWER_STATE [vm, "running", actual] unless the VM runs; DEVICE_ALREADY_DETACHED [vusb]
 * when not attached; OPERATION_NOT_ALLOWED ["Current operation on VM:<vm> is <op>"] while the VM
 * shuts down, suspends or pauses; INTERNAL_ERROR ["vusb_unplug: Unable to unplug vusb <vusb>"]
 * when the domain has no QEMU (not HVM). The VUSB's own concurrent operations
 * (OTHER_OPERATION_IN_PROGRESS) cannot arise here: every call runs to its end at once.
 */
export function unplugVusb(db: Database, vusb: string): Outcome<XapiValue> {
  const vm = db.str(vusb, "VM");
  const state = db.str(vm, "power_state");
  if (state !== "Running") return Faults.vmBadPowerState(vm, "running", state.toLowerCase());
  if (!db.bool(vusb, "currently_attached")) return Faults.deviceAlreadyDetached(vusb);
  const current = db.raw(vm, "current_operations");
  const ops = isStruct(current) ? Object.values(current).map(asText) : [];
  const blocking = ops.find((op) => VM_OPS_BLOCKING_VUSB.includes(op));
  if (blocking !== undefined)
    return Faults.operationNotAllowed(`Current operation on VM:${vm} is ${blocking}`);
  if (db.str(vm, "domain_type") !== "hvm")
    return Faults.internalError(`vusb_unplug: Unable to unplug vusb ${vusb}`);
  db.update(vusb, { currently_attached: false });
  return ok("");
}

/** A halted domain holds no devices. */
export function detachVusbs(db: Database, vm: string): void {
  for (const vusb of db.find(
    "VUSB",
    (record) => record["VM"] === vm && record["currently_attached"] === true,
  ))
    db.update(vusb, { currently_attached: false });
}

const vusbRef = { name: "self", kind: "ref", cls: "VUSB" } as const;
const vmLock = (args: readonly unknown[]) => [`VM:${String(args[0])}`];

export const vusbMethods: MethodSpec[] = [
  ...genericMethods(vusbSchema),
  {
    name: "VUSB.create",
    params: [
      { name: "VM", kind: "ref", cls: "VM" },
      { name: "USB_group", kind: "ref", cls: "USB_group" },
      { name: "other_config", kind: "map" },
    ],
    hasAsync: true,
    locks: vmLock,
    handler: ({ db }, [vm, group, otherConfig]) =>
      create(db, vm as string, group as string, otherConfig as XapiValue),
  },
  {
    name: "VUSB.unplug",
    params: [vusbRef],
    hasAsync: true,
    handler: ({ db }, [vusb]) => unplugVusb(db, vusb as string),
  },
  {
    name: "VUSB.destroy",
    params: [vusbRef],
    hasAsync: true,
    handler: ({ db }, [vusb]) => destroyVusb(db, vusb as string),
  },
];
