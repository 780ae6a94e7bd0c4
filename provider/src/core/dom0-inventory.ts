// What dom0 knows about its block devices, as dom0/inventory.ts's script prints it in one SSH
// exec, parsed here without I/O; and the pure questions asked of it (which disk, used by dom0?).

import type { BootRepairFound } from "./boot-repair.js";
import { BOOT_REPAIR_UNIT } from "./boot-repair.js";
import { InventoryCutShortError } from "./errors.js";
import { describeDisk } from "./identity.js";
import { printfUnescaped } from "./printf-escape.js";
import type { DiskIdentity } from "./inputs.js";
import { ruleSelectsDisk } from "./rule.js";
import { parseSmVersion } from "./sm-version.js";

export interface Dom0Disk {
  readonly kernelName: string;
  /** "MAJ:MIN" of the whole disk. */
  readonly devNumber: string;
  readonly sizeBytes: number;
  readonly partitions: readonly { readonly name: string; readonly devNumber: string }[];
  /** Kernel names of devices stacked on the disk or its partitions (dm, md, LVM). */
  readonly holders: readonly string[];
  /** udev properties (ID_SERIAL, ID_WWN, DEVLINKS, ...). */
  readonly properties: Readonly<Record<string, string>>;
  /** Paths from DEVLINKS. */
  readonly links: readonly string[];
}

export interface Dom0Inventory {
  /** Keys of /etc/xensource-inventory (INSTALLATION_UUID, ...). */
  readonly xensource: Readonly<Record<string, string>>;
  /** "MAJ:MIN" of the filesystem mounted on / (the dom0 boot disk or one of its partitions). */
  readonly rootDevNumber: string;
  /** Mounted "MAJ:MIN" -> mount point, from /proc/self/mountinfo. */
  readonly mounts: ReadonlyMap<string, string>;
  /** Swap devices, as kernel names. */
  readonly swaps: readonly string[];
  readonly disks: readonly Dom0Disk[];
  /** Entries of /dev/xapi/block: name -> kernel name it resolves to. */
  readonly xapiBlock: ReadonlyMap<string, string>;
  /** udev rules files that mention xapi/block: path -> content. */
  readonly passthroughRules: ReadonlyMap<string, string>;
  /** Claims on disks (core/owner.ts): claim key -> owner id. */
  readonly claims: ReadonlyMap<string, string>;
  /** The boot repair's pieces (core/boot-repair.ts). */
  readonly bootRepair: BootRepairFound;
  /** Version of the host's sm package (core/sm-version.ts); undefined when rpm did not tell. */
  readonly smVersion: string | undefined;
}

interface MutableDisk {
  kernelName: string;
  devNumber: string;
  sizeBytes: number;
  partitions: { name: string; devNumber: string }[];
  holders: string[];
  properties: Record<string, string>;
}

/** A file's text in the output: "@<section> <key>", then each line of the file after a "|". */
interface TextBlock {
  readonly key: string;
  readonly lines: string[];
}

function openBlock(key: string | undefined): TextBlock | undefined {
  return key === undefined ? undefined : { key, lines: [] };
}

/** Adds one "|" line to the open block and records the text so far under its key. */
function addBlockLine(block: TextBlock | undefined, line: string, texts: Map<string, string>): void {
  if (block === undefined || !line.startsWith("|")) return;
  block.lines.push(line.slice(1));
  texts.set(block.key, block.lines.join("\n"));
}

