import type { Database } from "../database";
import { Faults, fail } from "../faults";
import type { XapiFault } from "../faults";
import { asText, isStruct } from "../values";
import type { XapiStruct } from "../values";
import { guestMetricsOf } from "./vm-guest-metrics";

export const VBD_OPERATIONS = [
  "attach",
  "eject",
  "unplug",
  "unplug_force",
  "insert",
  "plug",
  "pause",
  "unpause",
] as const;
export type VbdOperation = (typeof VBD_OPERATIONS)[number];

/** Per operation: the error XAPI would raise, or undefined when the operation is allowed. */
export type VbdOperationTable = Map<VbdOperation, XapiFault | undefined>;

const PARALLEL_SAFE: readonly VbdOperation[] = ["pause", "unpause"];
const PLUG_OPS: readonly VbdOperation[] = ["plug", "unplug", "unplug_force"];

function currentOperations(db: Database, ref: string): Array<[task: string, op: string]> {
  const value = db.raw(ref, "current_operations");
  return isStruct(value) ? Object.entries(value).map(([task, op]) => [task, asText(op)]) : [];
}

/**
 * Whether a Running HVM guest's drivers can hot-plug VBDs (xen-api `xapi_pv_driver_version.ml`):
 * drivers count as present when PV_drivers_version has integer major and minor.
 */
function hasPvDriverVersion(metrics: XapiStruct | undefined): boolean {
  const version = metrics?.["PV_drivers_version"];
  if (!isStruct(version)) return false;
  return ["major", "minor"].every((key) => /^-?\d+$/.test(asText(version[key])));
}

/** HVM hot-plug rules (xen-api `xapi_vbd_helpers.ml`, valid_operations): undefined when allowed. */
function hvmHotplugError(db: Database, vm: string): XapiFault | undefined {
  const metrics = guestMetricsOf(db, vm);
  const missingDrivers = hasPvDriverVersion(metrics) ? undefined : fail("VM_MISSING_PV_DRIVERS", vm).fault;
  if (metrics === undefined) return missingDrivers;
  switch (asText(metrics["can_use_hotplug_vbd"])) {
    case "yes":
      return undefined;
    case "no":
      return fail("OPERATION_NOT_ALLOWED", "VM states it does not support VBD hotplug.").fault;
    default:
      return metrics["PV_drivers_detected"] === true ? undefined : missingDrivers;
  }
}

/**
 * XAPI's table of VBD operations (xen-api `xapi_vbd_helpers.ml`, `valid_operations`), in its
 * order: for each operation the first error set wins. A non-empty VBD whose VDI is gone makes the
 * whole computation fail with HANDLE_INVALID ["VDI", ref] (upstream reads the VDI record).
 * `sharingChecks` is XAPI's `expensive_sharing_checks` (on for a call, off for allowed_operations).
 */
