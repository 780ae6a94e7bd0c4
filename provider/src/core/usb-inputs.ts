// The inputs of PassthroughUsb: the connection exactly as PassthroughDisk takes it, the USB
// device by a stable identity, the VM by uuid or name. Types only; the schema is usb-schema.ts.
import type { SshConnection, VmIdentity, XapiDirect } from "./inputs.js";

/**
 * A USB device as dom0's scan reports it (XAPI's PUSB): `vendorId` and `productId` (4 hex digits,
 * as `lsusb` prints them) plus exactly one of `serial` (stable across ports and reboots: prefer
 * it) or `path`, the port path such as "1-2" (last resort, for devices without a serial: it
 * changes when the device is plugged into another port).
 *
 * @example
 * const zigbee: UsbDeviceIdentity = { vendorId: "10c4", productId: "ea60", serial: "b6a8e1f2c54eed11" };
 */
export type UsbDeviceIdentity = {
  /** USB vendor id, 4 hex digits (PUSB.vendor_id), e.g. "10c4". */
  readonly vendorId: string;
  /** USB product id, 4 hex digits (PUSB.product_id), e.g. "ea60". */
  readonly productId: string;
} & (
  | {
      /** The device's serial number (PUSB.serial). */
      readonly serial: string;
      readonly path?: never;
    }
  | {
      /** The port path (PUSB.path), e.g. "1-2": only for a device without a serial. */
      readonly path: string;
      readonly serial?: never;
    }
);

/** Inputs of PassthroughUsb, checked and defaulted. */
export interface PassthroughUsbInputs {
  /** SSH to the dom0 of the host the device is plugged into. Secret. */
  readonly connection: SshConnection;
  /** Direct HTTPS access to XAPI instead of XAPI through SSH. Secret. */
  readonly xapi?: XapiDirect;
  /** The USB device to pass through. */
  readonly device: UsbDeviceIdentity;
  /** The VM that gets the device (by uuid, or by a unique name label). */
  readonly vm: VmIdentity;
  /** Set by the constructor: the resource that owns the device's pieces on the host. */
  readonly owner?: string;
}

/** How messages name a device identity: "10c4:ea60 serial b6a8e1f2". */
export function describeUsbDevice(device: UsbDeviceIdentity): string {
  const id = `USB device ${device.vendorId}:${device.productId}`;
  return device.serial !== undefined ? `${id} serial ${device.serial}` : `${id} at port ${device.path}`;
}
