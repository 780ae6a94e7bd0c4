import type { ClassSchema, Database } from "../database";
import { Faults, fail, ok } from "../faults";
import type { Outcome } from "../faults";
import type { CallContext, MethodSpec } from "../dispatch/method";
import { NULL_REF, asBool, asStringMap, asText, isStruct } from "../values";
import type { XapiStruct, XapiValue } from "../values";
import { deviceSlots, isValidUserdevice, linuxDeviceName } from "./device-names";
import { genericMethods } from "./generic";
import { checkPlugReachesSr } from "./placement";
import { udevAttachFailure } from "./udev-attach";
import { vbdAllowedOperations, vbdOperationError } from "./vbd-operations";
import type { VbdOperation } from "./vbd-operations";
import { allowedVbdDevices, vmSlots } from "./vm";

export const vbdSchema: ClassSchema = {
  name: "VBD",
  fields: {
    uuid: "",
    VM: NULL_REF,
    VDI: NULL_REF,
    device: "",
    userdevice: "",
    bootable: false,
    mode: "RW",
    type: "Disk",
    unpluggable: true,
    storage_lock: false,
    empty: false,
    currently_attached: false,
    status_code: 0,
    status_detail: "",
    runtime_properties: {},
    qos_algorithm_type: "",
    qos_algorithm_params: {},
    qos_supported_algorithms: [],
    metrics: NULL_REF,
    other_config: {},
    allowed_operations: [],
    current_operations: {},
  },
  derived: { allowed_operations: vbdAllowedOperations },
};

/** The VM lock key: plugs and unplugs of one VM queue, as xenopsd's per-VM queue makes them. */
const vmLockOfVbd = (args: readonly unknown[], db: Database) => [`VM:${db.str(String(args[0]), "VM")}`];

/** VBD.create's record fields without a default upstream. */
const REQUIRED_CREATE_FIELDS = [
  "VM",
  "VDI",
  "userdevice",
  "bootable",
  "mode",
  "type",
  "empty",
  "other_config",
  "qos_algorithm_type",
  "qos_algorithm_params",
];

/** VBD.create with its checks (xen-api `xapi_vbd.ml` create); the seed makes its VBDs through it too. */
export function createVbd(db: Database, record: XapiStruct): Outcome<XapiValue> {
  for (const field of REQUIRED_CREATE_FIELDS) if (!(field in record)) return Faults.fieldTypeError(field);
  const vm = asText(record["VM"]);
  const vdi = asText(record["VDI"]);
  const empty = asBool(record["empty"]) ?? false;
  const mode = asText(record["mode"]);
  const type = asText(record["type"]);
  if (!db.has(vm, "VM")) return Faults.handleInvalid("VM", vm);
  if (!empty && !db.has(vdi, "VDI")) return Faults.handleInvalid("VDI", vdi);
  if (type === "CD" && mode !== "RO") return fail("VBD_CDS_MUST_BE_READONLY");
  if (type !== "CD" && empty) return fail("VBD_NOT_REMOVABLE_MEDIA", "in constructor");
  if (!empty && mode === "RW" && db.bool(vdi, "read_only")) return fail("VDI_READONLY", vdi);
  const requested = asText(record["userdevice"]);
  const possible = allowedVbdDevices(db, vm);
  if (!isValidUserdevice(requested) || (requested === "autodetect" && possible.length === 0)) {
    return Faults.invalidDevice(requested);
  }
  const userdevice = requested === "autodetect" ? (possible[0] as string) : requested;
  // xen-api `xapi_vbd.ml` create: the requested device's slots against those of every VBD of the
  // VM, by its device and its userdevice (device_number.ml: "1" and "xvdb" are one slot).
  const used = vmSlots(db, vm);
  if (deviceSlots(userdevice).some((slot) => used.has(slot))) return Faults.deviceAlreadyExists(userdevice);
  return ok(
    db.create("VBD", {
      VM: vm,
      VDI: empty ? NULL_REF : vdi,
      userdevice,
      bootable: asBool(record["bootable"]) ?? false,
      mode,
      type,
      empty,
      unpluggable: asBool(record["unpluggable"]) ?? true,
      other_config: asStringMap(record["other_config"]) ?? {},
      qos_algorithm_type: asText(record["qos_algorithm_type"]),
      qos_algorithm_params: asStringMap(record["qos_algorithm_params"]) ?? {},
    }),
  );
}

