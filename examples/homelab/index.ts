// The homelab story: a media server VM on a XenServer / XCP-ng host gets its SATA disks passed
// through by serial. When a guest connection is configured, commands inside the guest mount the
// disks and share them over Samba. Every setting is documented in Pulumi.yaml.
import * as pulumi from "@pulumi/pulumi";
import { PassthroughDisk } from "pulumi-xen-passthrough";
import { mountInGuest, readGuestSettings, shareOverSamba } from "./guest.js";

const config = new pulumi.Config();

// SSH to dom0 as root. The host key is required: the connection is refused if dom0 presents
// another key (ssh-keyscan prints it; compare it with the host's console first).
const connection = {
  host: config.require("host"),
  port: config.getNumber("sshPort") ?? 22,
  hostKey: config.require("hostKey"),
  privateKey: config.requireSecret("sshPrivateKey"),
};
const vm = { nameLabel: config.require("vmName") };
const serials = config.requireObject<unknown>("diskSerials");
if (
  !Array.isArray(serials) ||
  serials.length === 0 ||
  !serials.every((s): s is string => typeof s === "string")
) {
  throw new Error('diskSerials must be a non-empty list of disk serials, e.g. ["WD-WCC4N1234567"]');
}
// Optional: mount the disks inside the guest and share them over Samba. Read (and checked) first,
// so that a wrong setting stops the program before anything is declared.
const guest = readGuestSettings(config);

// One PassthroughDisk per serial; named after the serial so that reordering the list in the
// stack config does not replace (detach and re-attach) any disk.
const disks = serials.map((serial) => ({
  serial,
  disk: new PassthroughDisk(`disk-${serial}`, { connection, disk: { serial }, vm }),
}));

const mounts = guest === undefined ? [] : disks.map(({ disk }, index) => mountInGuest(disk, index, guest));
if (guest !== undefined) shareOverSamba(mounts, guest);

/** The guest's device name of each disk (e.g. "xvdb"), by serial. */
export const devices = Object.fromEntries(disks.map(({ serial, disk }) => [serial, disk.device]));
/** The VBD UUID of each disk, by serial. */
export const vbdUuids = Object.fromEntries(disks.map(({ serial, disk }) => [serial, disk.vbdUuid]));
/** Drift found by the last refresh, by serial (empty lists when all is as wanted). */
export const drift = Object.fromEntries(disks.map(({ serial, disk }) => [serial, disk.drift]));
/** The Samba shares, when the guest is managed. */
export const shares = mounts.map((mount) => mount.share);
