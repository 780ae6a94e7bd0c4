import type { Database } from "./database";
import { guestVmFields, reportGuestMetrics } from "./classes/vm-guest-metrics";
import type { GuestKind } from "./classes/vm-guest-metrics";
import { UDEV_BLOCK_DIRECTORY } from "./devices";

/** The guests a simulator starts with (plus dom0's control domain, always present). */
export interface ModelOptions {
  vms?: Array<{
    nameLabel: string;
    powerState: "Running" | "Halted";
    /** HVM or PV, with or without PV drivers; default "hvm" (HVM with the guest agent's drivers). */
    guest?: GuestKind;
  }>;
}

export const DEFAULT_VMS: NonNullable<ModelOptions["vms"]> = [
  { nameLabel: "media-server", powerState: "Running" },
  { nameLabel: "archive", powerState: "Halted" },
];

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

const GiB = 1024 ** 3;

function addSr(
  db: Database,
  host: string,
  fields: { name_label: string; type: string; content_type: string; sm_config: Record<string, string> },
  location: string,
): string {
  const sr = db.create("SR", { ...fields, name_description: "" });
  db.create("PBD", {
    host,
    SR: sr,
    device_config: location === "" ? {} : { location },
    currently_attached: true,
  });
  return sr;
}

/**
 * Seeds a standalone XCP-ng-like host: pool, host, dom0, the three stock SRs with their PBDs,
 * and the guests, each with a system disk on local storage as userdevice 0 (attached if running).
 */
export function seedHost(
  db: Database,
  host: { uuid: string; nameLabel: string },
  model: ModelOptions,
): SeededHost {
  const hostRef = db.create("host", {
    uuid: host.uuid,
    name_label: host.nameLabel,
    hostname: host.nameLabel,
  });
  const pool = db.create("pool", { master: hostRef });
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
  const localSr = addSr(
    db,
    hostRef,
    { name_label: "Local storage", type: "lvm", content_type: "user", sm_config: { allocation: "thick" } },
    "",
  );
  const removableSr = addSr(
    db,
    hostRef,
    { name_label: "Removable storage", type: "udev", content_type: "disk", sm_config: { type: "block" } },
    UDEV_BLOCK_DIRECTORY,
  );
  const dvdSr = addSr(
    db,
    hostRef,
    { name_label: "DVD drives", type: "udev", content_type: "iso", sm_config: { type: "cd" } },
    "/dev/xapi/cd",
  );
  db.update(pool, { default_SR: localSr, suspend_image_SR: localSr, crash_dump_SR: localSr });

  let domid = 1;
  const guests = (model.vms ?? DEFAULT_VMS).map(({ nameLabel, powerState, guest = "hvm" }) => {
    const running = powerState === "Running";
    const vm = db.create("VM", {
      name_label: nameLabel,
      power_state: powerState,
      resident_on: running ? hostRef : "OpaqueRef:NULL",
      domid: running ? domid++ : -1,
      ...guestVmFields(guest),
    });
    reportGuestMetrics(db, vm, guest);
    const disk = db.create("VDI", {
      name_label: `${nameLabel} system disk`,
      SR: localSr,
      location: db.str(vm, "uuid"),
      virtual_size: 20 * GiB,
      physical_utilisation: 20 * GiB,
    });
    db.create("VBD", {
      VM: vm,
      VDI: disk,
      userdevice: "0",
      device: running ? "xvda" : "",
      bootable: true,
      currently_attached: running,
    });
    return vm;
  });
  return { pool, host: hostRef, controlDomain, localSr, removableSr, dvdSr, guests };
}