const vbdRef = { name: "self", kind: "ref", cls: "VBD" } as const;

/** assert_operation_valid for one VBD operation (see vbd-operations.ts). */
function operationCheck(op: VbdOperation) {
  return ({ db }: CallContext, [vbd]: readonly unknown[]): Outcome<XapiValue> | undefined => {
    const fault = vbdOperationError(db, vbd as string, op);
    return fault === undefined ? undefined : { ok: false, fault };
  };
}

/**
 * What xen-api `xapi_vbd.ml` `plug` does once the operation is valid: refuse a read-only disk in
 * a guest running qemu (CA-83260); xenopsd on the VM's host then attaches through the SR backend,
 * which fails on a host without the SR (placement.ts) or for a device that vanished.
 */
async function plug({ db, world }: CallContext, vbd: string): Promise<Outcome<XapiValue>> {
  const vm = db.str(vbd, "VM");
  const hvm = db.str(vm, "domain_type") === "hvm";
  if (hvm && db.str(vbd, "type") !== "CD" && db.str(vbd, "mode") === "RO")
    return fail("DISK_VBD_MUST_BE_READWRITE_FOR_HVM", vbd);
  const unreachable = checkPlugReachesSr(db, vbd);
  if (unreachable !== undefined) return unreachable;
  if (!db.bool(vbd, "empty")) {
    const unavailable = await udevAttachFailure(world, db.str(vbd, "VDI"));
    if (unavailable !== undefined) return unavailable;
  }
  db.update(vbd, { currently_attached: true, device: linuxDeviceName(db.str(vbd, "userdevice")) });
  return ok("");
}

function unplugMethod(name: "unplug" | "unplug_force"): MethodSpec {
  return {
    name: `VBD.${name}`,
    params: [vbdRef],
    hasAsync: true,
    locks: vmLockOfVbd,
    precheck: operationCheck(name),
    marks: name,
    waitsForOtherOperations: true,
    handler: ({ db }, [vbd]) => {
      db.update(vbd as string, { currently_attached: false });
      return ok("");
    },
  };
}

export const vbdMethods: MethodSpec[] = [
  // userdevice is a plain RW field upstream (xen-api datamodel.ml VBD fields): its setter has no
  // checks, and the VBD keeps its device until the next plug.
  ...genericMethods(vbdSchema, { settable: ["unpluggable", "bootable", "userdevice"] }),
  {
    name: "VBD.create",
    params: [{ name: "args", kind: "struct" }],
    hasAsync: true,
    // XAPI resolves "autodetect" under one global mutex on the pool master.
    locks: () => ["global:VBD.create"],
    handler: ({ db }, [record]) => (isStruct(record) ? createVbd(db, record) : Faults.fieldTypeError("args")),
  },
  {
    name: "VBD.plug",
    params: [vbdRef],
    hasAsync: true,
    locks: vmLockOfVbd,
    precheck: operationCheck("plug"),
    marks: "plug",
    waitsForOtherOperations: true,
    handler: (context, [vbd]) => plug(context, vbd as string),
  },
  unplugMethod("unplug"),
  unplugMethod("unplug_force"),
  {
    name: "VBD.destroy",
    params: [vbdRef],
    hasAsync: true,
    // Database-only upstream: no xenopsd queue, so no VM lock.
    handler: ({ db }, [vbd]) => {
      const ref = vbd as string;
      if (db.bool(ref, "currently_attached")) {
        const vm = db.str(ref, "VM");
        return Faults.operationNotAllowed(
          `VBD '${db.str(ref, "uuid")}' still attached to '${db.str(vm, "uuid")}'`,
        );
      }
      db.destroy(ref);
      return ok("");
    },
  },
];
