// The boot-time repair for hosts whose storage manager names a VDI by its symlink path without
// resolving it (sm 2.30.8: XCP-ng 8.2, XenServer 8.2 CU1). There a reboot that renames disks
// leaves each VBD on the VDI of the disk's old kernel name: gone (the VM loses the disk) or now
// another disk (two disks that swap names: each VM gets the other's). dom0/boot-repair.ts holds
// the script and the unit; here is what the provider keeps per passthrough (a record the script
// reads), where the pieces live, and how a look at the host is judged. Pure.
import type { DiskIdentity } from "./inputs.js";
import { diskIdentityParts } from "./identity.js";
import { printfEscaped } from "./printf-escape.js";
import { ruleSlug, udevWwn } from "./rule.js";

/** The unit systemd runs once at boot, after xapi's init and before VMs auto-start. */
export const BOOT_REPAIR_UNIT_NAME = "xen-passthrough-boot-repair.service";
export const BOOT_REPAIR_UNIT = `/etc/systemd/system/${BOOT_REPAIR_UNIT_NAME}`;
/** Enables the unit the way `systemctl enable` would, without systemctl (systemd reads it at boot). */
export const BOOT_REPAIR_WANTS = `/etc/systemd/system/multi-user.target.wants/${BOOT_REPAIR_UNIT_NAME}`;
export const BOOT_REPAIR_SCRIPT_PATH = "/opt/xen-passthrough/boot-repair";
/** One record per passthrough of this host, named by the rule's slug: what the script repairs. */
export const BOOT_REPAIR_RECORDS_DIR = "/etc/xen-passthrough/boot-repair";
/** The script's own state: VBDs it destroyed and has yet to re-create, and per-record failures. */
export const BOOT_REPAIR_STATE_DIR = "/var/lib/xen-passthrough/boot-repair";
export const BOOT_REPAIR_LOG = "/var/log/xen-passthrough-boot-repair.log";
/** Where the boot repair's pieces live on dom0, by what they are. */
export const BOOT_REPAIR_FILES = {
  unit: BOOT_REPAIR_UNIT,
  wants: BOOT_REPAIR_WANTS,
  script: BOOT_REPAIR_SCRIPT_PATH,
  records: BOOT_REPAIR_RECORDS_DIR,
  state: BOOT_REPAIR_STATE_DIR,
} as const;
/** The first line of the script and of the unit starts so; the rest is their version marker. */
export const BOOT_REPAIR_MARKER_PREFIX = "# xen-passthrough boot-repair ";

/**
 * How the script tells the disk a record names, the same conditions as the rule's
 * (rule.ts ruleSelectsDisk): "E:KEY=value" a udev property, "L:path" one of its DEVLINKS,
 * "K:name" its kernel name. The values passed the inputs' patterns: no blanks, no quotes.
 */
export function identityMatchers(identity: DiskIdentity): string[] {
  const { kind, value } = diskIdentityParts(identity);
  switch (kind) {
    case "serial":
      return [`E:ID_SERIAL_SHORT=${value}`, `E:ID_SERIAL=${value}`];
    case "wwn":
      return [`E:ID_WWN=${udevWwn(value)}`, `E:ID_WWN_WITH_EXTENSION=${udevWwn(value)}`];
    case "byId":
      return [`L:/dev/disk/by-id/${value}`];
    case "kernelName":
      return [`K:${value}`];
  }
}

/** Path of a passthrough's record. */
export function bootRepairRecordPath(identity: DiskIdentity): string {
  return `${BOOT_REPAIR_RECORDS_DIR}/${ruleSlug(identity)}`;
}

