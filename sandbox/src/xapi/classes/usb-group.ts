import type { ClassSchema, Database } from "../database";
import { fail, ok } from "../faults";
import type { Outcome } from "../faults";
import type { MethodSpec } from "../dispatch/method";
import { asStringMap, asText } from "../values";
import type { XapiValue } from "../values";
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

/**
 * xapi_usb_group.ml destroy: refused with USB_GROUP_CONTAINS_VUSB [attached VUSB refs] while a
 * VUSB of the group is attached, then USB_GROUP_CONTAINS_PUSB [PUSB refs] while it holds a PUSB;
 * otherwise its VUSBs go with it.
 */
function destroyGroup(db: Database, group: string): Outcome<XapiValue> {
  const vusbs = db.find("VUSB", (record) => record["USB_group"] === group);
  const attached = vusbs.filter((vusb) => db.bool(vusb, "currently_attached"));
  if (attached.length > 0) return fail("USB_GROUP_CONTAINS_VUSB", ...attached);
  const pusbs = db.find("PUSB", (record) => record["USB_group"] === group);
  if (pusbs.length > 0) return fail("USB_GROUP_CONTAINS_PUSB", ...pusbs);
  for (const vusb of vusbs) db.destroy(vusb);
  db.destroy(group);
  return ok("");
}

export const usbGroupMethods: MethodSpec[] = [
  ...genericMethods(usbGroupSchema),
  {
    // xapi_usb_group.ml create: a database record only (message_forwarding.ml does not forward it).
    name: "USB_group.create",
    params: [
      { name: "name_label", kind: "string" },
      { name: "name_description", kind: "string" },
      { name: "other_config", kind: "map" },
    ],
    hasAsync: true,
    handler: ({ db }, [nameLabel, nameDescription, otherConfig]) =>
      ok(
        db.create("USB_group", {
          name_label: asText(nameLabel),
          name_description: asText(nameDescription),
          other_config: asStringMap(otherConfig as XapiValue) ?? {},
        }),
      ),
  },
  {
    name: "USB_group.destroy",
    params: [{ name: "self", kind: "ref", cls: "USB_group" }],
    hasAsync: true,
    handler: ({ db }, [group]) => destroyGroup(db, group as string),
  },
];
