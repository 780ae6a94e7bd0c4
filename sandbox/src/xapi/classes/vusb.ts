import type { ClassSchema, Database } from "../database";
import { Faults, fail, ok } from "../faults";
import type { Outcome } from "../faults";
import type { MethodSpec } from "../dispatch/method";
import { NULL_REF, asStringMap } from "../values";
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
 * detached VUSB, unplug a Running VM and an attached one (current operations are not modelled).
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
 * At boot xenopsd plugs the VM's VUSBs and XAPI records them attached (xapi_xenops.ml
 * update_vusb). Only a VUSB whose PUSB is on the boot host and enabled for passthrough attaches
 * here; refusing the start otherwise is not modelled (our choice).
 */
export function attachVusbsAtBoot(db: Database, vm: string, host: string): void {
  for (const vusb of db.find("VUSB", (record) => record["VM"] === vm)) {
    const group = db.str(vusb, "USB_group");
    const usable = db
      .find("PUSB", (record) => record["USB_group"] === group)
      .some((pusb) => db.str(pusb, "host") === host && db.bool(pusb, "passthrough_enabled"));
    if (usable) db.update(vusb, { currently_attached: true });
  }
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
    name: "VUSB.destroy",
    params: [vusbRef],
    hasAsync: true,
    handler: ({ db }, [vusb]) => destroyVusb(db, vusb as string),
  },
];
