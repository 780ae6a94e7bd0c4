import * as pulumi from "@pulumi/pulumi";
import { PassthroughDisk } from "pulumi-xen-passthrough";

const config = new pulumi.Config();

const data = new PassthroughDisk("nas-data", {
  connection: {
    host: config.require("host"), // dom0 of the XenServer / XCP-ng host
    hostKey: config.require("hostKey"), // "ssh-ed25519 AAAA...": verified on every connection
    privateKey: config.requireSecret("sshPrivateKey"),
  },
  disk: { serial: config.require("diskSerial") }, // as `udevadm info /dev/sdX` shows it
  vm: { nameLabel: config.require("vmName") },
});

export const device = data.device; // e.g. "xvdb" inside the guest
export const drift = data.drift; // what the last `pulumi refresh` found changed
