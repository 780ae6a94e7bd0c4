import type { ClassSchema, Database } from "../database";
import { Faults, fail, ok } from "../faults";
import type { Outcome } from "../faults";
import type { MethodSpec } from "../dispatch/method";
import { NULL_REF, asBool, isStruct } from "../values";
import type { XapiValue } from "../values";
import type { World } from "../world";
import { deviceSlots, linuxDeviceName, usedSlots } from "./device-names";
import { genericMethods } from "./generic";
import { updateVmMetrics } from "./metrics";
import { checkHostSeesSrs, chooseHostForVm } from "./placement";
import { udevAttachFailure } from "./udev-attach";
import { VM_UPSTREAM_FIELDS } from "./upstream-fields";
import { attachVusbsAtBoot, detachVusbs, deviceModelRefusal, usbsUnavailableOn } from "./vusb";

export type PowerState = "Halted" | "Running" | "Paused" | "Suspended";

export const vmSchema: ClassSchema = {
  name: "VM",
  fields: {
    ...VM_UPSTREAM_FIELDS,
    uuid: "",
    name_label: "",
    name_description: "",
    power_state: "Halted",
    is_a_template: false,
    is_a_snapshot: false,
    is_control_domain: false,
    resident_on: NULL_REF,
    affinity: NULL_REF,
    domid: -1,
    user_version: 1,
    memory_static_max: 1073741824,
    memory_dynamic_max: 1073741824,
    memory_dynamic_min: 1073741824,
    memory_static_min: 1073741824,
    VCPUs_max: 1,
    VCPUs_at_startup: 1,
    HVM_boot_policy: "BIOS order",
    PV_bootloader: "",
    domain_type: "hvm",
    guest_metrics: NULL_REF,
    VIFs: [],
    other_config: {},
    blocked_operations: {},
    tags: [],
    allowed_operations: [],
    current_operations: {},
  },
  backRefs: { VBDs: { from: "VBD", via: "VM" }, VUSBs: { from: "VUSB", via: "VM" } },
  derived: { allowed_operations: vmAllowedOperations },
};

/** The VM lifecycle operations the simulator implements, in the order allowed_operations lists them. */
const VM_OPERATIONS = [
  "start",
  "start_on",
  "clean_shutdown",
  "hard_shutdown",
  "clean_reboot",
  "hard_reboot",
  "pause",
  "unpause",
  "pool_migrate",
  "suspend",
  "destroy",
] as const;
export type VmOperation = (typeof VM_OPERATIONS)[number];

/** xen-api `xapi_vm_lifecycle.ml` allowed_power_states, for the operations above (its order). */
const ALLOWED_POWER_STATES: Record<VmOperation, readonly PowerState[]> = {
  start: ["Halted"],
  start_on: ["Halted"],
  unpause: ["Paused"],
  clean_reboot: ["Running"],
  clean_shutdown: ["Running"],
  pause: ["Running"],
  pool_migrate: ["Running"],
  hard_reboot: ["Paused", "Running"],
  hard_shutdown: ["Paused", "Suspended", "Running"],
  suspend: ["Running"],
  destroy: ["Halted", "Suspended"],
};

/**
 * XAPI's check_operation_error for a VM (xen-api `xapi_vm_lifecycle.ml`), in its order: an
 * operation the user blocked (OPERATION_BLOCKED [vm, reason]); the power state
 * (VM_BAD_POWER_STATE [vm, allowed states joined by ", ", actual], lowercase); then the control
 * domain, which allows only start and start_on of these. Concurrent operations queue on the VM's
 * lock instead of failing (our choice); guest-feature checks are not modelled.
 */