/** A record's name, from its path: the rule's slug. */
export function recordNameOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * The VBD a record re-creates when XAPI has already removed it at boot (the udev SR's boot scan
 * forgets the old name's VDI, then the database GC destroys the VBD): the VM's uuid and the
 * inputs' userdevice ("autodetect": the first free slot then), mode and bootable.
 */
export interface BootRepairVbd {
  readonly vmUuid: string;
  readonly userdevice: string;
  readonly mode: "RW" | "RO";
  readonly bootable: boolean;
}

/**
 * A passthrough's record: the tag its VBDs carry (xapi/vbd.ts VBD_TAG_KEY), the owner to tag a
 * re-created VBD with (printf %b escaped: it may hold blanks), the VBD to re-create (when the VM
 * is known) and the matchers of its disk. Same inputs, same bytes.
 */
export function renderBootRepairRecord(
  identity: DiskIdentity,
  vbd: { readonly tag: string; readonly owner: string; readonly vbd?: BootRepairVbd | undefined },
): { readonly path: string; readonly text: string } {
  const wanted = vbd.vbd;
  const lines = [
    "# xen-passthrough boot-repair record: written by `pulumi up`, removed by `pulumi destroy`.",
    `tag ${vbd.tag}`,
    `owner ${printfEscaped(vbd.owner)}`,
    // The values passed the inputs' patterns (uuid, device number, RO|RW): no blanks.
    ...(wanted === undefined
      ? []
      : [`vbd ${wanted.vmUuid} ${wanted.userdevice} ${wanted.mode} ${String(wanted.bootable)}`]),
    ...identityMatchers(identity).map((matcher) => `match ${matcher}`),
  ];
  return { path: bootRepairRecordPath(identity), text: `${lines.join("\n")}\n` };
}

/** What dom0's inventory found of the boot repair (core/dom0-inventory.ts). */
export interface BootRepairFound {
  /** Version markers of the installed unit and script ("" when the file is missing). */
  readonly unitMarker: string;
  readonly scriptMarker: string;
  /** The unit is enabled: the wants symlink points at it. */
  readonly enabled: boolean;
  /** Records by name (the rule slug) -> content. */
  readonly records: ReadonlyMap<string, string>;
  /** Records whose repair failed at the last boot -> the script's reason. */
  readonly failures: ReadonlyMap<string, string>;
}

export const NO_BOOT_REPAIR: BootRepairFound = {
  unitMarker: "",
  scriptMarker: "",
  enabled: false,
  records: new Map(),
  failures: new Map(),
};

/**
 * The boot repair as one resource sees it. "notNeeded": the host resolves symlinks;
 * "missing": the unit, its enabling link, the script or this passthrough's record is absent;
 * "outdated": present, but not what this version writes.
 */
export type BootRepairStatus = "ok" | "missing" | "outdated" | "notNeeded";

/** The boot repair as one passthrough's view holds it (core/host-view.ts). */
export interface BootRepairFacts {
  readonly status: BootRepairStatus;
  /** The unit (enabled) and the script are this version's. */
  readonly hostCurrent: boolean;
  /** Any piece of the unit, its link or the script is on the host. */
  readonly installed: boolean;
  /** This passthrough's record as this version writes it, and whether one is on the host. */
  readonly record: { readonly path: string; readonly text: string };
  readonly recordPresent: boolean;
  /** Why the repair of this passthrough failed at the last boot (undefined: it did not). */
  readonly failure: string | undefined;
}

/**
 * Judges what the inventory found against what this version writes (`marker`, from
 * dom0/boot-repair.ts). `needed`: the host's storage manager does not resolve symlinks.
 */
export function bootRepairFacts(
  found: BootRepairFound,
  options: {
    readonly needed: boolean;
    readonly marker: string;
    readonly identity: DiskIdentity;
    readonly tag: string;
    readonly owner: string;
    readonly vbd?: BootRepairVbd | undefined;
  },
): BootRepairFacts {
  const record = renderBootRepairRecord(options.identity, options);
  const name = record.path.slice(record.path.lastIndexOf("/") + 1);
  const recorded = found.records.get(name);
  const complete = found.unitMarker !== "" && found.scriptMarker !== "" && found.enabled;
  const hostCurrent =
    complete && found.unitMarker === options.marker && found.scriptMarker === options.marker;
  const status: BootRepairStatus = !options.needed
    ? "notNeeded"
    : !complete || recorded === undefined
      ? "missing"
      : !hostCurrent || recorded !== record.text
        ? "outdated"
        : "ok";
  return {
    status,
    hostCurrent,
    installed: found.unitMarker !== "" || found.scriptMarker !== "" || found.enabled,
    record,
    recordPresent: recorded !== undefined,
    failure: found.failures.get(name),
  };
}
