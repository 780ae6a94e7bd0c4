// XAPI's USB scan of one host (xen-api ocaml/xapi/xapi_pusb.ml scan_start, the same in xapi
// v1.249.x and v25.x): dom0's usb_scan.py lists the devices the USB policy lets through, and
// XAPI reconciles the host's PUSB records with that list.
import type { Database } from "../database";
import { XapiFloat } from "../values";
import { createUsbGroup } from "./usb-group";
import { usbPolicyAllows } from "./usb-policy";
import type { UsbDevice } from "./usb-policy";
import { unplugVusb, vusbsOfGroup } from "./vusb";

/** What one scan changed, for tests and the control surface. */
export interface UsbScanReport {
  /** PUSBs made for devices that appeared. */
  added: string[];
  /** PUSBs destroyed (with their group and VUSBs) for devices that are gone. */
  removed: string[];
  /** PUSBs of gone devices left in place because unplugging their VUSB failed, with the error. */
  kept: Array<{ pusb: string; error: string }>;
}

/**
 * A device's identity in the scan: xapi_pusb_helpers.ml USB.compare looks at path, vendor_id,
 * product_id and serial only. So a stick moved to another port is a new device: its old PUSB
 * goes (with the VUSB that used it) and a new one, passthrough disabled, takes its place.
 */
function identity(device: { path: string; vendorId: string; productId: string; serial: string }): string {
  return [device.path, device.vendorId, device.productId, device.serial].join("\u0000");
}

function identityOfPusb(db: Database, pusb: string): string {
  return identity({
    path: db.str(pusb, "path"),
    vendorId: db.str(pusb, "vendor_id"),
    productId: db.str(pusb, "product_id"),
    serial: db.str(pusb, "serial"),
  });
}

/** usb_scan.py to_pusb: the vendor description, then "_<product desc>" and "_<serial>" when not empty. */
function descriptionOf(device: UsbDevice): string {
  return [device.vendorDesc, device.productDesc, device.serial]
    .filter((part, index) => index === 0 || part !== "")
    .join("_");
}

function createPusb(db: Database, host: string, device: UsbDevice): string {
  const pusb = db.create("PUSB", {
    host,
    path: device.path,
    vendor_id: device.vendorId,
    vendor_desc: device.vendorDesc,
    product_id: device.productId,
    product_desc: device.productDesc,
    serial: device.serial,
    version: device.version,
    description: descriptionOf(device),
    speed: new XapiFloat(device.speed),
  });
  // xapi_pusb_helpers.ml find_or_create: every new PUSB gets a group of its own.
  db.update(pusb, { USB_group: createUsbGroup(db, device.vendorId, device.productId) });
  return pusb;
}

/**
 * xapi_pusb_helpers.ml destroy_pusb: each VUSB of the PUSB's group is unplugged through the API
 * when attached (so VUSB.unplug's checks apply) and destroyed, then the PUSB and its group go.
 * scan_start catches a failure here and only logs it: the PUSB then stays.
 */
function destroyPusb(db: Database, pusb: string): string | undefined {
  const group = db.str(pusb, "USB_group");
  for (const vusb of vusbsOfGroup(db, group)) {
    if (db.bool(vusb, "currently_attached")) {
      const unplugged = unplugVusb(db, vusb);
      if (!unplugged.ok) return [unplugged.fault.code, ...unplugged.fault.params].join(" ");
    }
    db.destroy(vusb);
  }
  db.destroy(pusb);
  if (db.has(group, "USB_group")) db.destroy(group);
  return undefined;
}

/** xapi_pusb.ml scan_start for `host`, given the devices plugged into it right now. */
export function scanHostUsb(db: Database, host: string, plugged: readonly UsbDevice[]): UsbScanReport {
  const local = new Map<string, UsbDevice>();
  for (const device of plugged) if (usbPolicyAllows(device)) local.set(identity(device), device);
  const known = db.find("PUSB", (record) => record["host"] === host);
  const knownIds = new Set(known.map((pusb) => identityOfPusb(db, pusb)));

  const report: UsbScanReport = { added: [], removed: [], kept: [] };
  for (const [id, device] of local) if (!knownIds.has(id)) report.added.push(createPusb(db, host, device));
  for (const pusb of known) {
    const device = local.get(identityOfPusb(db, pusb));
    if (device !== undefined) {
      // refresh_speed: a PUSB made before `speed` existed has a negative speed until a scan.
      const speed = db.field(pusb, "speed");
      if (speed instanceof XapiFloat && speed.value < 0)
        db.update(pusb, { speed: new XapiFloat(device.speed) });
      continue;
    }
    const error = destroyPusb(db, pusb);
    if (error === undefined) report.removed.push(pusb);
    else report.kept.push({ pusb, error });
  }
  return report;
}
