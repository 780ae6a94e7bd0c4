import type { ClassSchema, Database } from "../database";
import { fail, ok } from "../faults";
import type { Outcome } from "../faults";
import type { MethodSpec } from "../dispatch/method";
import { NULL_REF, XapiFloat, asBool, asStringMap } from "../values";
import type { XapiValue } from "../values";
import { genericMethods } from "./generic";
import { scanHostUsb } from "./usb-scan";
import { destroyVusb, vusbsOfGroup } from "./vusb";

// xen-api datamodel PUSB (XenServer 7.3; `speed` came later). XAPI's internal `attached` (the
// VUSB using the device) is not on the wire; we derive it from the group's VUSB when needed.
export const pusbSchema: ClassSchema = {
  name: "PUSB",
  fields: {
    uuid: "",
    USB_group: NULL_REF,
    host: NULL_REF,
    path: "",
    vendor_id: "",
    vendor_desc: "",
    product_id: "",
    product_desc: "",
    serial: "",
    version: "",
    description: "",
    passthrough_enabled: false,
    other_config: {},
    speed: new XapiFloat(-1),
  },
};

/** The VM a PUSB is passed to right now, if any (XAPI's PUSB.attached). */
function attachedVm(db: Database, pusb: string): string | undefined {
  const [vusb] = vusbsOfGroup(db, db.str(pusb, "USB_group")).filter((ref) =>
    db.bool(ref, "currently_attached"),
  );
  return vusb === undefined ? undefined : db.str(vusb, "VM");
}

/**
 * xapi_pusb.ml set_passthrough_enabled (xapi v1.249.x and v25.x alike). Enabling forgets the
 * udev SRs' VDIs for the same stick (sm_config usb_path = PUSB.path, set by sm's scan: see
 * udev-usb.ts), refused with PUSB_VDI_CONFLICT [pusb, vdi] at the first such VDI that has any
 * VBD, attached or not. Disabling is refused with
 * USB_ALREADY_ATTACHED while a VM holds the device, and destroys the group's VUSBs. XAPI then
 * rescans the udev SRs to bring the disk back; that rescan is not modelled (the next SR.scan does it).
 */
function setPassthroughEnabled(db: Database, pusb: string, value: boolean): Outcome<XapiValue> {
  if (value) {
    const path = db.str(pusb, "path");
    // SR by SR, VDI by VDI, each checked and then forgotten (Xapi_vdi.forget: the record goes), so
    // a conflict stops the walk with the VDIs before it already forgotten: no rollback upstream.
    for (const sr of db.find("SR", (record) => record["type"] === "udev"))
      for (const vdi of db.find("VDI", (record) => record["SR"] === sr)) {
        if ((asStringMap(db.raw(vdi, "sm_config")) ?? {})["usb_path"] !== path) continue;
        if (db.find("VBD", (record) => record["VDI"] === vdi).length > 0)
          return fail("PUSB_VDI_CONFLICT", pusb, vdi);
        db.destroy(vdi);
      }
  } else {
    const vm = attachedVm(db, pusb);
    if (vm !== undefined) return fail("USB_ALREADY_ATTACHED", pusb, vm);
    for (const vusb of vusbsOfGroup(db, db.str(pusb, "USB_group"))) {
      const destroyed = destroyVusb(db, vusb);
      if (!destroyed.ok) return destroyed;
    }
  }
  db.update(pusb, { passthrough_enabled: value });
  return ok("");
}

export const pusbMethods: MethodSpec[] = [
  ...genericMethods(pusbSchema),
  {
    // xapi_pusb.ml scan only wakes the host's scan thread and returns: the records change
    // afterwards (here on the next turn of the event loop), so a caller polls for the result.
    // message_forwarding.ml runs it on `host`, which scans its own devices.
    name: "PUSB.scan",
    params: [{ name: "host", kind: "ref", cls: "host" }],
    hasAsync: true,
    handler: ({ db, world }, [host]) => {
      const poolHost = world.hosts.find((each) => each.ref === host);
      if (poolHost !== undefined) setImmediate(() => scanHostUsb(db, poolHost.ref, poolHost.usbDevices));
      return ok("");
    },
  },
  {
    name: "PUSB.set_passthrough_enabled",
    params: [
      { name: "self", kind: "ref", cls: "PUSB" },
      { name: "value", kind: "bool" },
    ],
    hasAsync: true,
    handler: ({ db }, [pusb, value]) => setPassthroughEnabled(db, pusb as string, asBool(value) ?? false),
  },
];