export function vmOperationError(db: Database, vm: string, op: VmOperation): Outcome<never> | undefined {
  const blocked = db.raw(vm, "blocked_operations");
  if (isStruct(blocked) && typeof blocked[op] === "string") return fail("OPERATION_BLOCKED", vm, blocked[op]);
  const actual = powerState(db, vm);
  const allowed = ALLOWED_POWER_STATES[op];
  if (!allowed.includes(actual))
    return Faults.vmBadPowerState(
      vm,
      allowed.map((state) => state.toLowerCase()).join(", "),
      actual.toLowerCase(),
    );
  if (db.bool(vm, "is_control_domain") && op !== "start" && op !== "start_on")
    return Faults.operationNotAllowed("This operation is not allowed on a control domain");
  // xapi_vm_lifecycle.ml check_operation_error: a VM with any VUSB (attached or not) cannot be
  // suspended, snapshotted, checkpointed or migrated: VM_HAS_VUSBS [vm] (xapi v1.249.x and v25.x).
  if (op === "pool_migrate" && db.find("VUSB", (record) => record["VM"] === vm).length > 0)
    return fail("VM_HAS_VUSBS", vm);
  return undefined;
}

/**
 * VM.allowed_operations, live: the implemented operations that vmOperationError lets through,
 * none while another runs (which operations XAPI would list beyond these: not modelled).
 */
function vmAllowedOperations(db: Database, vm: string): string[] {
  const current = db.raw(vm, "current_operations");
  if (isStruct(current) && Object.keys(current).length > 0) return [];
  return VM_OPERATIONS.filter((op) => vmOperationError(db, vm, op) === undefined);
}

/**
 * What VM.start's attach of each disk would meet, before anything changes: a VBD whose VDI is
 * gone (the GC window; choice: reported as HANDLE_INVALID, the record read fails upstream) or a
 * udev VDI whose device vanished (SR_BACKEND_FAILURE_46, see udev-attach.ts).
 */
async function startAttachFailure(world: World, vm: string): Promise<Outcome<XapiValue> | undefined> {
  const { db } = world;
  for (const vbd of db.find("VBD", (record) => record["VM"] === vm && record["empty"] !== true)) {
    const vdi = db.str(vbd, "VDI");
    if (!db.has(vdi, "VDI")) return Faults.handleInvalid("VDI", vdi);
    const unavailable = await udevAttachFailure(world, vdi);
    if (unavailable !== undefined) return unavailable;
  }
  return undefined;
}

/** Disk numbers a VM may use: 0..254 for guests, 0..255 for the control domain (XAPI's current limits). */
function diskNumbers(db: Database, vm: string): string[] {
  const last = db.bool(vm, "is_control_domain") ? 255 : 254;
  return Array.from({ length: last + 1 }, (_, n) => String(n));
}

/** The slots the VM's VBDs take (by device and userdevice). */
export function vmSlots(db: Database, vm: string): Set<string> {
  const vbds = db.find("VBD", (vbd) => vbd["VM"] === vm);
  return usedSlots(
    vbds.map((vbd) => ({ device: db.str(vbd, "device"), userdevice: db.str(vbd, "userdevice") })),
  );
}

/**
 * VM.get_allowed_VBD_devices: disk numbers none of whose slots a VBD of the VM takes, in order.
 * Choice: a number is offered only when free on every bus it can denote, so that "autodetect"
 * never picks a number VBD.create would then refuse.
 */
export function allowedVbdDevices(db: Database, vm: string): string[] {
  const used = vmSlots(db, vm);
  return diskNumbers(db, vm).filter((n) => !deviceSlots(n).some((slot) => used.has(slot)));
}

function powerState(db: Database, vm: string): PowerState {
  return db.str(vm, "power_state") as PowerState;
}

/** Halting a VM detaches all its devices, as xenopsd does on domain shutdown. */
function halt(db: Database, vm: string): void {
  for (const vbd of db.find(
    "VBD",
    (record) => record["VM"] === vm && record["currently_attached"] === true,
  )) {
    db.update(vbd, { currently_attached: false });
  }
  detachVusbs(db, vm);
  db.update(vm, { power_state: "Halted", resident_on: NULL_REF, domid: -1 });
  updateVmMetrics(db, vm);
}

