// Naming helpers for the two identities in the inputs: words for messages, keys for state.
import type { DiskIdentity, VmIdentity } from "./inputs.js";

/** The kind of a disk identity: which one field is set. */
export type DiskIdentityKind = "serial" | "wwn" | "byId" | "kernelName";

/** Splits a disk identity into its kind and value. */
export function diskIdentityParts(identity: DiskIdentity): {
  readonly kind: DiskIdentityKind;
  readonly value: string;
} {
  if ("serial" in identity) return { kind: "serial", value: identity.serial };
  if ("wwn" in identity) return { kind: "wwn", value: identity.wwn };
  if ("byId" in identity) return { kind: "byId", value: identity.byId };
  return { kind: "kernelName", value: identity.kernelName };
}

/** Builds the identity of one kind back from its parts. */
export function diskIdentityOf(kind: DiskIdentityKind, value: string): DiskIdentity {
  switch (kind) {
    case "serial":
      return { serial: value };
    case "wwn":
      return { wwn: value };
    case "byId":
      return { byId: value };
    case "kernelName":
      return { kernelName: value };
  }
}

/** The disk identity in words, e.g. "serial S3Z1NB0K" or "/dev/disk/by-id/ata-X". */
export function describeDisk(identity: DiskIdentity): string {
  const { kind, value } = diskIdentityParts(identity);
  if (kind === "byId") return `/dev/disk/by-id/${value}`;
  if (kind === "kernelName") return `kernel name ${value}`;
  return `${kind === "wwn" ? "WWN" : "serial"} ${value}`;
}

/**
 * Another disk in words, by the same kind of identity as `like` where the disk has one (as a
 * user would write it: "serial ZS4A", "WWN 0x5000...", a by-id path), else by its kernel name.
 */
export function describeDiskAs(like: DiskIdentity, disk: DiskNames): string {
  const p = disk.properties;
  const byId = disk.links.find((link) => link.startsWith("/dev/disk/by-id/"));
  const value = {
    serial: p["ID_SERIAL_SHORT"] ?? p["ID_SERIAL"],
    wwn: p["ID_WWN_WITH_EXTENSION"] ?? p["ID_WWN"],
    byId: byId?.slice("/dev/disk/by-id/".length),
    kernelName: disk.kernelName,
  }[diskIdentityParts(like).kind];
  const kind = value === undefined || value === "" ? "kernelName" : diskIdentityParts(like).kind;
  return describeDisk(diskIdentityOf(kind, kind === "kernelName" ? disk.kernelName : (value ?? "")));
}

/** The VM identity in words, e.g. 'VM "nas"' or "VM 0a1b...". */
export function describeVm(identity: VmIdentity): string {
  return "uuid" in identity ? `VM ${identity.uuid}` : `VM "${identity.nameLabel}"`;
}

/** What a disk is known by on dom0 (a Dom0Disk of core/dom0-inventory.ts has all of it). */
export interface DiskNames {
  readonly kernelName: string;
  /** udev properties (ID_SERIAL, ID_WWN, DEVLINKS, ...). */
  readonly properties: Readonly<Record<string, string>>;
  /** Paths from DEVLINKS. */
  readonly links: readonly string[];
}
