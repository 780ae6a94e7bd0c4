import { SandboxError } from "./errors";

/**
 * The bus a sandbox disk pretends to sit on, which decides the udev properties it gets:
 * - "sata": what ata_id gives an ATA disk (the default);
 * - "sas": what scsi_id gives a SAS disk on dom0's CentOS 7 (systemd 219);
 * - "nvme-centos7": nothing at all, as on dom0's CentOS 7, whose stock 60-persistent-storage.rules
 *   (systemd 219) has no NVMe lines: no ID_SERIAL, no ID_WWN, no by-id link.
 */
export type DiskBus = "sata" | "sas" | "nvme-centos7";

export const DISK_BUSES: readonly DiskBus[] = ["sata", "sas", "nvme-centos7"];

/** Refuses a bus list with an unknown name (from JavaScript callers), before anything starts. */
export function checkDiskBuses(buses: readonly string[]): readonly DiskBus[] {
  const unknown = buses.filter((bus) => !(DISK_BUSES as readonly string[]).includes(bus));
  if (unknown.length > 0) {
    throw new SandboxError(
      "OPTION_INVALID",
      { diskBuses: unknown.join(",") },
      `cannot start the sandbox: unknown disk bus ${unknown.map((bus) => `"${bus}"`).join(", ")} in diskBuses; use ${DISK_BUSES.map((bus) => `"${bus}"`).join(", ")}`,
    );
  }
  return buses as readonly DiskBus[];
}

/** The identity the fixture rule gives one loop disk. */
export interface DiskIdentity {
  /** Position in the sandbox (0-based); also picks the model and the size. */
  index: number;
  bus: DiskBus;
  model: string;
  /**
   * The serial on the drive's label: ID_SERIAL_SHORT for SATA, ID_SCSI_SERIAL (VPD page 0x80)
   * for SAS, no property for NVMe on CentOS 7. The sandbox's handle for the disk on every bus.
   */
  serial: string;
  /**
   * ID_SERIAL: "<model>_<serial>" for SATA (ata_id), "3" + the NAA id for SAS (scsi_id's page-83
   * id, "3" being the designator type), "" for NVMe on CentOS 7.
   */
  idSerial: string;
  /** ID_SERIAL_SHORT as udev sets it: the label serial (SATA), the NAA id (SAS), "" (NVMe). */
  idSerialShort: string;
  /** ID_WWN: "0x5000c500" + 8 hex digits (Seagate's NAA prefix); "" for NVMe on CentOS 7. */
  wwn: string;
  /** /dev/disk/by-id/ata-<ID_SERIAL> or scsi-<ID_SERIAL>; "" for NVMe on CentOS 7. */
  byId: string;
  /** /dev/disk/by-id/wwn-<ID_WWN>; "" for NVMe on CentOS 7. */
  byWwn: string;
  sizeBytes: number;
  /** The one disk dom0 has formatted and mounted. */
  inUse: boolean;
}

const MODELS: Record<DiskBus, readonly string[]> = {
  sata: ["ST2000DM008-2FR102", "ST4000VN008-2DR166", "WDC_WD20EFRX-68EUZN0", "ST1000LM048-2E7172"],
  sas: ["ST1200MM0009", "ST4000NM0025"],
  "nvme-centos7": ["Samsung_SSD_970_EVO_Plus_1TB"],
};

/** Label-serial prefixes, one per bus, so serials stay unique whatever the buses. */
const SERIAL_PREFIX: Record<DiskBus, string> = { sata: "ZS", sas: "ZC", "nvme-centos7": "S4" };
const MIB = 1024 * 1024;
const BASE_SIZE_MIB = 64;
const SIZE_STEP_MIB = 16;

/**
 * Pure: the identity of disk `index` on `bus`. `batch` (a few hex digits, random per sandbox)
 * keeps serials and WWNs unique across sandboxes running at once on one machine.
 */
export function diskIdentity(
  index: number,
  batch: string,
  inUse: boolean,
  bus: DiskBus = "sata",
): DiskIdentity {
  const models = MODELS[bus];
  const model = models[index % models.length] ?? "ST2000DM008-2FR102";
  const serial = `${SERIAL_PREFIX[bus]}${batch.toUpperCase()}${index.toString(16).toUpperCase().padStart(2, "0")}`;
  // A NAA type 5 id (IEEE registered): 16 hex digits, Seagate's company id.
  const naa = `5000c500${batch.toLowerCase()}${index.toString(16).padStart(2, "0")}`.slice(0, 16);
  const sizeBytes = (BASE_SIZE_MIB + SIZE_STEP_MIB * index) * MIB;
  const common = { index, bus, model, serial, sizeBytes, inUse };
  switch (bus) {
    case "sata":
      return {
        ...common,
        idSerial: `${model}_${serial}`,
        idSerialShort: serial,
        wwn: `0x${naa}`,
        byId: `/dev/disk/by-id/ata-${model}_${serial}`,
        byWwn: `/dev/disk/by-id/wwn-0x${naa}`,
      };
    case "sas":
      return {
        ...common,
        idSerial: `3${naa}`,
        idSerialShort: naa,
        wwn: `0x${naa}`,
        byId: `/dev/disk/by-id/scsi-3${naa}`,
        byWwn: `/dev/disk/by-id/wwn-0x${naa}`,
      };
    case "nvme-centos7":
      return { ...common, idSerial: "", idSerialShort: "", wwn: "", byId: "", byWwn: "" };
  }
}

