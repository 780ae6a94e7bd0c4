import type { ClassSchema, Database } from "../database";
import type { MethodSpec } from "../dispatch/method";
import { genericMethods } from "./generic";

// xen-api datamodel USB_group (XenServer 7.3): a group of interchangeable PUSBs; XAPI makes one
// group per PUSB (xapi_pusb_helpers.ml find_or_create).
export const usbGroupSchema: ClassSchema = {
  name: "USB_group",
  fields: { uuid: "", name_label: "", name_description: "", other_config: {} },
  backRefs: {
    PUSBs: { from: "PUSB", via: "USB_group" },
    VUSBs: { from: "VUSB", via: "USB_group" },
  },
};

/** The group a new PUSB gets, named as xapi_pusb_helpers.ml find_or_create names it. */
export function createUsbGroup(db: Database, vendorId: string, productId: string): string {
  return db.create("USB_group", { name_label: `Group of ${vendorId} ${productId} USBs` });
}

export const usbGroupMethods: MethodSpec[] = genericMethods(usbGroupSchema);
