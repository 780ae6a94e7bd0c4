// The public resource PassthroughUsb: its arguments and its outputs.
import type * as pulumi from "@pulumi/pulumi";
import { resourceProps, type OutputsOf } from "./resource-props.js";
import type { VmIdentity } from "./core/inputs.js";
import type { UsbDeviceIdentity } from "./core/usb-inputs.js";
import { USB_OUTPUT_KEYS, type PassthroughUsbOutputs } from "./core/usb-state.js";
import { HostDeviceResource, type ConnectionArgs, type XapiArgs } from "./resource.js";
import { passthroughUsbProvider } from "./serialized-provider.js";

/**
 * Arguments of a {@link PassthroughUsb}.
 *
 * @example
 * const args: PassthroughUsbArgs = {
 *   connection: { host: "xen1.lan", privateKey: key, hostKey: "ssh-ed25519 AAAA..." },
 *   device: { vendorId: "10c4", productId: "ea60", serial: "b6a8e1f2c54eed11a1c3f1d8a5a6b2c0" },
 *   vm: { nameLabel: "homeassistant" },
 * };
 */
export interface PassthroughUsbArgs {
  /** SSH to the dom0 of the host the device is plugged into (the same settings as PassthroughDisk's). Secret. */
  connection: pulumi.Input<ConnectionArgs>;
  /** Omit (default) to reach XAPI through the SSH connection. Secret. */
  xapi?: pulumi.Input<XapiArgs>;
  /**
   * The device: `vendorId` and `productId` plus its `serial` (stable across ports and reboots), or
   * its port `path` ("1-2") only for a device without a serial. `pulumi-xen-passthrough usb` lists
   * a host's devices with the identity to paste.
   */
  device: pulumi.Input<UsbDeviceIdentity>;
  /** The VM that gets the device: by uuid, or by a unique name label. */
  vm: pulumi.Input<VmIdentity>;
}

// The outputs come from their one description (core/usb-state.ts), merged into the class below.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- declarations only: the members come from OutputsOf
export interface PassthroughUsb extends OutputsOf<PassthroughUsbOutputs> {}

/**
 * Passes a USB device of a XenServer / XCP-ng host (a Zigbee or Z-Wave stick, a UPS, a licence
 * dongle) through to a VM: enables passthrough on its PUSB and gives the VM a VUSB. XAPI attaches
 * the device when the VM starts: on a running VM, `restartRequired` and `notice` say to restart
 * it (this resource never restarts a VM). `pulumi refresh` reports drift (passthrough disabled,
 * VUSB gone or unplugged, device on another port or host, VM halted or gone) in `drift`.
 *
 * @example
 * import * as pulumi from "@pulumi/pulumi";
 * import { PassthroughUsb } from "pulumi-xen-passthrough";
 *
 * const config = new pulumi.Config();
 * const zigbee = new PassthroughUsb("zigbee", {
 *   connection: { host: "xen1.lan", privateKey: config.requireSecret("sshKey"), hostKey: config.require("hostKey") },
 *   device: { vendorId: "10c4", productId: "ea60", serial: "b6a8e1f2c54eed11a1c3f1d8a5a6b2c0" },
 *   vm: { nameLabel: "homeassistant" },
 * });
 * export const notice = zigbee.notice;
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class PassthroughUsb extends HostDeviceResource {
  declare public readonly device: pulumi.Output<UsbDeviceIdentity>;

  /**
   * @param name The unique name of the resource.
   * @param args The device, the VM and how to reach the host.
   * @param opts Resource options; `connection` and `xapi` are always added to `additionalSecretOutputs`.
   */
  constructor(name: string, args: PassthroughUsbArgs, opts?: pulumi.CustomResourceOptions) {
    const { props, opts: secretOutputs } = resourceProps(name, args, USB_OUTPUT_KEYS, opts);
    super(passthroughUsbProvider, name, props, secretOutputs, "xen-passthrough", "PassthroughUsb");
  }
}
