// Which USB devices dom0's scan reports as PUSBs. XAPI runs dom0's usb_scan.py, which filters the
// host's devices through /etc/xensource/usb-policy.conf: an ordered list of ALLOW/DENY rules
// matching class, subclass, prot, vid, pid or rel, first match wins; hubs (class 09) are always
// denied. The rules below are the file as XCP-ng ships it (see docs/usb-passthrough.md; we read an
// installed copy, not the upstream file). Matching the device-level class only, not each
// interface's, is our choice.

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

/** True when dom0's scan reports `device` (so XAPI makes a PUSB for it). */
export function usbPolicyAllows(
  device: UsbDevice,
  rules: readonly PolicyRule[] = DEFAULT_USB_POLICY,
): boolean {
  const cls = device.deviceClass.toLowerCase();
  if (cls === "09") return false;
  const values = {
    class: cls,
    subclass: (device.subclass ?? "00").toLowerCase(),
    prot: (device.protocol ?? "00").toLowerCase(),
    vid: device.vendorId.toLowerCase(),
    pid: device.productId.toLowerCase(),
  };
  const rule = rules.find(({ match }) =>
    Object.entries(match).every(([key, value]) => values[key as keyof typeof values] === value),
  );
  return rule?.allow ?? false;
}
