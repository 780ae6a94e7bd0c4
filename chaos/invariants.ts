// The invariants checked after every cycle (pure): each disk owned by at most one resource, and
// no piece (rule, symlink, VDI, tagged VBD) without an owner the engine's state holds.
import type { PassthroughPieces, SandboxDisk } from "xen-sandbox";

/** A resource as the engine holds it: its disk, and its state (undefined while a create is pending). */
export interface HeldResource {
  name: string;
  /** The disk's serial (the disk it names, whichever identity it names it by). */
  serial: string;
  state: Record<string, unknown> | undefined;
}

/** Pure: which disk (serial) a piece belongs to, from the rule's identity line or a kernel name. */
function diskOfRule(text: string, disks: readonly SandboxDisk[]): string | undefined {
  const identity = /rule v\d+: (\w+)=(\S+)/.exec(text);
  if (identity === null) return undefined;
  const [, kind, value] = identity;
  return disks.find((disk) => (kind === "wwn" ? disk.wwn === value : disk.serial === value))?.serial;
}

function diskOfKernel(kernelName: string, disks: readonly SandboxDisk[]): string | undefined {
  return disks.find((disk) => disk.kernelName === kernelName && kernelName !== "")?.serial;
}

const text = (value: unknown): string => (typeof value === "string" ? value : "");

const kernelOf = (location: string): string => location.replace(/^\/dev\/xapi\/block\//, "");

export interface InvariantReport {
  /** Disks more than one resource holds a live passthrough of, or with more than one tagged VBD. */
  ownershipBreaks: string[];
  /** Pieces no held resource accounts for. */
  orphans: string[];
}

export function checkInvariants(
  pieces: PassthroughPieces,
  disks: readonly SandboxDisk[],
  held: readonly HeldResource[],
): InvariantReport {
  const claimed = new Set(held.map((resource) => resource.serial));
  const recorded = new Set(
    held.flatMap((resource) =>
      ["rulePath", "symlinkPath", "vdiUuid", "vbdUuid"].map((key) => text(resource.state?.[key])),
    ),
  );
  const owned = (id: string, serial: string | undefined) =>
    recorded.has(id) || (serial !== undefined && claimed.has(serial));
  const orphans: string[] = [];
  for (const [path, text] of pieces.rules)
    if (!owned(path, diskOfRule(text, disks))) orphans.push(`rule ${path}`);
  for (const [path, kernel] of pieces.symlinks)
    if (!owned(path, diskOfKernel(kernel, disks))) orphans.push(`symlink ${path}`);
  // A location names its disk through the symlink's target (a stable name, xp-serial-..., is no
  // kernel name), or by its own name (a kernel-named location whose symlink is gone).
  const diskAt = (location: string) =>
    diskOfKernel(pieces.symlinks.get(location) ?? kernelOf(location), disks);
  const vdiDisk = new Map(pieces.vdis.map((vdi) => [vdi.ref, diskAt(vdi.location)]));
  for (const vdi of pieces.vdis)
    if (!owned(vdi.uuid, vdiDisk.get(vdi.ref))) orphans.push(`VDI ${vdi.uuid} at ${vdi.location}`);
  for (const vbd of pieces.taggedVbds)
    if (!owned(vbd.uuid, vdiDisk.get(vbd.vdi))) orphans.push(`tagged VBD ${vbd.uuid}`);

  const ownershipBreaks: string[] = [];
  for (const disk of disks) {
    const vbds = pieces.taggedVbds.filter((vbd) => vdiDisk.get(vbd.vdi) === disk.serial);
    if (vbds.length > 1) ownershipBreaks.push(`disk ${disk.serial}: ${vbds.length} tagged VBDs`);
    const live = new Set(pieces.taggedVbds.map((vbd) => vbd.uuid));
    const holders = held.filter(
      (resource) => resource.serial === disk.serial && live.has(text(resource.state?.["vbdUuid"])),
    );
    if (holders.length > 1)
      ownershipBreaks.push(`disk ${disk.serial}: held by ${holders.map((r) => r.name).join(" and ")}`);
  }
  return { ownershipBreaks, orphans };
}

/** The USB records of the pool (the simulator's snapshot of PUSBs and VUSBs). */
export interface UsbPieces {
  pusbs: readonly {
    uuid: string;
    usbGroup: string;
    passthroughEnabled: boolean;
    otherConfig: Record<string, string>;
  }[];
  vusbs: readonly { uuid: string; usbGroup: string; otherConfig: Record<string, string> }[];
}

/** PassthroughUsb's tags (provider/src/core/usb-view.ts). */
export const VUSB_OWNER_KEY = "xen-passthrough-owner";
export const PUSB_ENABLED_BY_KEY = "xen-passthrough-enabled-by";

/**
 * The USB invariants: no VUSB and no passthrough-enabled (or tagged) PUSB that no held
 * PassthroughUsb (created, or with a create pending) owns; one VUSB per USB group at most.
 * `owners`: the owner names of the held USB resources.
 */
export function checkUsbInvariants(pieces: UsbPieces, owners: readonly string[]): InvariantReport {
  const held = new Set(owners);
  const orphans: string[] = [];
  for (const vusb of pieces.vusbs) {
    const owner = vusb.otherConfig[VUSB_OWNER_KEY];
    if (owner === undefined || !held.has(owner)) orphans.push(`VUSB ${vusb.uuid} (owner ${owner ?? "none"})`);
  }
  for (const pusb of pieces.pusbs) {
    const enabledBy = pusb.otherConfig[PUSB_ENABLED_BY_KEY];
    if (
      (pusb.passthroughEnabled || enabledBy !== undefined) &&
      (enabledBy === undefined || !held.has(enabledBy))
    )
      orphans.push(
        `PUSB ${pusb.uuid} (passthrough ${pusb.passthroughEnabled ? "on" : "off"}, enabled by ${enabledBy ?? "none"})`,
      );
  }
  const ownershipBreaks: string[] = [];
  for (const pusb of pieces.pusbs) {
    const count = pieces.vusbs.filter((vusb) => vusb.usbGroup === pusb.usbGroup).length;
    if (count > 1) ownershipBreaks.push(`PUSB ${pusb.uuid}: ${count} VUSBs on its group`);
  }
  return { ownershipBreaks, orphans };
}