export function parseInventory(output: string): Dom0Inventory {
  const xensource: Record<string, string> = {};
  const mounts = new Map<string, string>();
  const swaps: string[] = [];
  const disks: MutableDisk[] = [];
  const xapiBlock = new Map<string, string>();
  const passthroughRules = new Map<string, string>();
  const claims = new Map<string, string>();
  const bootRecords = new Map<string, string>();
  const bootFailures = new Map<string, string>();
  const bootMarkers = new Map<string, string>();
  let bootWants = "";
  let bootRecord: TextBlock | undefined;
  const smLines: string[] = [];
  let rootDevNumber = "";
  let section = "";
  let disk: MutableDisk | undefined;
  let udevDisk: MutableDisk | undefined;
  let rule: TextBlock | undefined;
  let ended = false;

  for (const line of output.split("\n")) {
    if (line.startsWith("@")) {
      const [name = "", ...args] = line.slice(1).split(" ");
      section = name;
      if (name === "rootdev") rootDevNumber = majorMinorOf(args[0] ?? "");
      if (name === "end") ended = true;
      rule = name === "rule" ? openBlock(args[0]) : undefined;
      bootRecord = name === "bootrecord" ? openBlock(args[0]) : undefined;
      if (name === "bootfailed" && args[0] !== undefined) bootFailures.set(args[0], args.slice(1).join(" "));
      if (name === "disk") {
        const [kernelName = "", devNumber = "", sectors = "0"] = args;
        disk = {
          kernelName,
          devNumber,
          sizeBytes: Number(sectors) * 512,
          partitions: [],
          holders: [],
          properties: {},
        };
        disks.push(disk);
      }
      continue;
    }
    if (line === "") continue;
    switch (section) {
      case "xensource": {
        const match = /^([A-Z0-9_]+)='?([^']*)'?$/.exec(line);
        if (match?.[1] !== undefined) xensource[match[1]] = match[2] ?? "";
        break;
      }
      case "mountinfo": {
        const [devNumber = "", mountPoint = ""] = line.split(" ");
        if (!mounts.has(devNumber)) mounts.set(devNumber, mountPoint);
        break;
      }
      case "sm":
        smLines.push(line);
        break;
      case "swaps":
        swaps.push(line.replace(/^\/dev\//, ""));
        break;
      case "disk":
        if (disk !== undefined) parseDiskLine(disk, line);
        break;
      case "udevdb":
        udevDisk = parseUdevDbLine(disks, udevDisk, line);
        break;
      case "xapiblock": {
        // "<name> <link target>": a symlink names the device it points to; anything else itself.
        const [name = "", target = ""] = line.split(" ");
        xapiBlock.set(name, target === "" ? name : target.slice(target.lastIndexOf("/") + 1));
        break;
      }
      case "claims": {
        // "<key> <owner, as printfEscaped wrote it>"
        const [key = "", owner = ""] = line.split(" ");
        claims.set(key, printfUnescaped(owner));
        break;
      }
      case "rule":
        addBlockLine(rule, line, passthroughRules);
        break;
      case "bootrepair": {
        // "marker unit|script <marker>" or "wants <link target>"
        const [kind = "", first = "", second = ""] = line.split(" ");
        if (kind === "marker") bootMarkers.set(first, second);
        if (kind === "wants") bootWants = first;
        break;
      }
      case "bootrecord":
        addBlockLine(bootRecord, line, bootRecords);
        break;
    }
  }
  if (!ended) throw new InventoryCutShortError();
  return {
    xensource,
    rootDevNumber,
    mounts,
    swaps,
    disks: disks.map((d) => ({ ...d, links: (d.properties["DEVLINKS"] ?? "").split(" ").filter(Boolean) })),
    xapiBlock,
    passthroughRules,
    claims,
    bootRepair: {
      unitMarker: bootMarkers.get("unit") ?? "",
      scriptMarker: bootMarkers.get("script") ?? "",
      enabled: bootWants === BOOT_REPAIR_UNIT,
      records: bootRecords,
      failures: bootFailures,
    },
    smVersion: parseSmVersion(smLines),
  };
}

/** `udevadm info --export-db` lines: "P: <devpath>" starts a device, "E: KEY=value" its properties. */
function parseUdevDbLine(
  disks: readonly MutableDisk[],
  current: MutableDisk | undefined,
  line: string,
): MutableDisk | undefined {
  if (line.startsWith("P: ")) {
    const kernelName = line.slice(line.lastIndexOf("/") + 1);
    return disks.find((d) => d.kernelName === kernelName);
  }
  if (current !== undefined && line.startsWith("E: ")) {
    const eq = line.indexOf("=");
    if (eq > 3) current.properties[line.slice(3, eq)] = line.slice(eq + 1);
  }
  return current;
}

function parseDiskLine(disk: MutableDisk, line: string): void {
  const space = line.indexOf(" ");
  const kind = line.slice(0, space);
  const rest = line.slice(space + 1);
  if (kind === "partition") {
    const [name = "", devNumber = ""] = rest.split(" ");
    disk.partitions.push({ name, devNumber });
  } else if (kind === "holder") {
    disk.holders.push(rest);
  }
}

/**
 * "MAJ:MIN" of a device number as stat(2) reports it (find's %D prints it in decimal), split as
 * glibc's major() and minor() split a 64-bit dev_t; "" for anything that is not a number.
 */
export function majorMinorOf(decimal: string): string {
  if (!/^\d+$/.test(decimal)) return "";
  const dev = BigInt(decimal);
  const major = ((dev & 0xfff00n) >> 8n) | ((dev & 0xfffff00000000000n) >> 32n);
  const minor = (dev & 0xffn) | ((dev & 0xffffff00000n) >> 12n);
  return `${major}:${minor}`;
}

