// The homelab story: a media server VM on a XenServer / XCP-ng host gets its SATA disks passed
// through by serial. When a guest connection is configured, commands inside the guest mount the
// disks and share them over Samba. When a Home Assistant VM is named, it gets the host's Zigbee
// stick (USB passthrough). Every setting is documented in Pulumi.yaml.
import * as pulumi from "@pulumi/pulumi";
import { PassthroughDisk, PassthroughUsb } from "pulumi-xen-passthrough";
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

// Optional: Home Assistant's Zigbee coordinator, by vendor:product and serial (as
// `pulumi-xen-passthrough usb` lists them). Named after its role, so moving it to another VM is
// an update of the same resource, not a replace.
const homeAssistantVm = config.get("homeAssistantVm") ?? "";
const zigbeeDevice = {
  vendorId: config.get("zigbeeVendorId") ?? "10c4",
  productId: config.get("zigbeeProductId") ?? "ea60",
  serial: config.get("zigbeeSerial") ?? "",
};
if (homeAssistantVm !== "" && zigbeeDevice.serial === "") {
  throw new Error("homeAssistantVm is set: set zigbeeSerial too (`pulumi-xen-passthrough usb` lists it)");
}
const zigbee =
  homeAssistantVm === ""
    ? undefined
    : new PassthroughUsb("zigbee", { connection, device: zigbeeDevice, vm: { nameLabel: homeAssistantVm } });

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
/**
 * The Zigbee stick, when Home Assistant is configured: what to do for it to appear (a restart of
 * the VM after the first `pulumi up` while it runs), and drift found by the last refresh.
 */
export const zigbeeNotice = zigbee?.notice ?? "";
export const zigbeeDrift = zigbee?.drift ?? [];
