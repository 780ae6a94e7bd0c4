import type { DeviceEntry, NewDeviceEntry } from "../devices";
import type { GcReport, GcTimer } from "../gc";
import type { RebootOptions, RebootReport } from "../host-reboot";
import { InMemoryDeviceDirectory } from "../devices";
import { asText, isStruct } from "../values";
import type { World } from "../world";
import type { DriftOperations } from "./drift";
import { DriftError, driftOperations } from "./drift";
import type { ActiveFaultRule, FaultRule, FaultRules } from "./fault-rules";
import { profiles, zeroProfile } from "./profile";
import type { ServiceTimeProfile } from "./profile";
import type { CallTrace, TraceSnapshot } from "./trace";
import { usbControl } from "./usb";
import type { UsbControl } from "./usb";

/** The simulated host's objects in brief, for assertions and the control endpoint's GET /state. */
export interface SimulatorState {
  host: { ref: string; uuid: string; nameLabel: string };
  /** Every host of the pool, master first, with its udev SR. */
  hosts: Array<{ ref: string; uuid: string; nameLabel: string; isMaster: boolean; removableSr: string }>;
  vms: Array<{
    ref: string;
    uuid: string;
    nameLabel: string;
    powerState: string;
    isControlDomain: boolean;
    residentOn: string;
    affinity: string;
  }>;
  srs: Array<{ ref: string; uuid: string; nameLabel: string; type: string }>;
  vdis: Array<{
    ref: string;
    uuid: string;
    nameLabel: string;
    sr: string;
    location: string;
    virtualSize: number;
  }>;
  vbds: Array<{
    ref: string;
    uuid: string;
    vm: string;
    vdi: string;
    userdevice: string;
    device: string;
    currentlyAttached: boolean;
    otherConfig: Record<string, string>;
  }>;
  /** Every host's PUSBs (the USB devices XAPI knows). */
  pusbs: Array<{
    ref: string;
    uuid: string;
    host: string;
    path: string;
    usbGroup: string;
    passthroughEnabled: boolean;
    otherConfig: Record<string, string>;
  }>;
  vusbs: Array<{
    ref: string;
    uuid: string;
    vm: string;
    usbGroup: string;
    currentlyAttached: boolean;
    otherConfig: Record<string, string>;
  }>;
  sessions: number;
}

/** The in-process control surface; the HTTP control endpoint exposes the same operations. */
export interface SimulatorControl {
  faults: {
    add(rule: FaultRule): ActiveFaultRule;
    remove(id: string): boolean;
    clear(): void;
    list(): ActiveFaultRule[];
  };
  profile: {
    get(): ServiceTimeProfile;
    /** The name of a built-in profile ("zero", "realistic"), or a profile (missing values: zero). */
    set(profile: string | (Partial<ServiceTimeProfile> & { name: string })): void;
  };
  drift: DriftOperations;
  /** The hosts' USB ports: plug, unplug or move a device (see usb.ts). */
  usb: UsbControl;
  /** Edits the in-memory device directory; throws when the simulator was given a real one. */
  devices: {
    add(entry: NewDeviceEntry): DeviceEntry;
    remove(name: string): boolean;
  };
  trace: { get(): TraceSnapshot; reset(): void };
  /** XAPI's database GC: run a pass now, or change its period (0 = only when run from here). */
  gc: { run(): GcReport; intervalMs(): number; setIntervalMs(ms: number): void };
  hosts: {
    /**
     * Reboots host `hostUuid` (see host-reboot.ts for the steps). A sandbox host also reboots its
     * dom0 (disks, /dev, udev, boot units); `kernelNames` (by serial) needs one.
     */
    reboot(hostUuid: string, options?: RebootOptions): Promise<RebootReport>;
  };
  state(): SimulatorState;
}

export class ControlError extends Error {
  override name = "ControlError";
}

function stringMap(value: unknown): Record<string, string> {
  if (!isStruct(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, asText(entry)]));
}

