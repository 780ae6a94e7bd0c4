// What `xen-passthrough disks` reports, decided without I/O from dom0's inventory and the host's
// side of a look (look/host-side.ts, as the lifecycle sees it): one row per whole disk with its names, whether dom0 uses it, and whether (and to
// which VM) it is passed through already.
import type { Dom0Disk, Dom0Inventory } from "../core/dom0-inventory.js";
import { dom0Use } from "../core/dom0-inventory.js";
import type { DiskIdentity } from "../core/inputs.js";
import type { ConflictingRule } from "../core/rule.js";
import { conflictingRules, symlinkPath } from "../core/rule.js";
import { VBD_TAG_KEY } from "../core/owner.js";
import type { HostSide } from "../look/host-side.js";
import type { VbdRecord, VdiRecord, WithRef } from "../xapi/records.js";
import { vdisAt } from "../xapi/vdi.js";
import { byIdNames, suggestIdentity } from "./suggest-identity.js";

/** One VBD that attaches the disk's VDI to a VM. */
export interface Attachment {
  readonly vdiUuid: string;
  readonly location: string;
  readonly vbdUuid: string;
  readonly vm: { readonly uuid: string; readonly nameLabel: string; readonly powerState: string };
  readonly userdevice: string;
  /** "xvdb" once plugged; "" before. */
  readonly device: string;
  readonly attached: boolean;
  readonly mode: string;
  /** The PassthroughDisk id from the VBD's tag; undefined for VBDs made by hand or by other tools. */
  readonly managedBy?: string;
}

export interface Passthrough {
  /** /dev/xapi/block entries that resolve to the disk. */
  readonly symlinks: readonly string[];
  /** Rules that give it such a symlink: ours ("xen-passthrough") or hand-made ("other"). */
  readonly rules: readonly ConflictingRule[];
  readonly attachments: readonly Attachment[];
}

export interface DiskRow {
  readonly kernelName: string;
  readonly sizeBytes: number;
  readonly model?: string;
  readonly serial?: string;
  readonly wwn?: string;
  /** The preferred /dev/disk/by-id name; all of them in byIds. */
  readonly byId?: string;
  readonly byIds: readonly string[];
  readonly identity: DiskIdentity;
  readonly identityWarning?: string;
  /** Why dom0 uses it (the provider refuses such disks). */
  readonly dom0Use?: string;
  /** Set when a rule, a symlink or a VBD already passes it through. */
  readonly passthrough?: Passthrough;
}

export interface DiskReport {
  readonly target: string;
  readonly hostUuid: string;
  readonly removableStorageSr?: { readonly uuid: string; readonly nameLabel: string };
  readonly disks: readonly DiskRow[];
  readonly warnings: readonly string[];
}

/**
 * Kernel names of block devices that are not physical disks: device-mapper, md RAID, RAM disks,
 * zram, NBD and tapdisk (XAPI's own VDIs on dom0), optical drives. Shown only with --all.
 */
const VIRTUAL_DEVICE = /^(?:dm-|md|ram|zram|nbd|td[a-z]|sr[0-9])/;

export function isListed(disk: Dom0Disk, all: boolean): boolean {
  return all || (disk.sizeBytes > 0 && !VIRTUAL_DEVICE.test(disk.kernelName));
}

export function buildDiskReport(
  target: string,
  inventory: Dom0Inventory,
  xapi: HostSide,
  options: { readonly all: boolean; readonly noSrWarning: string },
): DiskReport {
  const disks = inventory.disks
    .filter((disk) => isListed(disk, options.all))
    .sort((a, b) => a.kernelName.localeCompare(b.kernelName, "en", { numeric: true }))
    .map((disk) => diskRow(inventory, xapi, disk));
  return {
    target,
    hostUuid: xapi.hostUuid,
    ...(xapi.sr === undefined
      ? {}
      : { removableStorageSr: { uuid: xapi.sr.uuid, nameLabel: xapi.sr.nameLabel } }),
    disks,
    warnings: xapi.sr === undefined ? [options.noSrWarning] : [],
  };
}

function diskRow(inventory: Dom0Inventory, xapi: HostSide, disk: Dom0Disk): DiskRow {
  const p = disk.properties;
  const byIds = byIdNames(disk);
  const { identity, warning } = suggestIdentity(inventory, disk);
  const model = modelOf(p);
  const serial = p["ID_SERIAL_SHORT"] ?? p["ID_SERIAL"];
  const wwn = p["ID_WWN_WITH_EXTENSION"] ?? p["ID_WWN"];
  const use = dom0Use(inventory, disk);
  const passthrough = passthroughOf(inventory, xapi, disk);
  return {
    kernelName: disk.kernelName,
    sizeBytes: disk.sizeBytes,
    ...(model === undefined ? {} : { model }),
    ...(serial === undefined ? {} : { serial }),
    ...(wwn === undefined ? {} : { wwn }),
    ...(byIds[0] === undefined ? {} : { byId: byIds[0] }),
    byIds,
    identity,
    ...(warning === undefined ? {} : { identityWarning: warning }),
    ...(use === undefined ? {} : { dom0Use: use }),
    ...(passthrough === undefined ? {} : { passthrough }),
  };
}

/** ID_MODEL_ENC keeps the model's spaces (as \x20); ID_MODEL has them as "_". */
function modelOf(p: Readonly<Record<string, string>>): string | undefined {
  const encoded = p["ID_MODEL_ENC"];
  const decoded = encoded?.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
  const model = decoded?.trim() || p["ID_MODEL"]?.replace(/_/g, " ").trim();
  return model === "" ? undefined : model;
}

function passthroughOf(inventory: Dom0Inventory, xapi: HostSide, disk: Dom0Disk): Passthrough | undefined {
  const symlinks = [...inventory.xapiBlock]
    .filter(([, target]) => target === disk.kernelName)
    .map(([name]) => symlinkPath(name));
  const rules = conflictingRules(inventory.passthroughRules, disk, "");
  // A VDI may outlive its symlink (until the next SR scan): its location still names the disk.
  const locations = new Set([...symlinks, symlinkPath(disk.kernelName)]);
  const vdis = xapi.sr === undefined ? [] : vdisAt(xapi.snapshot, xapi.sr.ref, locations);
  const attachments = vdis.flatMap((vdi) =>
    xapi.snapshot.vbds.filter((vbd) => vbd.VDI === vdi.$ref).map((vbd) => attachment(xapi, vdi, vbd)),
  );
  if (symlinks.length === 0 && rules.length === 0 && attachments.length === 0) return undefined;
  return { symlinks, rules, attachments };
}

function attachment(xapi: HostSide, vdi: WithRef<VdiRecord>, vbd: WithRef<VbdRecord>): Attachment {
  const vm = xapi.snapshot.vms.find((candidate) => candidate.$ref === vbd.VM);
  const tag = vbd.other_config[VBD_TAG_KEY];
  return {
    vdiUuid: vdi.uuid,
    location: vdi.location,
    vbdUuid: vbd.uuid,
    vm: {
      uuid: vm?.uuid ?? "",
      nameLabel: vm?.name_label ?? `(unknown VM ${vbd.VM})`,
      powerState: vm?.power_state ?? "unknown",
    },
    userdevice: vbd.userdevice,
    device: vbd.device,
    attached: vbd.currently_attached,
    mode: vbd.mode,
    ...(tag === undefined ? {} : { managedBy: tag }),
  };
}
