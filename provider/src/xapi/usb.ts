// XAPI's USB passthrough classes (PUSB, USB_group, VUSB; XenServer 7.3 and later) and the records
// a PassthroughUsb look reads with them, fetched in one round of get_all_records calls.
import type { XapiCaller } from "./caller.js";
import type { XapiSnapshot } from "./snapshot.js";
import type { Ref, VdiRecord, WithRef } from "./records.js";
import { fetchAllRecords } from "./records.js";

/** A USB device one host's scan reported (fields as xen-api's datamodel names them). */
export interface PusbRecord {
  uuid: string;
  USB_group: Ref;
  host: Ref;
  path: string;
  vendor_id: string;
  vendor_desc: string;
  product_id: string;
  product_desc: string;
  serial: string;
  description: string;
  passthrough_enabled: boolean;
  other_config: Record<string, string>;
}

export interface UsbGroupRecord {
  uuid: string;
  name_label: string;
}

export interface VusbRecord {
  uuid: string;
  VM: Ref;
  USB_group: Ref;
  currently_attached: boolean;
  other_config: Record<string, string>;
}

/** The VM fields a USB look reads. */
export interface UsbVmRecord {
  uuid: string;
  name_label: string;
  power_state: string;
  is_control_domain: boolean;
  is_a_template: boolean;
  ha_restart_priority?: string;
}

/** The records of a USB look; for a stick also seen as a disk, the udev SRs, their VDIs and VBDs. */
export interface UsbSnapshot extends Pick<XapiSnapshot, "hosts" | "srs" | "vbds"> {
  readonly pusbs: readonly WithRef<PusbRecord>[];
  readonly groups: readonly WithRef<UsbGroupRecord>[];
  readonly vusbs: readonly WithRef<VusbRecord>[];
  readonly vms: readonly WithRef<UsbVmRecord>[];
  readonly vdis: readonly WithRef<VdiRecord & { sm_config?: Record<string, string> }>[];
}

export function fetchUsbSnapshot(xapi: XapiCaller): Promise<UsbSnapshot> {
  return fetchAllRecords<UsbSnapshot>(xapi, {
    hosts: "host",
    pusbs: "PUSB",
    groups: "USB_group",
    vusbs: "VUSB",
    vms: "VM",
    srs: "SR",
    vdis: "VDI",
    vbds: "VBD",
  });
}

/** PUSB.set_passthrough_enabled (xapi_pusb.ml): disabling destroys the group's VUSBs. */
export async function setPassthroughEnabled(xapi: XapiCaller, pusb: Ref, value: boolean): Promise<void> {
  await xapi.call("PUSB.set_passthrough_enabled", pusb, value);
}

/** Adds (or replaces) one other_config key of a PUSB or VUSB. */
export async function setOtherConfigKey(
  xapi: XapiCaller,
  cls: "PUSB" | "VUSB",
  ref: Ref,
  key: string,
  value: string,
): Promise<void> {
  // add_to_other_config fails with MAP_DUPLICATE_KEY on an existing key: remove it first.
  await xapi.call(`${cls}.remove_from_other_config`, ref, key);
  await xapi.call(`${cls}.add_to_other_config`, ref, key, value);
}

export async function removeOtherConfigKey(
  xapi: XapiCaller,
  cls: "PUSB" | "VUSB",
  ref: Ref,
  key: string,
): Promise<void> {
  await xapi.call(`${cls}.remove_from_other_config`, ref, key);
}

/** VUSB.create (xapi_vusb.ml): the VM's claim on a group; it attaches when the VM next starts. */
export function createVusb(
  xapi: XapiCaller,
  vm: Ref,
  group: Ref,
  otherConfig: Record<string, string>,
): Promise<Ref> {
  return xapi.call<Ref>("VUSB.create", vm, group, otherConfig);
}

/** VUSB.destroy (xapi_vusb.ml): refused while the VUSB is attached. */
export async function destroyVusb(xapi: XapiCaller, vusb: Ref): Promise<void> {
  await xapi.call("VUSB.destroy", vusb);
}
