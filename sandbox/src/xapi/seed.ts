import type { Database } from "./database";
import { createHostMetrics, createVmMetrics } from "./classes/metrics";
import { DEFAULT_USB_DEVICE } from "./classes/usb-policy";
import type { UsbDevice } from "./classes/usb-policy";
import { scanHostUsb } from "./classes/usb-scan";
import { guestVmFields, reportGuestMetrics } from "./classes/vm-guest-metrics";
import type { GuestKind } from "./classes/vm-guest-metrics";
import { UDEV_BLOCK_DIRECTORY } from "./devices";
import type { Outcome } from "./faults";
import { createVbd } from "./classes/vbd";
import { introduceVdiDbOnly } from "./classes/vdi";
import { startVmOn } from "./classes/vm";
import { NULL_REF, newUuid } from "./values";
import type { XapiValue } from "./values";
import type { World } from "./world";

/** The guests a simulator starts with (plus each host's control domain, always present). */
export interface ModelOptions {
  /**
   * `host`: index of the pool host the guest belongs to (master = 0, the default): a Running
   * guest is resident there, and in a standalone host its system disk is on that host's local SR.
   * `affinity`: index of the host it prefers to start on (VM.affinity), none by default.
   * `guest`: HVM or PV, with or without PV drivers; default "hvm" (HVM with the guest agent's drivers).
   */
  vms?: Array<{
    nameLabel: string;
    powerState: "Running" | "Halted";
    host?: number;
    affinity?: number;
    guest?: GuestKind;
  }>;
  /**
   * The USB devices plugged into each pool host (index as for `vms`); a host without an entry
   * has none, except the master, which has DEFAULT_USB_DEVICE (a Zigbee coordinator) by default.
   */
  usbDevices?: UsbDevice[][];
}

/** The USB devices host `index` starts with (a copy: the control surface changes it). */
export function hostUsbDevices(model: ModelOptions, index: number): UsbDevice[] {
  return [...(model.usbDevices?.[index] ?? (index === 0 ? [DEFAULT_USB_DEVICE] : []))];
}

export const DEFAULT_VMS: NonNullable<ModelOptions["vms"]> = [
  { nameLabel: "media-server", powerState: "Running" },
  { nameLabel: "archive", powerState: "Halted" },
];

/** A pool's default guests: the standalone ones on the master, plus one Running guest per member. */
export function defaultPoolVms(hosts: readonly HostIdentity[]): NonNullable<ModelOptions["vms"]> {
  return [
    ...DEFAULT_VMS,
    ...hosts.slice(1).map((host, index) => ({
      nameLabel: `guest-on-${host.nameLabel}`,
      powerState: "Running" as const,
      host: index + 1,
    })),
  ];
}

/** The well-known objects of a seeded host. */
export interface SeededHost {
  pool: string;
  host: string;
  controlDomain: string;
  localSr: string;
  removableSr: string;
  dvdSr: string;
  guests: string[];
}

/** The well-known objects of a seeded pool: every host, master first. */
export interface SeededPool {
  pool: string;
  hosts: SeededHost[];
  /** The NFS SR every host of a pool (2 hosts or more) reaches; guests' system disks live there. */
  sharedSr: string | undefined;
  /** The guests seeded Running, each with its host: started by startSeededGuests. */
  toStart: Array<{ vm: string; host: string }>;
}

export interface HostIdentity {
  uuid: string;
  nameLabel: string;
}

const GiB = 1024 ** 3;

/** An SR with one attached PBD per host that reaches it. */
function addSr(
  db: Database,
  hosts: readonly string[],
  fields: {
    name_label: string;
    type: string;
    content_type: string;
    sm_config: Record<string, string>;
    name_description?: string;
    other_config?: Record<string, string>;
  },
  location: string,
  shared = false,
): string {
  const sr = db.create("SR", { name_description: "", ...fields, shared });
  for (const host of hosts) {
    db.create("PBD", {
      host,
      SR: sr,
      device_config: location === "" ? {} : { location },
      currently_attached: true,
    });
  }
  return sr;
}

/**
 * Seeds a standalone XCP-ng-like host: pool, host, dom0, the three stock SRs with their PBDs,
 * and the guests, each with a system disk on local storage as userdevice 0 (attached if running).
 */
export function seedHost(db: Database, host: HostIdentity, model: ModelOptions): SeededHost {
  const seeded = seedPool(db, [host], model).hosts[0];
  if (seeded === undefined) throw new Error("seedPool returned no host");
  return seeded;
}

