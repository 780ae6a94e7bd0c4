// One owner per disk. Every piece this provider leaves on a host records the resource that owns
// it: the claim on dom0 (one per physical disk, whatever identity names it), a line of the rule
// file, and an other_config key of the VBD. The claim is taken atomically on dom0 in the udev
// round (dom0/udev-round.ts), so two resources naming one disk are told apart by the host, not by
// views taken before either claimed. Pure.
import { createHash } from "node:crypto";
import type { Dom0Disk } from "./dom0-inventory.js";
import type { DiskIdentity, PassthroughDiskInputs } from "./inputs.js";
import { ruleSlug } from "./rule.js";

/** other_config key that marks the VBDs this provider manages; its value names the disk. */
export const VBD_TAG_KEY = "xen-passthrough";
/** other_config key of the resource that owns the VBD; absent on earlier versions' VBDs. */
export const VBD_OWNER_KEY = "xen-passthrough-owner";

/** Where dom0 keeps the claims: one symlink per disk, named by its key, pointing at the owner. */
export const CLAIMS_DIR = "/etc/xen-passthrough/claims";

/**
 * The owner id of states written before owners existed, and of resources created without the
 * constructor: the host and the disk identity (the resource id of those states).
 */
export function legacyOwner(hostUuid: string, identity: DiskIdentity): string {
  return `${hostUuid}:${ruleSlug(identity)}`;
}

/** The owner id of a resource: the one its constructor passed, else the legacy one. */
export function ownerOf(hostUuid: string, inputs: Pick<PassthroughDiskInputs, "disk" | "owner">): string {
  return inputs.owner ?? legacyOwner(hostUuid, inputs.disk);
}

/**
 * The key of a physical disk's claim, the same whichever identity a resource names it by: its
 * WWN, else its serial, else its kernel name (a disk with neither has no other stable name).
 */
export function claimKey(disk: Pick<Dom0Disk, "kernelName" | "properties">): string {
  const p = disk.properties;
  const wwn = p["ID_WWN_WITH_EXTENSION"] ?? p["ID_WWN"];
  const serial = p["ID_SERIAL"] ?? p["ID_SERIAL_SHORT"];
  const [kind, value] =
    wwn !== undefined && wwn !== ""
      ? ["wwn", wwn]
      : serial !== undefined && serial !== ""
        ? ["serial", serial]
        : ["kernel", disk.kernelName];
  const readable = value.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 48);
  const hash = createHash("sha256").update(`${kind}=${value}`).digest("hex").slice(0, 8);
  return `${kind}-${readable}-${hash}`;
}

/**
 * State key of an owner change (rename, or an earlier version's state) that failed half-way: the
 * earlier owner id, whose pieces read, the next update and delete still take as this resource's.
 * diff asks for an update while it is set.
 */
export const MIGRATING_FROM = "migratingFromOwner";

/** How messages name an owner. */
export function describeOwner(owner: string): string {
  return `PassthroughDisk ${owner}`;
}