export function vbdOperationTable(
  db: Database,
  vbd: string,
  sharingChecks: boolean,
): { table: VbdOperationTable } | { fault: XapiFault } {
  const table: VbdOperationTable = new Map(VBD_OPERATIONS.map((op) => [op, undefined]));
  const set = (fault: XapiFault, ops: readonly VbdOperation[]) => {
    for (const op of ops) if (table.get(op) === undefined) table.set(op, fault);
  };
  const vm = db.str(vbd, "VM");
  const inProgress = (cls: string, ref: string, [task, op]: [string, string]) =>
    fail("OTHER_OPERATION_IN_PROGRESS", cls, ref, op, task).fault;

  const current = currentOperations(db, vbd);
  const [first] = current;
  if (first !== undefined)
    set(
      inProgress("VBD", vbd, first),
      VBD_OPERATIONS.filter((op) => !PARALLEL_SAFE.includes(op)),
    );
  const blocking = current.find(([, op]) => !PARALLEL_SAFE.includes(op as VbdOperation));
  if (blocking !== undefined) set(inProgress("VBD", vbd, blocking), ["pause"]);
  const notAttachOrPause = current.find(([, op]) => !["attach", ...PARALLEL_SAFE].includes(op));
  if (notAttachOrPause !== undefined) set(inProgress("VBD", vbd, notAttachOrPause), ["unpause"]);

  if (!db.bool(vbd, "unpluggable")) set(Faults.vbdNotUnpluggable(vbd).fault, ["unplug", "unplug_force"]);
  const type = db.str(vbd, "type");
  if (type !== "CD") set(fail("VBD_NOT_REMOVABLE_MEDIA", vbd).fault, ["insert", "eject"]);
  const empty = db.bool(vbd, "empty");
  if (empty) set(fail("VBD_IS_EMPTY", vbd).fault, ["eject"]);
  else set(fail("VBD_NOT_EMPTY", vbd).fault, ["insert"]);

  const power = db.str(vm, "power_state");
  const plugged = db.bool(vbd, "currently_attached");
  if (power === "Running") {
    if (plugged) set(Faults.deviceAlreadyAttached(vbd).fault, ["plug"]);
    else set(Faults.deviceAlreadyDetached(vbd).fault, ["unplug", "unplug_force"]);
  } else {
    const bad = Faults.vmBadPowerState(vm, "running", power.toLowerCase()).fault;
    set(bad, power === "Paused" ? PLUG_OPS : [...PLUG_OPS, "pause", "unpause"]);
  }
  for (const [, op] of currentOperations(db, vm)) {
    if (["clean_shutdown", "hard_shutdown", "suspend", "pause"].includes(op))
      set(Faults.operationNotAllowed(`Current operation on VM:${vm} is ${op}`).fault, ["plug", "unplug"]);
  }
  // choice: the running domain's type is VM.domain_type (the simulator keeps no VM_metrics).
  if (power === "Running" && db.str(vm, "domain_type") === "hvm") {
    const hotplug = hvmHotplugError(db, vm);
    if (hotplug !== undefined) set(hotplug, PLUG_OPS);
    if (type === "CD")
      set(
        Faults.operationNotAllowed("HVM CDROMs cannot be hotplugged/unplugged, only inserted or ejected")
          .fault,
        PLUG_OPS,
      );
  }
  if (type === "CD" && power === "Suspended")
    set(Faults.vmBadPowerState(vm, "halted, running", "suspended").fault, ["insert", "eject"]);
  if (empty) return { table };

  const vdi = db.str(vbd, "VDI");
  if (!db.has(vdi, "VDI")) return { fault: Faults.handleInvalid("VDI", vdi).fault };
  if (!db.bool(vdi, "managed")) set(fail("VDI_NOT_MANAGED", vbd).fault, VBD_OPERATIONS);
  const vdiBusy = currentOperations(db, vdi).find(([, op]) => op !== "copy" && op !== "mirror");
  if (vdiBusy !== undefined) set(inProgress("VDI", vdi, vdiBusy), ["attach", "plug", "insert"]);
  if (!plugged && sharingChecks) {
    const others = db
      .find("VBD", (other, ref) => ref !== vbd && other["VDI"] === vdi)
      .filter((other) => {
        const otherVm = db.str(other, "VM");
        return (
          db.str(otherVm, "power_state") !== "Suspended" &&
          !db.bool(otherVm, "is_control_domain") &&
          (db.bool(other, "currently_attached") || currentOperations(db, other).length > 0)
        );
      });
    const someoneWrites = others.some((other) => db.str(other, "mode") === "RW");
    const needWrite = db.str(vbd, "mode") === "RW";
    if (
      !db.bool(vdi, "sharable") &&
      !db.bool(vm, "is_control_domain") &&
      (someoneWrites || (needWrite && others.length > 0))
    )
      set(Faults.vdiInUse(vdi).fault, ["attach", "insert", "plug"]);
    if (needWrite && db.bool(vdi, "read_only"))
      set(fail("VDI_READONLY", vdi).fault, ["attach", "insert", "plug"]);
  }
  return { table };
}

/** XAPI's assert_operation_valid: the operation's error, or undefined when it may run. */
export function vbdOperationError(db: Database, vbd: string, op: VbdOperation): XapiFault | undefined {
  const result = vbdOperationTable(db, vbd, true);
  return "fault" in result ? result.fault : result.table.get(op);
}

/**
 * allowed_operations as a reader sees it. XAPI stores it and refreshes it after each change; the
 * simulator derives it on every read (choice), and a VBD whose VDI is gone shows none.
 */
export function vbdAllowedOperations(db: Database, vbd: string): string[] {
  const result = vbdOperationTable(db, vbd, false);
  if ("fault" in result) return [];
  return VBD_OPERATIONS.filter((op) => result.table.get(op) === undefined);
}