/**
 * Pure: the identities of `count` free disks followed by the one in-use disk (always SATA).
 * Free disk i sits on `buses[i]`, SATA past the list's end.
 */
export function diskIdentities(count: number, batch: string, buses: readonly DiskBus[] = []): DiskIdentity[] {
  const disks = Array.from({ length: count }, (_, index) => diskIdentity(index, batch, false, buses[index]));
  disks.push(diskIdentity(count, batch, true));
  return disks;
}

/** Pure: the udev assignments that dress one loop disk for its bus (none for NVMe on CentOS 7). */
function dressing(identity: DiskIdentity): string[] {
  switch (identity.bus) {
    // ata_id's export (systemd src/udev/ata_id), plus the by-id link the stock rules make for sd*.
    case "sata":
      return [
        'ENV{ID_BUS}="ata"',
        'ENV{ID_TYPE}="disk"',
        `ENV{ID_MODEL}="${identity.model}"`,
        `ENV{ID_SERIAL_SHORT}="${identity.idSerialShort}"`,
        `ENV{ID_SERIAL}="${identity.idSerial}"`,
        `ENV{ID_WWN}="${identity.wwn}"`,
        `ENV{ID_WWN_WITH_EXTENSION}="${identity.wwn}"`,
        `SYMLINK+="disk/by-id/ata-${identity.idSerial}"`,
      ];
    // `scsi_id --export --whitelisted` (systemd v219 src/udev/scsi_id, scsi_id(8)): ID_SERIAL is
    // the page-83 NAA id with its designator type "3" in front, ID_SERIAL_SHORT the id alone,
    // ID_SCSI_SERIAL the page-0x80 unit serial; v219's 60-persistent-storage.rules then sets
    // ID_BUS="scsi" and links disk/by-id/scsi-$env{ID_SERIAL}. The wwn- link comes from the stock
    // rules' own by-id WWN line, as for SATA.
    case "sas":
      return [
        'ENV{ID_SCSI}="1"',
        'ENV{ID_BUS}="scsi"',
        'ENV{ID_TYPE}="disk"',
        'ENV{ID_VENDOR}="SEAGATE"',
        `ENV{ID_MODEL}="${identity.model}"`,
        `ENV{ID_SERIAL}="${identity.idSerial}"`,
        `ENV{ID_SERIAL_SHORT}="${identity.idSerialShort}"`,
        `ENV{ID_SCSI_SERIAL}="${identity.serial}"`,
        `ENV{ID_WWN}="${identity.wwn}"`,
        `ENV{ID_WWN_WITH_EXTENSION}="${identity.wwn}"`,
        `SYMLINK+="disk/by-id/scsi-${identity.idSerial}"`,
      ];
    // systemd 219's 60-persistent-storage.rules (RHEL 7 / CentOS 7) has no nvme lines at all.
    case "nvme-centos7":
      return [];
  }
}

/**
 * Pure: the fixture rule that gives each loop disk the udev identity of its bus. It matches
 * the loop device by its backing file (the kernel name changes, the file does not) and runs
 * early, so later rules (the stock ones, and passthrough rules under test) see the identity.
 */
export function renderFixtureRules(disks: readonly { identity: DiskIdentity; imagePath: string }[]): string {
  const lines = [
    "# xen-sandbox fixture: loop disks dressed as SATA or SAS disks (ID_BUS, serial, WWN, by-id links),",
    "# or as an NVMe disk on CentOS 7 (no identity properties at all).",
    'SUBSYSTEM!="block", GOTO="xen_sandbox_fixture_end"',
    'KERNEL!="loop*", GOTO="xen_sandbox_fixture_end"',
    'ENV{DEVTYPE}!="disk", GOTO="xen_sandbox_fixture_end"',
  ];
  for (const { identity, imagePath } of disks) {
    const assignments = [...dressing(identity), `ENV{ID_XEN_SANDBOX_DISK}="${identity.index}"`];
    lines.push([`ATTR{loop/backing_file}=="${imagePath}"`, ...assignments].join(", "));
  }
  lines.push('LABEL="xen_sandbox_fixture_end"');
  return `${lines.join("\n")}\n`;
}

/** The fixture rule's file name: early, so that every rule with a higher number sees the identity. */
export const FIXTURE_RULES_PATH = "/etc/udev/rules.d/10-xen-sandbox-fixture.rules";