/** Why dom0 itself uses a disk, or undefined when it is free to pass through. */
export function dom0Use(inventory: Dom0Inventory, disk: Dom0Disk): string | undefined {
  const devNumbers = [disk.devNumber, ...disk.partitions.map((p) => p.devNumber)];
  if (devNumbers.includes(inventory.rootDevNumber)) return "it is the dom0 boot disk (it holds /)";
  for (const devNumber of devNumbers) {
    const mountPoint = inventory.mounts.get(devNumber);
    if (mountPoint !== undefined) return `it is mounted in dom0 on ${mountPoint}`;
  }
  const names = [disk.kernelName, ...disk.partitions.map((p) => p.name)];
  const swap = names.find((name) => inventory.swaps.includes(name));
  if (swap !== undefined) return `dom0 uses /dev/${swap} as swap`;
  if (disk.holders.length > 0)
    return `dom0 holds it through ${disk.holders.join(", ")} (LVM, md or device-mapper)`;
  return undefined;
}

/** Why an identity names no single whole disk. */
export type DiskLookupCode = "DISK_ABSENT" | "DISK_IS_PARTITION" | "DISK_AMBIGUOUS" | "DISK_SCSI_UNIT_SERIAL";

export type DiskResolution =
  | { readonly ok: true; readonly disk: Dom0Disk }
  | { readonly ok: false; readonly code: DiskLookupCode; readonly reason: string };

/** Finds exactly one whole disk for the identity, or says why not (in words a user can act on). */
export function resolveDisk(inventory: Dom0Inventory, identity: DiskIdentity): DiskResolution {
  const wanted = describeDisk(identity);
  const partitionOf = partitionNamed(inventory, identity);
  if (partitionOf !== undefined) {
    return {
      ok: false,
      code: "DISK_IS_PARTITION",
      reason: `${wanted} is a partition of /dev/${partitionOf}: pass through whole disks only`,
    };
  }
  const matches = inventory.disks.filter((disk) => ruleSelectsDisk(identity, disk));
  if (matches.length === 0) {
    const scsi = "serial" in identity ? scsiUnitSerialOf(inventory, identity.serial) : undefined;
    if (scsi !== undefined) return { ok: false, code: "DISK_SCSI_UNIT_SERIAL", reason: scsi };
    const known = inventory.disks
      .filter((disk) => disk.properties["ID_SERIAL"] !== undefined)
      .map(
        (disk) =>
          `${disk.kernelName} (serial ${disk.properties["ID_SERIAL_SHORT"] ?? disk.properties["ID_SERIAL"]})`,
      );
    const hint = known.length > 0 ? `; disks with a serial: ${known.join(", ")}` : "";
    return { ok: false, code: "DISK_ABSENT", reason: `no disk with ${wanted} on this host${hint}` };
  }
  if (matches.length > 1) {
    const names = matches.map((disk) => disk.kernelName).join(", ");
    return {
      ok: false,
      code: "DISK_AMBIGUOUS",
      reason: `${wanted} matches several disks (${names}): name the disk by WWN or by-id instead`,
    };
  }
  const [disk] = matches as [Dom0Disk];
  return { ok: true, disk };
}

/**
 * A SCSI/SAS disk's label serial (VPD page 0x80) is in ID_SCSI_SERIAL only: scsi_id puts the page-83
 * id in ID_SERIAL and ID_SERIAL_SHORT, which is what the rule matches. When `serial` is such a
 * label serial, says which disk has it and which identity to use instead.
 */
function scsiUnitSerialOf(inventory: Dom0Inventory, serial: string): string | undefined {
  const disk = inventory.disks.find((candidate) => candidate.properties["ID_SCSI_SERIAL"] === serial);
  if (disk === undefined) return undefined;
  const wwn = disk.properties["ID_WWN_WITH_EXTENSION"] ?? disk.properties["ID_WWN"];
  const udevSerial = disk.properties["ID_SERIAL_SHORT"];
  const options = [
    ...(wwn === undefined ? [] : [`disk: { wwn: "${wwn}" }`]),
    ...(udevSerial === undefined ? [] : [`disk: { serial: "${udevSerial}" }`]),
  ];
  const use = options.length > 0 ? options.join(" or ") : "a /dev/disk/by-id name";
  return (
    `serial ${serial} is the label serial (SCSI unit serial, udev's ID_SCSI_SERIAL) of the SCSI/SAS disk ` +
    `/dev/${disk.kernelName}, and the provider matches udev's ID_SERIAL_SHORT/ID_SERIAL, which for such a ` +
    `disk is its WWN-based id: name it by ${use}, the identity \`pulumi-xen-passthrough disks\` prints for it`
  );
}

function partitionNamed(inventory: Dom0Inventory, identity: DiskIdentity): string | undefined {
  if (!("kernelName" in identity)) return undefined;
  return inventory.disks.find((disk) => disk.partitions.some((p) => p.name === identity.kernelName))
    ?.kernelName;
}