export function snapshotState(world: World): SimulatorState {
  const { db } = world;
  return {
    host: { ref: world.host, uuid: db.str(world.host, "uuid"), nameLabel: db.str(world.host, "name_label") },
    hosts: world.hosts.map((host) => ({
      ref: host.ref,
      uuid: db.str(host.ref, "uuid"),
      nameLabel: db.str(host.ref, "name_label"),
      isMaster: host.ref === world.host,
      removableSr: host.removableSr,
    })),
    vms: db.refs("VM").map((ref) => ({
      ref,
      uuid: db.str(ref, "uuid"),
      nameLabel: db.str(ref, "name_label"),
      powerState: db.str(ref, "power_state"),
      isControlDomain: db.bool(ref, "is_control_domain"),
      residentOn: db.str(ref, "resident_on"),
      affinity: db.str(ref, "affinity"),
    })),
    srs: db.refs("SR").map((ref) => ({
      ref,
      uuid: db.str(ref, "uuid"),
      nameLabel: db.str(ref, "name_label"),
      type: db.str(ref, "type"),
    })),
    vdis: db.refs("VDI").map((ref) => ({
      ref,
      uuid: db.str(ref, "uuid"),
      nameLabel: db.str(ref, "name_label"),
      sr: db.str(ref, "SR"),
      location: db.str(ref, "location"),
      virtualSize: Number(db.field(ref, "virtual_size")),
    })),
    vbds: db.refs("VBD").map((ref) => ({
      ref,
      uuid: db.str(ref, "uuid"),
      vm: db.str(ref, "VM"),
      vdi: db.str(ref, "VDI"),
      userdevice: db.str(ref, "userdevice"),
      device: db.str(ref, "device"),
      currentlyAttached: db.bool(ref, "currently_attached"),
      otherConfig: stringMap(db.field(ref, "other_config")),
    })),
    pusbs: db.refs("PUSB").map((ref) => ({
      ref,
      uuid: db.str(ref, "uuid"),
      host: db.str(ref, "host"),
      path: db.str(ref, "path"),
      usbGroup: db.str(ref, "USB_group"),
      passthroughEnabled: db.bool(ref, "passthrough_enabled"),
      otherConfig: stringMap(db.field(ref, "other_config")),
    })),
    vusbs: db.refs("VUSB").map((ref) => ({
      ref,
      uuid: db.str(ref, "uuid"),
      vm: db.str(ref, "VM"),
      usbGroup: db.str(ref, "USB_group"),
      currentlyAttached: db.bool(ref, "currently_attached"),
      otherConfig: stringMap(db.field(ref, "other_config")),
    })),
    sessions: db.refs("session").length,
  };
}

export function createControl(
  world: World,
  faults: FaultRules,
  trace: CallTrace,
  profileSlot: { current: ServiceTimeProfile },
  gc: GcTimer,
  reboots: { reboot(hostRef: string, options: RebootOptions): Promise<RebootReport> },
): SimulatorControl {
  const devices = world.devices;
  const rebooting = new Set<string>();
  return {
    faults: {
      add: (rule) => faults.add(rule),
      remove: (id) => faults.remove(id),
      clear: () => faults.clear(),
      list: () => faults.list(),
    },
    profile: {
      get: () => profileSlot.current,
      set(profile) {
        if (typeof profile === "string") {
          const named = profiles[profile];
          if (named === undefined)
            throw new ControlError(`unknown profile "${profile}" (use ${Object.keys(profiles).join(", ")})`);
          profileSlot.current = named;
        } else {
          profileSlot.current = { ...zeroProfile, ...profile };
        }
      },
    },
    drift: driftOperations(world),
    usb: usbControl(world),
    devices: {
      add(entry) {
        if (!(devices instanceof InMemoryDeviceDirectory))
          throw new ControlError("this simulator reads a real device directory: change it there");
        return devices.add(entry);
      },
      remove(name) {
        if (!(devices instanceof InMemoryDeviceDirectory))
          throw new ControlError("this simulator reads a real device directory: change it there");
        return devices.remove(name);
      },
    },
    trace: { get: () => trace.snapshot(), reset: () => trace.reset() },
    gc: {
      run: () => gc.runNow(),
      intervalMs: () => gc.intervalMs,
      setIntervalMs(ms) {
        if (!Number.isFinite(ms) || ms < 0)
          throw new ControlError(`the GC interval must be >= 0 ms, got ${ms}`);
        gc.intervalMs = ms;
      },
    },
    hosts: {
      async reboot(hostUuid, options = {}) {
        const host = world.hosts.find((each) => world.db.str(each.ref, "uuid") === hostUuid);
        if (host === undefined) throw new ControlError(`no host ${hostUuid} in the simulated pool`);
        if (rebooting.has(host.ref)) throw new ControlError(`host ${hostUuid} is already rebooting`);
        rebooting.add(host.ref);
        try {
          return await reboots.reboot(host.ref, options);
        } finally {
          rebooting.delete(host.ref);
        }
      },
    },
    state: () => snapshotState(world),
  };
}

export { DriftError };
