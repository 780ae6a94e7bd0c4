// The USB devices the PassthroughUsb tests of both tiers plug into the simulated host, and the
// `device` inputs that name them.
import { DEFAULT_USB_DEVICE, type UsbDevice } from "xen-sandbox";

/** A CH340 serial bridge without a serial number: only its port path names it. */
export const CH340: UsbDevice = {
  ...DEFAULT_USB_DEVICE,
  vendorId: "1a86",
  productId: "7523",
  serial: "",
  vendorDesc: "QinHeng Electronics",
  productDesc: "CH340 serial converter",
  path: "1-4",
};
/** Both devices, on one host. */
export const USB_DEVICES: UsbDevice[][] = [[DEFAULT_USB_DEVICE, CH340]];

/** The simulator's default device (a Zigbee stick) by vendor, product and serial. */
export const ZIGBEE = { vendorId: "10c4", productId: "ea60", serial: DEFAULT_USB_DEVICE.serial };
/** The CH340 by vendor, product and port path. */
export const BY_PATH = { vendorId: "1a86", productId: "7523", path: "1-4" };

/** A USB flash drive (mass storage, class 08, which dom0's USB policy lets through): also a disk. */
export const FLASH: UsbDevice = {
  ...DEFAULT_USB_DEVICE,
  vendorId: "0781",
  productId: "5567",
  serial: "4C530001230715117343",
  vendorDesc: "SanDisk Corp.",
  productDesc: "Cruzer Blade",
  deviceClass: "00",
  interfaces: [{ class: "08", subclass: "06", protocol: "50" }],
  path: "1-5",
};
