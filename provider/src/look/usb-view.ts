// One look at a pool for one PassthroughUsb: core/usb-view.ts's UsbView from XAPI's records and
// the uuid of the host reached over SSH.
import { describeUsbDevice, type PassthroughUsbInputs, type UsbDeviceIdentity } from "../core/usb-inputs.js";
import { UsbRefusedError } from "../core/usb-errors.js";
import {
  PUSB_ENABLED_BY_KEY,
  VUSB_OWNER_KEY,
  type UsbDeviceFacts,
  type UsbView,
  type UsbVmFacts,
  type VusbFacts,
} from "../core/usb-view.js";
import type { Ref, WithRef } from "../xapi/records.js";
import type { PusbRecord, UsbSnapshot } from "../xapi/usb.js";

/** The owner id of a resource created without the constructor: the host and the device identity. */
export function usbOwnerOf(hostUuid: string, inputs: Pick<PassthroughUsbInputs, "device" | "owner">): string {
  return inputs.owner ?? `${hostUuid}:usb:${describeUsbDevice(inputs.device)}`;
}

/** Whether a PUSB is the device the identity names. */
export function pusbMatches(pusb: PusbRecord, identity: UsbDeviceIdentity): boolean {
  if (
    pusb.vendor_id.toLowerCase() !== identity.vendorId ||
    pusb.product_id.toLowerCase() !== identity.productId
  )
    return false;
  return identity.serial !== undefined ? pusb.serial === identity.serial : pusb.path === identity.path;
}

export function usbViewOf(
  snapshot: UsbSnapshot,
  hostUuid: string,
  inputs: PassthroughUsbInputs,
  previousOwner?: string,
): UsbView {
  const host = snapshot.hosts.find((h) => h.uuid === hostUuid);
  if (host === undefined) {
    throw new UsbRefusedError(
      "USB_HOST_UNKNOWN_TO_XAPI",
      { host: hostUuid },
      `XAPI does not know host ${hostUuid} (INSTALLATION_UUID of the dom0 reached over SSH): ` +
        "the XAPI endpoint and the SSH host are not the same pool",
    );
  }
  const owner = usbOwnerOf(hostUuid, inputs);
  const ours = (who: string | undefined) => who !== undefined && (who === owner || who === previousOwner);
  const device = (pusb: WithRef<PusbRecord>) => deviceFacts(snapshot, pusb);
  const named = snapshot.pusbs.filter((pusb) => pusbMatches(pusb, inputs.device));
  const matches = named.filter((pusb) => pusb.host === host.$ref).map(device);
  const elsewhere = named.filter((pusb) => pusb.host !== host.$ref).map(device);
  const groups = new Set(matches.map((m) => m.groupRef));
  const vusbs = snapshot.vusbs
    .filter((vusb) => groups.has(vusb.USB_group) || ours(vusb.other_config[VUSB_OWNER_KEY]))
    .map((vusb): VusbFacts => {
      const vm = snapshot.vms.find((v) => v.$ref === vusb.VM);
      return {
        ref: vusb.$ref,
        uuid: vusb.uuid,
        groupRef: vusb.USB_group,
        vmRef: vusb.VM,
        vmUuid: vm?.uuid ?? "",
        vmName: vm?.name_label ?? "",
        vmPowerState: vm?.power_state ?? "",
        currentlyAttached: vusb.currently_attached,
        owner: vusb.other_config[VUSB_OWNER_KEY],
      };
    });
  const identity = inputs.vm;
  const vms = snapshot.vms
    .filter((vm) => !vm.is_a_template)
    .filter((vm) => ("uuid" in identity ? vm.uuid === identity.uuid : vm.name_label === identity.nameLabel))
    .map((vm): UsbVmFacts => ({
      ref: vm.$ref,
      uuid: vm.uuid,
      nameLabel: vm.name_label,
      powerState: vm.power_state,
      isControlDomain: vm.is_control_domain,
      haRestartPriority: vm.ha_restart_priority ?? "",
      vusbCount: snapshot.vusbs.filter((vusb) => vusb.VM === vm.$ref).length,
    }));
  const enabledByUs = snapshot.pusbs
    .filter((pusb) => ours(pusb.other_config[PUSB_ENABLED_BY_KEY]))
    .map(device);
  return {
    hostUuid,
    hostName: host.name_label,
    owner,
    previousOwner,
    matches,
    elsewhere,
    vms,
    vusbs,
    enabledByUs,
  };
}

function deviceFacts(snapshot: UsbSnapshot, pusb: WithRef<PusbRecord>): UsbDeviceFacts {
  const host = snapshot.hosts.find((h) => h.$ref === pusb.host);
  return {
    ref: pusb.$ref,
    uuid: pusb.uuid,
    hostUuid: host?.uuid ?? "",
    hostName: host?.name_label ?? "",
    path: pusb.path,
    vendorId: pusb.vendor_id.toLowerCase(),
    productId: pusb.product_id.toLowerCase(),
    serial: pusb.serial,
    description: pusb.description,
    passthroughEnabled: pusb.passthrough_enabled,
    groupRef: pusb.USB_group,
    groupUuid: snapshot.groups.find((g) => g.$ref === pusb.USB_group)?.uuid ?? "",
    enabledBy: pusb.other_config[PUSB_ENABLED_BY_KEY],
    diskUse: diskUse(snapshot, pusb),
  };
}

/**
 * The stick as a disk: a VDI of a udev SR whose sm_config usb_path is the PUSB's port, with a
 * VBD. Enabling passthrough then fails with PUSB_VDI_CONFLICT. XAPI compares the port path alone,
 * over the udev SRs of every host of the pool (xapi_pusb.ml set_passthrough_enabled), so a disk
 * at the same port path of another host blocks it too, and so does it here.
 */
function diskUse(snapshot: UsbSnapshot, pusb: WithRef<PusbRecord>): UsbDeviceFacts["diskUse"] {
  const udevSrs = new Set(snapshot.srs.filter((sr) => sr.type === "udev").map((sr) => sr.$ref));
  for (const vdi of snapshot.vdis) {
    if (!udevSrs.has(vdi.SR) || vdi.sm_config?.["usb_path"] !== pusb.path) continue;
    const users = snapshot.vbds.filter((vbd) => vbd.VDI === vdi.$ref).map((vbd) => vmName(snapshot, vbd.VM));
    if (users.length > 0) return { vdiUuid: vdi.uuid, users };
  }
  return undefined;
}

function vmName(snapshot: UsbSnapshot, ref: Ref): string {
  const vm = snapshot.vms.find((v) => v.$ref === ref);
  if (vm === undefined) return ref;
  return vm.is_control_domain ? "dom0" : `VM "${vm.name_label}"`;
}