/** The next free domain id (dom0 is 0), as Xen hands them out. */
function nextDomid(db: Database): number {
  return Math.max(0, ...db.refs("VM").map((vm) => Number(db.field(vm, "domid")))) + 1;
}

/** Boots a Halted VM on `host`: every disk must attach there first (see startAttachFailure). */
async function boot(world: World, vm: string, host: string, paused: boolean): Promise<Outcome<XapiValue>> {
  const { db } = world;
  const wrongDeviceModel = deviceModelRefusal(db, vm);
  if (wrongDeviceModel !== undefined) return wrongDeviceModel;
  const attachFailure = await startAttachFailure(world, vm);
  if (attachFailure !== undefined) return attachFailure;
  db.update(vm, { power_state: paused ? "Paused" : "Running", resident_on: host, domid: nextDomid(db) });
  updateVmMetrics(db, vm);
  // Booting attaches every device the VM has (choice: no VDI sharing check at start).
  for (const vbd of db.find("VBD", (record) => record["VM"] === vm && record["empty"] !== true)) {
    db.update(vbd, { currently_attached: true, device: linuxDeviceName(db.str(vbd, "userdevice")) });
  }
  attachVusbsAtBoot(db, vm);
  return ok("");
}

const vmRef = { name: "vm", kind: "ref", cls: "VM" } as const;
const perVmLock = (args: readonly unknown[]) => [`VM:${String(args[0])}`];

export const vmMethods: MethodSpec[] = [
  // VM.affinity is a plain database field upstream (no custom setter in xapi_vm.ml).
  ...genericMethods(vmSchema, { settable: ["affinity"], maps: ["blocked_operations"] }),
  {
    name: "VM.get_allowed_VBD_devices",
    params: [vmRef],
    handler: ({ db }, [vm]) => ok(allowedVbdDevices(db, vm as string)),
  },
  {
    name: "VM.start",
    params: [vmRef, { name: "start_paused", kind: "bool" }, { name: "force", kind: "bool" }],
    hasAsync: true,
    locks: perVmLock,
    marks: "start",
    handler: async ({ db, world }, [vm, startPaused]) => {
      const bad = vmOperationError(db, vm as string, "start");
      if (bad !== undefined) return bad;
      // message_forwarding.ml VM.start: forward_to_suitable_host -> choose_host_for_vm.
      const host = chooseHostForVm(
        db,
        vm as string,
        world.hosts.map((poolHost) => poolHost.ref),
      );
      if (!host.ok) return host;
      return boot(world, vm as string, host.value, asBool(startPaused) === true);
    },
  },
  {
    // message_forwarding.ml VM.start_on: the VM's operation check (power state), then
    // reserve_memory_for_vm -> assert_can_boot_here on the named host: a disk on an SR that host
    // cannot reach fails VM_REQUIRES_SR [vm, sr], as pool_migrate does.
    name: "VM.start_on",
    params: [
      vmRef,
      { name: "host", kind: "ref", cls: "host" },
      { name: "start_paused", kind: "bool" },
      { name: "force", kind: "bool" },
    ],
    hasAsync: true,
    locks: perVmLock,
    marks: "start_on",
    handler: ({ world }, [vm, host, startPaused]) =>
      startVmOn(world, vm as string, host as string, asBool(startPaused) === true),
  },
  {
    // message_forwarding.ml VM.pool_migrate: the VM must be Running (xapi_vm_lifecycle.ml
    // allowed_power_states), then reserve_memory_for_vm -> assert_can_boot_here on the target
    // -> assert_can_see_SRs: a VM with a disk on an SR the target cannot reach (a host's own udev
    // or local SR) fails VM_REQUIRES_SR [vm, sr]. Storage motion is VM.migrate_send, not modelled.
    name: "VM.pool_migrate",
    params: [vmRef, { name: "host", kind: "ref", cls: "host" }, { name: "options", kind: "map" }],
    hasAsync: true,
    locks: perVmLock,
    handler: ({ db }, [vm, host]) => {
      const bad = vmOperationError(db, vm as string, "pool_migrate");
      if (bad !== undefined) return bad;
      const unreachable = checkHostSeesSrs(db, vm as string, host as string);
      if (unreachable !== undefined) return unreachable;
      db.update(vm as string, { resident_on: host as string });
      return ok("");
    },
  },
  ...(["clean_shutdown", "hard_shutdown"] as const).map((name) => vmOperation(name, halt)),
  // A reboot is a new domain on the same host: a fresh domid, the disks attached again.
  ...(["clean_reboot", "hard_reboot"] as const).map((name) =>
    vmOperation(name, (db, vm) => {
      db.update(vm, { power_state: "Running", domid: nextDomid(db) });
      updateVmMetrics(db, vm);
    }),
  ),
  ...(
    [
      ["pause", "Paused"],
      ["unpause", "Running"],
    ] as const
  ).map(([name, next]) => vmOperation(name, (db, vm) => db.update(vm, { power_state: next }))),
];