/** A host's own objects: the host, its control domain and its three stock SRs (PBDs on it only). */
function seedHostObjects(db: Database, pool: string, host: HostIdentity): Omit<SeededHost, "guests"> {
  const hostRef = db.create("host", {
    uuid: host.uuid,
    name_label: host.nameLabel,
    hostname: host.nameLabel,
  });
  const controlDomain = db.create("VM", {
    name_label: `Control domain on host: ${host.nameLabel}`,
    is_control_domain: true,
    power_state: "Running",
    resident_on: hostRef,
    domid: 0,
    domain_type: "pv",
    HVM_boot_policy: "",
  });
  db.update(hostRef, { control_domain: controlDomain });
  createHostMetrics(db, hostRef);
  createVmMetrics(db, controlDomain);
  // The stock SRs as sm's first-boot `scripts/storage-init` makes them (xapi-project/sm
  // tests/test_storage_init.py lists its calls): the i18n other_config keys, the DVD SR's
  // description, and the host's crash-dump and suspend-image SRs pointed at local storage.
  const i18n = (key: string, nameLabel: string) => ({
    "i18n-key": key,
    "i18n-original-value-name_label": nameLabel,
  });
  const localSr = addSr(
    db,
    [hostRef],
    {
      name_label: "Local storage",
      type: "lvm",
      content_type: "user",
      sm_config: { allocation: "thick" },
      other_config: i18n("local-storage", "Local storage"),
    },
    "",
  );
  const removableSr = addSr(
    db,
    [hostRef],
    {
      name_label: "Removable storage",
      type: "udev",
      content_type: "disk",
      sm_config: { type: "block" },
      other_config: i18n("local-hotplug-disk", "Removable storage"),
    },
    UDEV_BLOCK_DIRECTORY,
  );
  const dvdSr = addSr(
    db,
    [hostRef],
    {
      name_label: "DVD drives",
      name_description: "Physical DVD drives",
      type: "udev",
      content_type: "iso",
      sm_config: { type: "cd" },
      other_config: {
        ...i18n("local-hotplug-cd", "DVD drives"),
        "i18n-original-value-name_description": "Physical DVD drives",
      },
    },
    "/dev/xapi/cd",
  );
  db.update(hostRef, { suspend_image_sr: localSr, crash_dump_sr: localSr });
  return { pool, host: hostRef, controlDomain, localSr, removableSr, dvdSr };
}

/**
 * Seeds a pool of `hosts` (master first), each with its own dom0 and stock SRs. With two hosts or
 * more, a shared NFS SR reaches every host and holds the guests' system disks (our choice: it is
 * the common homelab shape, and it lets VM.start choose among hosts); a standalone host keeps them
 * on its local SR.
 */
export function seedPool(db: Database, hosts: readonly HostIdentity[], model: ModelOptions): SeededPool {
  const pool = db.create("pool", {});
  const seeded = hosts.map((host) => seedHostObjects(db, pool, host));
  const master = seeded[0];
  if (master === undefined) throw new Error("a pool needs at least one host");
  const hostRefs = seeded.map((host) => host.host);
  const sharedSr =
    seeded.length > 1
      ? addSr(
          db,
          hostRefs,
          { name_label: "Shared storage", type: "nfs", content_type: "user", sm_config: {} },
          "",
          true,
        )
      : undefined;
  db.update(pool, {
    master: master.host,
    default_SR: sharedSr ?? master.localSr,
    suspend_image_SR: sharedSr ?? master.localSr,
    crash_dump_SR: sharedSr ?? master.localSr,
  });

  const hostAt = (index: number | undefined, what: string): Omit<SeededHost, "guests"> => {
    const host = seeded[index ?? 0];
    if (host === undefined) throw new Error(`${what} names host ${index}, but the pool has ${seeded.length}`);
    return host;
  };
  // XAPI's start-up scan (xapi.ml starts the "PUSB scanning" thread, which scans once at once).
  seeded.forEach((host, index) => scanHostUsb(db, host.host, hostUsbDevices(model, index)));
  // Guests go through the classes' own create paths (a VM record is made Halted: VM.create is not
  // modelled); the Running ones are started by the simulator once its world exists (startSeededGuests).
  const guests = (model.vms ?? defaultPoolVms(hosts)).map(
    ({ nameLabel, powerState, host, affinity, guest = "hvm" }) => {
      const home = hostAt(host, `guest "${nameLabel}"`);
      const vm = db.create("VM", {
        name_label: nameLabel,
        power_state: "Halted",
        affinity: affinity === undefined ? NULL_REF : hostAt(affinity, `affinity of "${nameLabel}"`).host,
        ...guestVmFields(guest),
      });
      reportGuestMetrics(db, vm, guest);
      createVmMetrics(db, vm);
      // sm's VDI.__init__ (libs/sm/VDI.py) gives a VDI of an LVM or NFS SR its own uuid as location.
      const uuid = newUuid();
      const disk = accepted(
        introduceVdiDbOnly(db, {
          uuid,
          name_label: `${nameLabel} system disk`,
          SR: sharedSr ?? home.localSr,
          location: uuid,
          virtual_size: 20 * GiB,
          physical_utilisation: 20 * GiB,
        }),
        `the system disk of guest "${nameLabel}"`,
      );
      accepted(
        createVbd(db, {
          VM: vm,
          VDI: disk,
          userdevice: "0",
          bootable: true,
          mode: "RW",
          type: "Disk",
          empty: false,
          other_config: {},
          qos_algorithm_type: "",
          qos_algorithm_params: {},
        }),
        `the system disk's VBD of guest "${nameLabel}"`,
      );
      return { vm, host: home.host, running: powerState === "Running" };
    },
  );
  return {
    pool,
    hosts: seeded.map((host) => ({
      ...host,
      guests: guests.filter((guest) => guest.host === host.host).map((guest) => guest.vm),
    })),
    sharedSr,
    toStart: guests.filter((guest) => guest.running),
  };
}

/** The value of a call the seed makes through a class's own path; a refusal is a seeding bug. */
export function accepted(outcome: Outcome<XapiValue>, what: string): string {
  if (!outcome.ok)
    throw new Error(
      `seeding ${what} failed: XAPI refuses it (${[outcome.fault.code, ...outcome.fault.params].join(" ")})`,
    );
  return typeof outcome.value === "string" ? outcome.value : JSON.stringify(outcome.value);
}

/** Starts the seeded Running guests on their hosts through VM.start_on's own path. */
export async function startSeededGuests(world: World, seeded: SeededPool): Promise<void> {
  for (const { vm, host } of seeded.toStart)
    accepted(await startVmOn(world, vm, host, false), `the start of guest ${world.db.str(vm, "name_label")}`);
}
