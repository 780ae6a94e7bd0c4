// Which USB devices dom0's scan reports as PUSBs. XAPI runs dom0's usb_scan.py (xen-api
// python3/libexec/usb_scan.py, scripts/usb_scan.py in v1.249.x), which filters the host's devices
// through /etc/xensource/usb-policy.conf (xen-api scripts/usb-policy.conf, the same rules in
// v1.249.x and v25.x): an ordered list of ALLOW/DENY rules, first match wins. Rules are checked
// per interface (Policy.check): class, subclass and prot match the interface, vid, pid and rel the
// device; a device is listed only when every interface finds an ALLOW before any DENY. Hubs
// (class 09, device or interface) are never listed.

/** One interface of a USB device: bInterfaceClass, bInterfaceSubClass, bInterfaceProtocol (hex). */
export interface UsbInterface {
  class: string;
  subclass: string;
  protocol: string;
}

/** One USB device as the host sees it (hex ids as lsusb prints them, lower case). */
export interface UsbDevice {
  vendorId: string;
  productId: string;
  serial: string;
  /** bcdUSB as usb_scan.py reports it, e.g. "2.00". */
  version: string;
  vendorDesc: string;
  productDesc: string;
  /** The port path dom0 names it by, e.g. "1-2". */
  path: string;
  /** bDeviceClass, bDeviceSubClass, bDeviceProtocol in hex ("00" = defined per interface). */
  deviceClass: string;
  subclass?: string;
  protocol?: string;
  /** Speed in Mbit/s (PUSB.speed): 1.5, 12, 480 or 5000. */
  speed: number;
  /**
   * The device's interfaces, which the policy checks. When left out, the device counts as having
   * one interface of its own class, subclass and protocol (our shorthand).
   */
  interfaces?: UsbInterface[];
}

/** A Zigbee coordinator stick (Silicon Labs CP210x bridge), the device a host has by default. */
export const DEFAULT_USB_DEVICE: UsbDevice = {
  vendorId: "10c4",
  productId: "ea60",
  serial: "b6a8e1f2c54eed11a1c3f1d8a5a6b2c0",
  version: "2.00",
  vendorDesc: "Silicon Labs",
  productDesc: "CP210x UART Bridge",
  path: "1-2",
  deviceClass: "00",
  speed: 12,
  // A CP210x bridge has one vendor-specific interface.
  interfaces: [{ class: "ff", subclass: "00", protocol: "00" }],
};

interface PolicyRule {
  allow: boolean;
  match: Partial<Record<"class" | "subclass" | "prot" | "vid" | "pid", string>>;
}

/** usb-policy.conf's default rules, in order. */
export const DEFAULT_USB_POLICY: readonly PolicyRule[] = [
  { allow: false, match: { vid: "17e9" } }, // DisplayLink displays
  { allow: false, match: { class: "02" } }, // Communications and CDC-Control
  { allow: true, match: { vid: "056a", pid: "0315", class: "03" } }, // Wacom tablets
  { allow: true, match: { vid: "056a", pid: "0314", class: "03" } },
  { allow: true, match: { vid: "056a", pid: "00fb", class: "03" } },
  { allow: false, match: { class: "03", subclass: "01", prot: "01" } }, // HID boot keyboards
  { allow: false, match: { class: "03", subclass: "01", prot: "02" } }, // HID boot mice
  { allow: false, match: { class: "0a" } }, // CDC-Data
  { allow: false, match: { class: "0b" } }, // Smartcard
  { allow: false, match: { class: "e0" } }, // Wireless controller
  { allow: false, match: { class: "ef", subclass: "04" } }, // Miscellaneous network devices
  { allow: true, match: {} }, // everything else
];

/** The interfaces the policy checks (see UsbDevice.interfaces). */
function interfacesOf(device: UsbDevice): UsbInterface[] {
  return (
    device.interfaces ?? [
      { class: device.deviceClass, subclass: device.subclass ?? "00", protocol: device.protocol ?? "00" },
    ]
  );
}

/** True when dom0's scan reports `device` (so XAPI makes a PUSB for it). */
export function usbPolicyAllows(
  device: UsbDevice,
  rules: readonly PolicyRule[] = DEFAULT_USB_POLICY,
): boolean {
  const interfaces = interfacesOf(device).map((each) => ({
    class: each.class.toLowerCase(),
    subclass: each.subclass.toLowerCase(),
    prot: each.protocol.toLowerCase(),
  }));
  // is_class_hub: hub devices and hub interfaces are dropped; a device missing one of its
  // interfaces is not "ready" (is_ready), so a device with a hub interface is not listed either.
  if (device.deviceClass.toLowerCase() === "09" || interfaces.length === 0) return false;
  if (interfaces.some((each) => each.class === "09")) return false;
  const ids = { vid: device.vendorId.toLowerCase(), pid: device.productId.toLowerCase() };
  return interfaces.every((each) => {
    const values: Record<string, string> = { ...each, ...ids };
    const rule = rules.find(({ match }) =>
      Object.entries(match).every(([key, value]) => values[key] === value),
    );
    return rule?.allow ?? false;
  });
}
