/** Disk numbers <-> Linux device names (0 = xvda/hda/sda), as XAPI expands userdevice values. */

const NAME = /^(xvd|hd|sd)([a-p])(\d*)$/;

/** The disk number a userdevice denotes ("1" and "xvdb" both denote 1), or undefined if malformed. */
export function diskNumber(userdevice: string): number | undefined {
  if (/^\d+$/.test(userdevice)) return Number(userdevice);
  const match = NAME.exec(userdevice);
  if (match === null || match[3] !== "") return undefined;
  return (match[2] ?? "a").charCodeAt(0) - "a".charCodeAt(0);
}

/**
 * xen-api `xapi_vbd_helpers.ml` valid_device: "autodetect", any number, or what device_number.ml
 * of_string reads as for a PV guest (xvd/sd/fd/hd + letters + partition, d<n>p<m>).
 */
export function isValidUserdevice(userdevice: string): boolean {
  return userdevice === "autodetect" || /^\d+$/.test(userdevice) || slotOf(userdevice, false) !== undefined;
}

type Bus = "Xen" | "Scsi" | "Floppy" | "Ide";

/** xen-api `device_number.ml` max_of: the largest disk and partition number of each bus. */
const LIMITS: Record<Bus, { disk: number; partition: number }> = {
  Xen: { disk: 2 ** 20 - 1, partition: 15 },
  Scsi: { disk: 15, partition: 15 },
  Floppy: { disk: 2, partition: 0 },
  Ide: { disk: 19, partition: 63 },
};

const PREFIXES: readonly [string, Bus][] = [
  ["xvd", "Xen"],
  ["sd", "Scsi"],
  ["fd", "Floppy"],
  ["hd", "Ide"],
];

/** "a" = 0, "z" = 25, "aa" = 26 ... (device_number.ml of_linux_device's base 26). */
function base26(letters: string): number {
  return [...letters].reduce((n, c) => n * 26 + (c.charCodeAt(0) - 96), 0) - 1;
}

/** xen-api `device_number.ml` of_linux_device: xvd/sd/fd/hd + letters + partition, or d<n>p<m>. */
function ofLinuxDevice(name: string): string | undefined {
  for (const [prefix, bus] of PREFIXES) {
    if (!name.startsWith(prefix)) continue;
    const match = /^([a-z]+)(\d*)$/.exec(name.slice(prefix.length));
    return match === null ? undefined : `${bus}:${base26(match[1] ?? "")}:${Number(match[2] || "0")}`;
  }
  const match = /^d(\d+)(?:p(\d+))?$/.exec(name);
  return match === null ? undefined : `Xen:${Number(match[1])}:${Number(match[2] ?? "0")}`;
}

/**
 * xen-api `device_number.ml` of_string: a number is disk n (on the IDE bus for an HVM guest's first
 * four, else Xen, within the bus's range); anything else is read as a Linux device name. The
 * result is a slot "bus:disk:partition".
 */
function slotOf(name: string, hvm: boolean): string | undefined {
  if (!/^\d+$/.test(name)) return ofLinuxDevice(name);
  const disk = Number(name);
  const bus: Bus = hvm && disk < 4 ? "Ide" : "Xen";
  return disk <= LIMITS[bus].disk ? `${bus}:${disk}:0` : undefined;
}

/**
 * The slots a device string can denote (xen-api `xapi_vm_helpers.ml` possible_VBD_devices_of_string:
 * read both as for an HVM and a PV guest). "1" is Ide:1 and Xen:1, so it clashes with "xvdb" and
 * "hdb"; "sdb" (Scsi:1) clashes with neither; "xvdb1" is a partition, another slot. An empty or
 * malformed string denotes none.
 */
export function deviceSlots(name: string): string[] {
  return [...new Set([slotOf(name, true), slotOf(name, false)].filter((slot) => slot !== undefined))];
}

/**
 * The slots a VM's VBDs take (xen-api `xapi_vm_helpers.ml` all_used_VBD_devices): both the
 * `device` (filled on plug) and the `userdevice` of each count.
 */
export function usedSlots(vbds: readonly { device: string; userdevice: string }[]): Set<string> {
  return new Set(vbds.flatMap((vbd) => [...deviceSlots(vbd.device), ...deviceSlots(vbd.userdevice)]));
}

/** The guest device name a plugged VBD gets (XAPI fills VBD.device on plug). */
export function linuxDeviceName(userdevice: string): string {
  const n = diskNumber(userdevice) ?? 0;
  let name = "";
  let rest = n;
  do {
    name = String.fromCharCode("a".charCodeAt(0) + (rest % 26)) + name;
    rest = Math.floor(rest / 26) - 1;
  } while (rest >= 0);
  return `xvd${name}`;
}