export const haltVm = halt;

/**
 * VM.start_on after its lock: the operation check, the host's view of the VM's SRs and of its
 * USB devices, then the boot. The simulator starts its seeded Running guests through it.
 */
export async function startVmOn(world: World, vm: string, host: string, paused: boolean) {
  const bad = vmOperationError(world.db, vm, "start_on");
  if (bad !== undefined) return bad;
  const unreachable = checkHostSeesSrs(world.db, vm, host);
  if (unreachable !== undefined) return unreachable;
  const usbElsewhere = usbsUnavailableOn(world.db, vm, host);
  if (usbElsewhere !== undefined) return usbElsewhere;
  return boot(world, vm, host, paused);
}

/**
 * VM.destroy (xen-api `xapi_vm.ml` destroy -> `xapi_vm_helpers.ml` destroy): the VM's VBDs,
 * metrics, guest metrics and VUSBs go with it; its VDIs stay. The operation check comes first
 * (Halted or Suspended, never the control domain).
 */
function destroyVm(db: Database, vm: string): void {
  for (const vbd of db.find("VBD", (record) => record["VM"] === vm)) db.destroy(vbd);
  for (const vusb of db.find("VUSB", (record) => record["VM"] === vm)) db.destroy(vusb);
  for (const [field, cls] of [
    ["metrics", "VM_metrics"],
    ["guest_metrics", "VM_guest_metrics"],
  ] as const) {
    const ref = db.str(vm, field);
    if (db.has(ref, cls)) db.destroy(ref);
  }
  db.destroy(vm);
}

/**
 * VM.suspend (xen-api `xapi_vm.ml` suspend via xenopsd): a Running VM's memory is saved and its
 * domain destroyed, so it keeps no domain and its devices are no longer plugged (xenopsd reports
 * them unplugged, `xapi_xenops.ml` update_vbd); resident_on stays. Choice: no suspend image VDI
 * is written (suspend_VDI stays null) and there is no VM.resume.
 */
function suspendVm(db: Database, vm: string): void {
  for (const vbd of db.find("VBD", (record) => record["VM"] === vm && record["currently_attached"] === true))
    db.update(vbd, { currently_attached: false });
  detachVusbs(db, vm);
  db.update(vm, { power_state: "Suspended", domid: -1 });
  updateVmMetrics(db, vm);
}

vmMethods.push(vmOperation("destroy", destroyVm), vmOperation("suspend", suspendVm));

/**
 * A VM method that takes only the VM: its lock and mark, the operation check
 * (xapi_vm_lifecycle.ml), then `act`.
 */
function vmOperation(
  name: Parameters<typeof vmOperationError>[2],
  act: (db: Database, vm: string) => void,
): MethodSpec {
  return {
    name: `VM.${name}`,
    params: [vmRef],
    hasAsync: true,
    locks: perVmLock,
    marks: name,
    handler: ({ db }, [vm]) => {
      const bad = vmOperationError(db, vm as string, name);
      if (bad !== undefined) return bad;
      act(db, vm as string);
      return ok("");
    },
  };
}
