import * as pulumi from "@pulumi/pulumi";
import { PassthroughUsb } from "pulumi-xen-passthrough";

const config = new pulumi.Config();

const zigbee = new PassthroughUsb("zigbee", {
  connection: {
    host: config.require("host"), // dom0 of the host the stick is plugged into
    hostKey: config.require("hostKey"),
    privateKey: config.requireSecret("sshPrivateKey"),
  },
  // as `pulumi-xen-passthrough usb` lists it: vendor:product plus serial
  device: { vendorId: "10c4", productId: "ea60", serial: config.require("zigbeeSerial") },
  vm: { nameLabel: config.require("vmName") },
});

export const notice = zigbee.notice; // says when the VM must restart for the stick to appear
export const drift = zigbee.drift; // what the last `pulumi refresh` found changed
