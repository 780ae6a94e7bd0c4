/** The ATA-like identity the fixture rule gives one loop disk. */
export interface DiskIdentity {
  /** Position in the sandbox (0-based); also picks the model and the size. */
  index: number;
  model: string;
  /** ID_SERIAL_SHORT: the drive's own serial number. */
  serial: string;
  /** ID_SERIAL: "<model>_<serial>", as udev builds it for ATA disks. */
  idSerial: string;
  /** ID_WWN: "0x5000c500" + 8 hex digits (Seagate's NAA prefix). */
  wwn: string;
  /** /dev/disk/by-id/ata-<ID_SERIAL> */
  byId: string;
  /** /dev/disk/by-id/wwn-<ID_WWN> */
  byWwn: string;
  sizeBytes: number;
  /** The one disk dom0 has formatted and mounted. */
  inUse: boolean;
}

const MODELS = ["ST2000DM008-2FR102", "ST4000VN008-2DR166", "WDC_WD20EFRX-68EUZN0", "ST1000LM048-2E7172"];
const MIB = 1024 * 1024;
const BASE_SIZE_MIB = 64;
const SIZE_STEP_MIB = 16;

/**
 * Pure: the identity of disk `index`. `batch` (a few hex digits, random per sandbox) keeps
 * serials and WWNs unique across sandboxes running at once on one machine.
 */
export function diskIdentity(index: number, batch: string, inUse: boolean): DiskIdentity {
  const model = MODELS[index % MODELS.length] ?? "ST2000DM008-2FR102";
  const serial = `ZS${batch.toUpperCase()}${index.toString(16).toUpperCase().padStart(2, "0")}`;
  const idSerial = `${model}_${serial}`;
  const wwn = `0x5000c500${batch.toLowerCase()}${index.toString(16).padStart(2, "0")}`.slice(0, 18);
  return {
    index,
    model,
    serial,
    idSerial,
    wwn,
    byId: `/dev/disk/by-id/ata-${idSerial}`,
    byWwn: `/dev/disk/by-id/wwn-${wwn}`,
    sizeBytes: (BASE_SIZE_MIB + SIZE_STEP_MIB * index) * MIB,
    inUse,
  };
}

/** Pure: the identities of `count` free disks followed by the one in-use disk. */
export function diskIdentities(count: number, batch: string): DiskIdentity[] {
  const disks = Array.from({ length: count }, (_, index) => diskIdentity(index, batch, false));
  disks.push(diskIdentity(count, batch, true));
  return disks;
}

/**
 * Pure: the fixture rule that makes each loop disk look like a SATA disk to udev. It matches
 * the loop device by its backing file (the kernel name changes, the file does not) and runs
 * early, so later rules (the stock ones, and passthrough rules under test) see the identity.
 */
export function renderFixtureRules(disks: readonly { identity: DiskIdentity; imagePath: string }[]): string {
  const lines = [
    "# xen-sandbox fixture: loop disks dressed as SATA disks (ID_BUS=ata, serial, WWN, by-id links).",
    'SUBSYSTEM!="block", GOTO="xen_sandbox_fixture_end"',
    'KERNEL!="loop*", GOTO="xen_sandbox_fixture_end"',
    'ENV{DEVTYPE}!="disk", GOTO="xen_sandbox_fixture_end"',
  ];
  for (const { identity, imagePath } of disks) {
    lines.push(
      `ATTR{loop/backing_file}=="${imagePath}", ENV{ID_BUS}="ata", ENV{ID_TYPE}="disk", ` +
        `ENV{ID_MODEL}="${identity.model}", ENV{ID_SERIAL_SHORT}="${identity.serial}", ` +
        `ENV{ID_SERIAL}="${identity.idSerial}", ENV{ID_WWN}="${identity.wwn}", ` +
        `ENV{ID_WWN_WITH_EXTENSION}="${identity.wwn}", ENV{ID_XEN_SANDBOX_DISK}="${identity.index}", ` +
        `SYMLINK+="disk/by-id/ata-${identity.idSerial}"`,
    );
  }
  lines.push('LABEL="xen_sandbox_fixture_end"');
  return `${lines.join("\n")}\n`;
}

/** The fixture rule's file name: early, so that every rule with a higher number sees the identity. */
export const FIXTURE_RULES_PATH = "/etc/udev/rules.d/10-xen-sandbox-fixture.rules";
