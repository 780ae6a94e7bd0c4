import { chooseHostForVm } from "../classes/placement";
import { forgetVdi } from "../classes/vdi";
import { haltVm } from "../classes/vm";
import type { PowerState } from "../classes/vm";
import { GUEST_KINDS, guestVmFields, reportGuestMetrics } from "../classes/vm-guest-metrics";
import type { GuestKind } from "../classes/vm-guest-metrics";
import type { XapiClass } from "../database";
import { NULL_REF } from "../values";
import type { World } from "../world";
import { updateVmMetrics } from "../classes/metrics";

/** A drift request names its object by opaque ref, UUID, or (for VMs) name_label. */
export class DriftError extends Error {
  override name = "DriftError";
}

/** Changes made behind the API's back, as an operator or a crash would make them on a real host. */
export interface DriftOperations {
  /** Sets a VM's power state directly; Halted also detaches its VBDs (the domain is gone). */
  setPowerState(vm: string, state: PowerState): void;
  /** Marks a VBD detached without the VM noticing (e.g. the backend died). */
  unplugVbd(vbd: string): void;
  /** Deletes a VBD record, attached or not. */
  destroyVbd(vbd: string): void;
  /** Forgets a VDI as `xe vdi-forget` would: its VBDs stay, with a dead VDI ref, until the GC runs. */
  forgetVdi(vdi: string): void;
  /** Deletes a VM with its VBDs and VUSBs. */
  destroyVm(vm: string): void;
  /** Marks a PBD plugged or unplugged (an SR whose PBD is unplugged answers SR_HAS_NO_PBDS). */
  setPbdAttached(pbd: string, attached: boolean): void;
  /**
   * Makes the guest report as `kind` (e.g. PV drivers installed in a running HVM guest). A
   * running guest keeps its domain type: HVM <-> PV takes effect only while it is Halted.
   */
  setGuest(vm: string, kind: GuestKind): void;
}

export function resolveObject(world: World, cls: XapiClass, selector: string): string {
  const { db } = world;
  if (db.has(selector, cls)) return selector;
  const matches = db.find(cls, (record) => record["uuid"] === selector || record["name_label"] === selector);
  if (matches.length === 1 && matches[0] !== undefined) return matches[0];
  throw new DriftError(
    matches.length === 0
      ? `no ${cls} with ref, uuid or name_label "${selector}"`
      : `"${selector}" names ${matches.length} ${cls} objects: use a ref or uuid`,
  );
}

const POWER_STATES: readonly PowerState[] = ["Halted", "Running", "Paused", "Suspended"];

export function driftOperations(world: World): DriftOperations {
  const { db } = world;
  return {
    setPowerState(selector, state) {
      if (!POWER_STATES.includes(state))
        throw new DriftError(`unknown power state "${state}" (use ${POWER_STATES.join(", ")})`);
      const vm = resolveObject(world, "VM", selector);
      if (state === "Halted") haltVm(db, vm);
      else {
        // Started by another tool: where VM.start would place it, else where it already runs.
        const current = db.str(vm, "resident_on");
        const placed = chooseHostForVm(
          db,
          vm,
          world.hosts.map((host) => host.ref),
        );
        const host = current !== NULL_REF ? current : placed.ok ? placed.value : world.host;
        db.update(vm, { power_state: state, resident_on: host });
        updateVmMetrics(db, vm);
      }
    },
    unplugVbd(selector) {
      db.update(resolveObject(world, "VBD", selector), { currently_attached: false });
    },
    destroyVbd(selector) {
      db.destroy(resolveObject(world, "VBD", selector));
    },
    forgetVdi(selector) {
      forgetVdi(db, resolveObject(world, "VDI", selector));
    },
    setPbdAttached(selector, attached) {
      db.update(resolveObject(world, "PBD", selector), { currently_attached: attached });
    },
    setGuest(selector, kind) {
      if (!GUEST_KINDS.includes(kind))
        throw new DriftError(`unknown guest kind "${kind}" (use ${GUEST_KINDS.join(", ")})`);
      const vm = resolveObject(world, "VM", selector);
      if (vm === world.controlDomain) throw new DriftError("the control domain has no guest agent");
      const wantsPv = kind === "pv";
      const isPv = db.str(vm, "domain_type") === "pv";
      if (wantsPv !== isPv && db.str(vm, "power_state") !== "Halted")
        throw new DriftError("a running guest cannot change between HVM and PV: halt it first");
      db.update(vm, guestVmFields(kind));
      reportGuestMetrics(db, vm, kind);
    },
    destroyVm(selector) {
      const vm = resolveObject(world, "VM", selector);
      if (vm === world.controlDomain) throw new DriftError("the control domain cannot be destroyed");
      for (const vbd of db.find("VBD", (record) => record["VM"] === vm)) db.destroy(vbd);
      // xapi_vm_helpers.ml destroy: a VM's VUSBs go with it.
      for (const vusb of db.find("VUSB", (record) => record["VM"] === vm)) db.destroy(vusb);
      db.update(vm, { resident_on: NULL_REF });
      db.destroy(vm);
    },
  };
}
