import type { ClassSchema, Database } from "../database";
import { Faults, ok } from "../faults";
import type { Outcome } from "../faults";
import type { MethodSpec } from "../dispatch/method";
import { NULL_REF, asBool, isStruct } from "../values";
import type { XapiValue } from "../values";
import type { World } from "../world";
import { equivalentDevices, linuxDeviceName } from "./device-names";
import { genericMethods } from "./generic";
import { updateVmMetrics } from "./metrics";
import { checkHostSeesSrs, chooseHostForVm } from "./placement";
import { udevAttachFailure } from "./udev-attach";
import { VM_UPSTREAM_FIELDS } from "./upstream-fields";

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
  backRefs: { VBDs: { from: "VBD", via: "VM" } },
  derived: { allowed_operations: vmAllowedOperations },
};

/**
 * VM.allowed_operations, live: the lifecycle calls the simulator implements that the power state
 * permits, none while another runs, none on the control domain (a subset of xen-api
 * `xapi_vm_lifecycle.ml`; which operations are listed is our choice).
 */
function vmAllowedOperations(db: Database, vm: string): string[] {
  if (db.bool(vm, "is_control_domain")) return [];
  const current = db.raw(vm, "current_operations");
  if (isStruct(current) && Object.keys(current).length > 0) return [];
  const byState: Record<string, string[]> = {
    Halted: ["start", "start_on"],
    // xapi_vm_lifecycle.ml allowed_power_states: start/start_on need Halted, pool_migrate Running.
    Running: ["clean_shutdown", "hard_shutdown", "pause", "pool_migrate"],
    Paused: ["hard_shutdown", "unpause"],
  };
  return byState[db.str(vm, "power_state")] ?? [];
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

/** VM.get_allowed_VBD_devices: disk numbers not yet used by any VBD of the VM, in order. */
export function allowedVbdDevices(db: Database, vm: string): string[] {
  const used = new Set(
    db.find("VBD", (vbd) => vbd["VM"] === vm).flatMap((vbd) => equivalentDevices(db.str(vbd, "userdevice"))),
  );
  return diskNumbers(db, vm).filter((n) => !used.has(n));
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
  db.update(vm, { power_state: "Halted", resident_on: NULL_REF, domid: -1 });
  updateVmMetrics(db, vm);
}

/** The next free domain id (dom0 is 0), as Xen hands them out. */
function nextDomid(db: Database): number {
  return Math.max(0, ...db.refs("VM").map((vm) => Number(db.field(vm, "domid")))) + 1;
}

/** Lifecycle operations on dom0 are refused (choice of message: upstream's wording not checked). */
function refuseControlDomain(db: Database, vm: string) {
  return db.bool(vm, "is_control_domain")
    ? Faults.operationNotAllowed("This operation is not allowed on the control domain")
    : undefined;
}

function requirePowerState(db: Database, vm: string, expected: PowerState) {
  const refused = refuseControlDomain(db, vm);
  if (refused !== undefined) return refused;
  const actual = powerState(db, vm);
  return actual === expected
    ? undefined
    : Faults.vmBadPowerState(vm, expected.toLowerCase(), actual.toLowerCase());
}

/** Boots a Halted VM on `host`: every disk must attach there first (see startAttachFailure). */
async function boot(world: World, vm: string, host: string, paused: boolean): Promise<Outcome<XapiValue>> {
  const { db } = world;
  const attachFailure = await startAttachFailure(world, vm);
  if (attachFailure !== undefined) return attachFailure;
  db.update(vm, { power_state: paused ? "Paused" : "Running", resident_on: host, domid: nextDomid(db) });
  updateVmMetrics(db, vm);
  // Booting attaches every device the VM has (choice: no VDI sharing check at start).
  for (const vbd of db.find("VBD", (record) => record["VM"] === vm && record["empty"] !== true)) {
    db.update(vbd, { currently_attached: true, device: linuxDeviceName(db.str(vbd, "userdevice")) });
  }
  return ok("");
}

const vmRef = { name: "vm", kind: "ref", cls: "VM" } as const;
const perVmLock = (args: readonly unknown[]) => [`VM:${String(args[0])}`];

export const vmMethods: MethodSpec[] = [
  // VM.affinity is a plain database field upstream (no custom setter in xapi_vm.ml).
  ...genericMethods(vmSchema, { settable: ["affinity"] }),
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
      const bad = requirePowerState(db, vm as string, "Halted");
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
    handler: async ({ db, world }, [vm, host, startPaused]) => {
      const bad = requirePowerState(db, vm as string, "Halted");
      if (bad !== undefined) return bad;
      const unreachable = checkHostSeesSrs(db, vm as string, host as string);
      if (unreachable !== undefined) return unreachable;
      return boot(world, vm as string, host as string, asBool(startPaused) === true);
    },
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
      const bad = requirePowerState(db, vm as string, "Running");
      if (bad !== undefined) return bad;
      const unreachable = checkHostSeesSrs(db, vm as string, host as string);
      if (unreachable !== undefined) return unreachable;
      db.update(vm as string, { resident_on: host as string });
      return ok("");
    },
  },
  ...(["clean_shutdown", "hard_shutdown"] as const).map((name): MethodSpec => ({
    name: `VM.${name}`,
    params: [vmRef],
    hasAsync: true,
    locks: perVmLock,
    marks: name,
    handler: ({ db }, [vm]) => {
      const refused = refuseControlDomain(db, vm as string);
      if (refused !== undefined) return refused;
      const state = powerState(db, vm as string);
      // A hard shutdown also stops a paused domain; a clean one needs a running guest.
      if (state === "Running" || (name === "hard_shutdown" && state === "Paused")) {
        halt(db, vm as string);
        return ok("");
      }
      return Faults.vmBadPowerState(vm as string, "running", state.toLowerCase());
    },
  })),
  {
    name: "VM.pause",
    params: [vmRef],
    hasAsync: true,
    locks: perVmLock,
    handler: ({ db }, [vm]) => {
      const bad = requirePowerState(db, vm as string, "Running");
      if (bad !== undefined) return bad;
      db.update(vm as string, { power_state: "Paused" });
      return ok("");
    },
  },
  {
    name: "VM.unpause",
    params: [vmRef],
    hasAsync: true,
    locks: perVmLock,
    handler: ({ db }, [vm]) => {
      const bad = requirePowerState(db, vm as string, "Paused");
      if (bad !== undefined) return bad;
      db.update(vm as string, { power_state: "Running" });
      return ok("");
    },
  },
];

export const haltVm = halt;
