// Which `disk:` identity to paste into a program for one disk: the most stable name that the
// provider accepts (core/patterns.ts) and that selects this disk alone on the host (the same
// matching the rule uses, core/rule.ts). Serial first (printed on the drive's label), then WWN,
// then a /dev/disk/by-id name, and the kernel name only as a last resort, with a warning.
import type { Dom0Disk, Dom0Inventory } from "../core/dom0-inventory.js";
import { resolveDisk } from "../core/dom0-inventory.js";
import type { DiskIdentity } from "../core/inputs.js";
import { ALLOW } from "../core/patterns.js";

export interface SuggestedIdentity {
  readonly identity: DiskIdentity;
  /** Set when only the kernel name is left: it may change at the next boot. */
  readonly warning?: string;
}

/** by-id names built from the drive itself come before names that repeat the WWN or the path. */
const BY_ID_PREFERENCE = ["ata-", "nvme-", "scsi-", "usb-", "virtio-"];

export function suggestIdentity(inventory: Dom0Inventory, disk: Dom0Disk): SuggestedIdentity {
  const p = disk.properties;
  const candidates: DiskIdentity[] = [
    ...[p["ID_SERIAL_SHORT"], p["ID_SERIAL"]]
      .filter((value): value is string => value !== undefined && ALLOW.serial.pattern.test(value))
      .map((serial) => ({ serial })),
    ...[p["ID_WWN"], p["ID_WWN_WITH_EXTENSION"]]
      .filter((value): value is string => value !== undefined && ALLOW.wwn.pattern.test(value))
      .map((wwn) => ({ wwn })),
    ...byIdNames(disk)
      .filter((name) => ALLOW.byId.pattern.test(name))
      .map((byId) => ({ byId })),
  ];
  const unique = candidates.find((identity) => selectsOnly(inventory, identity, disk));
  if (unique !== undefined) return { identity: unique };
  const why =
    candidates.length === 0
      ? "udev reports no serial, WWN or /dev/disk/by-id name for it"
      : "its serial, WWN and by-id names are shared with another disk";
  return {
    identity: { kernelName: disk.kernelName },
    warning: `${why}: the kernel name ${disk.kernelName} can change at the next boot, and the passthrough would then follow whichever disk gets that name`,
  };
}

/** The disk's /dev/disk/by-id names (file names), drive-made names first. */
export function byIdNames(disk: Dom0Disk): string[] {
  const names = disk.links
    .filter((link) => link.startsWith("/dev/disk/by-id/"))
    .map((link) => link.slice("/dev/disk/by-id/".length));
  const rank = (name: string) => {
    const index = BY_ID_PREFERENCE.findIndex((prefix) => name.startsWith(prefix));
    return index === -1 ? BY_ID_PREFERENCE.length : index;
  };
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function selectsOnly(inventory: Dom0Inventory, identity: DiskIdentity, disk: Dom0Disk): boolean {
  const resolution = resolveDisk(inventory, identity);
  return resolution.ok && resolution.disk.kernelName === disk.kernelName;
}
