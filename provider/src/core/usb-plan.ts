// The plans of PassthroughUsb, pure: from one look (usb-view.ts) and the inputs, what create or
// update must change (converge) and what delete must undo (removal), as values with named parts,
// after every refusal. A small executor (lifecycle/usb/apply.ts) carries a plan out in order.
import type { VmIdentity } from "./inputs.js";
import { describeUsbDevice, type PassthroughUsbInputs, type UsbDeviceIdentity } from "./usb-inputs.js";
import { UsbRefusedError } from "./usb-errors.js";
import type { UsbDeviceFacts, UsbRef, UsbView, UsbVmFacts, VusbFacts } from "./usb-view.js";

/** XAPI allows a VM at most six VUSBs (xapi_vusb.ml create, TOO_MANY_VUSBS). */
export const MAX_VUSBS_PER_VM = 6;

/** A PUSB this resource enabled and no longer wants: our tag goes, and passthrough too if safe. */
export interface PusbRelease {
  readonly ref: UsbRef;
  readonly uuid: string;
  /**
   * Disable passthrough too. False when a VUSB that is not ours uses the device's group:
   * disabling would destroy it (xapi_pusb.ml set_passthrough_enabled), so only the tag goes.
   */
  readonly disable: boolean;
}

/** What create or update changes, in the order the executor runs the parts. */
export interface UsbConvergePlan {
  readonly device: UsbDeviceFacts;
  readonly vm: UsbVmFacts;
  /** Our VUSBs that are not the wanted one (another VM, another device): destroyed first. */
  readonly destroyVusbs: readonly VusbFacts[];
  /** PUSBs we enabled that are no longer the wanted device. */
  readonly releasePusbs: readonly PusbRelease[];
  /** PUSB.set_passthrough_enabled true on the wanted device (it is off). */
  readonly enablePassthrough: boolean;
  /** Record in PUSB.other_config that we enabled it (set when enabling, or taking over a rename's). */
  readonly markEnabledBy: boolean;
  /** VUSB.create on the device's group for the VM, tagged with these other_config keys. */
  readonly createVusb: boolean;
  /** The wanted VUSB exists under an earlier owner (a rename): re-tag it as ours. */
  readonly retagVusb: VusbFacts | undefined;
  /** The wanted VUSB, when it already exists (kept as it is). */
  readonly keptVusb: VusbFacts | undefined;
  /** The VM runs and the device is not attached: it appears only after the VM's next start. */
  readonly restartRequired: boolean;
}

/** What delete undoes. */
export interface UsbRemovalPlan {
  readonly destroyVusbs: readonly VusbFacts[];
  readonly releasePusbs: readonly PusbRelease[];
}

/** Whether a plan changes anything on the host. */
export function convergeChangesHost(plan: UsbConvergePlan): boolean {
  return (
    plan.destroyVusbs.length > 0 ||
    plan.releasePusbs.length > 0 ||
    plan.enablePassthrough ||
    plan.markEnabledBy ||
    plan.createVusb ||
    plan.retagVusb !== undefined
  );
}

const isOurs = (view: UsbView, owner: string | undefined) =>
  owner !== undefined && (owner === view.owner || owner === view.previousOwner);

/**
 * The plan of create and update: refuses anything unsafe or not ours before a change, then says
 * what to change so the device is passed through to the VM, and nothing else of ours remains.
 */
export function planUsbConverge(view: UsbView, inputs: PassthroughUsbInputs): UsbConvergePlan {
  const device = theDevice(view, inputs.device);
  const vm = theVm(view, inputs.vm);
  if (device.diskUse !== undefined) throw inUseAsDisk(inputs.device, device);
  const groupVusbs = view.vusbs.filter((vusb) => vusb.groupRef === device.groupRef);
  const foreign = groupVusbs.find((vusb) => !isOurs(view, vusb.owner));
  if (foreign !== undefined) throw heldElsewhere(inputs.device, foreign, vm);

  const kept = groupVusbs.find((vusb) => vusb.vmRef === vm.ref);
  const destroyVusbs = view.vusbs.filter((vusb) => isOurs(view, vusb.owner) && vusb !== kept);
  const attached = destroyVusbs.find((vusb) => vusb.currentlyAttached);
  if (attached !== undefined) throw stillAttached(attached, "moving it to the new device or VM");

  const createVusb = kept === undefined;
  if (createVusb) {
    const staying = vm.vusbCount - destroyVusbs.filter((vusb) => vusb.vmRef === vm.ref).length;
    if (staying >= MAX_VUSBS_PER_VM) throw tooManyVusbs(vm);
    if (vm.haRestartPriority === "restart") throw haRestart(vm);
  }
  return {
    device,
    vm,
    destroyVusbs,
    releasePusbs: releases(view, destroyVusbs, device.ref),
    enablePassthrough: !device.passthroughEnabled,
    markEnabledBy:
      !device.passthroughEnabled ||
      (device.enabledBy !== undefined && device.enabledBy !== view.owner && isOurs(view, device.enabledBy)),
    createVusb,
    retagVusb: kept !== undefined && kept.owner !== view.owner ? kept : undefined,
    keptVusb: kept,
    restartRequired: vm.powerState === "Running" && !(kept?.currentlyAttached ?? false),
  };
}

/** The plan of delete: every VUSB of ours goes (refused while one is attached), then our PUSBs are released. */
export function planUsbRemoval(view: UsbView): UsbRemovalPlan {
  const destroyVusbs = view.vusbs.filter((vusb) => isOurs(view, vusb.owner));
  const attached = destroyVusbs.find((vusb) => vusb.currentlyAttached);
  if (attached !== undefined) throw stillAttached(attached, "deleting the passthrough");
  return { destroyVusbs, releasePusbs: releases(view, destroyVusbs, undefined) };
}

/** Our PUSBs other than `keep`; passthrough is disabled only where no foreign VUSB would be destroyed with it. */
function releases(view: UsbView, destroyed: readonly VusbFacts[], keep: UsbRef | undefined): PusbRelease[] {
  return view.enabledByUs
    .filter((pusb) => pusb.ref !== keep)
    .map((pusb) => ({
      ref: pusb.ref,
      uuid: pusb.uuid,
      disable:
        pusb.passthroughEnabled &&
        !view.vusbs.some((vusb) => vusb.groupRef === pusb.groupRef && !destroyed.includes(vusb)),
    }));
}

/** The one PUSB of this host the identity names. */
function theDevice(view: UsbView, identity: UsbDeviceIdentity): UsbDeviceFacts {
  const what = describeUsbDevice(identity);
  const [only, second] = view.matches;
  if (only !== undefined && second === undefined) return only;
  if (only !== undefined) {
    const ports = view.matches.map((pusb) => `port ${pusb.path} (serial "${pusb.serial}")`).join(", ");
    throw new UsbRefusedError(
      "USB_DEVICE_AMBIGUOUS",
      { device: what, host: view.hostUuid },
      `${what} is ambiguous on host ${view.hostName}: ${view.matches.length} devices match (${ports}). ` +
        "Name it by its serial, or by device.path if it has none",
    );
  }
  const [away] = view.elsewhere;
  if (away !== undefined) {
    throw new UsbRefusedError(
      "USB_DEVICE_ON_OTHER_HOST",
      { device: what, host: away.hostUuid },
      `${what} is not plugged into host ${view.hostName} but into host ${away.hostName} (port ${away.path}): ` +
        "point connection at that host's dom0, or plug the device back and run `xe pusb-scan host-uuid=<host uuid>`",
    );
  }
  throw new UsbRefusedError(
    "USB_DEVICE_NOT_FOUND",
    { device: what, host: view.hostUuid },
    `${what} is not among host ${view.hostName}'s USB devices: list them with ` +
      "`pulumi-xen-passthrough usb --host <dom0>` and copy the identity shown. A device missing there is " +
      "unplugged, or hidden by dom0's USB policy (/etc/xensource/usb-policy.conf hides hubs, keyboards and " +
      "CDC devices such as some Zigbee sticks: add an ALLOW line for it, then run `xe pusb-scan host-uuid=<host uuid>`)",
  );
}

/** The one VM the identity names. */
function theVm(view: UsbView, identity: VmIdentity): UsbVmFacts {
  const what = "uuid" in identity ? `VM ${identity.uuid}` : `VM "${identity.nameLabel}"`;
  const [only, second] = view.vms;
  if (only === undefined) {
    throw new UsbRefusedError(
      "USB_VM_NOT_FOUND",
      { vm: what },
      `${what} does not exist in the pool (templates do not count): check vm.uuid or vm.nameLabel`,
    );
  }
  if (second !== undefined) {
    throw new UsbRefusedError(
      "USB_VM_AMBIGUOUS",
      { vm: what },
      `${what} is ambiguous: ${view.vms.length} VMs have that name (${view.vms.map((vm) => vm.uuid).join(", ")}); use vm.uuid`,
    );
  }
  if (only.isControlDomain) {
    throw new UsbRefusedError(
      "USB_VM_IS_CONTROL_DOMAIN",
      { vm: what },
      `${what} is a control domain (dom0): USB passthrough hands a device to a guest VM; name a guest`,
    );
  }
  return only;
}

function inUseAsDisk(identity: UsbDeviceIdentity, device: UsbDeviceFacts): UsbRefusedError {
  const users = device.diskUse?.users ?? [];
  return new UsbRefusedError(
    "USB_DEVICE_IN_USE_AS_DISK",
    { device: describeUsbDevice(identity), vdi: device.diskUse?.vdiUuid ?? "" },
    `${describeUsbDevice(identity)} is in use as a disk (VDI ${device.diskUse?.vdiUuid ?? "?"} of the ` +
      `"Removable storage" SR, used by ${users.join(", ")}): XAPI refuses passthrough with PUSB_VDI_CONFLICT. ` +
      "Remove that disk's VBD first (delete its PassthroughDisk, or `xe vbd-unplug` and `xe vbd-destroy`)",
  );
}

function heldElsewhere(identity: UsbDeviceIdentity, vusb: VusbFacts, vm: UsbVmFacts): UsbRefusedError {
  const what = describeUsbDevice(identity);
  if (vusb.owner !== undefined) {
    return new UsbRefusedError(
      "USB_DEVICE_OWNED_ELSEWHERE",
      { device: what, owner: vusb.owner },
      `${what} is already managed by PassthroughUsb ${vusb.owner} (VUSB ${vusb.uuid} on VM "${vusb.vmName}"): ` +
        "one device has one owner. Delete that resource first, or name another device",
    );
  }
  if (vusb.vmRef === vm.ref) {
    return new UsbRefusedError(
      "USB_DEVICE_HAS_UNMANAGED_VUSB",
      { device: what, vm: vusb.vmUuid, vusb: vusb.uuid },
      `${what} is already given to VM "${vusb.vmName}" by VUSB ${vusb.uuid}, made outside this provider: ` +
        `remove it (\`xe vusb-destroy uuid=${vusb.uuid}\`, with the VM halted) so this resource can manage the device`,
    );
  }
  return new UsbRefusedError(
    "USB_DEVICE_HELD_BY_OTHER_VM",
    { device: what, vm: vusb.vmUuid, vusb: vusb.uuid },
    `${what} is held by VM "${vusb.vmName}" (${vusb.vmUuid}) through VUSB ${vusb.uuid}: XAPI allows one VM ` +
      `per device. Remove that VUSB first (\`xe vusb-destroy uuid=${vusb.uuid}\`, with that VM halted)`,
  );
}

function stillAttached(vusb: VusbFacts, doing: string): UsbRefusedError {
  return new UsbRefusedError(
    "USB_STILL_ATTACHED",
    { vusb: vusb.uuid, vm: vusb.vmUuid },
    `VUSB ${vusb.uuid} is attached to running VM "${vusb.vmName}" (${vusb.vmUuid}), and XAPI destroys no ` +
      `attached VUSB: shut the VM down (or \`xe vusb-unplug uuid=${vusb.uuid}\`), then run again. ` +
      `Nothing was changed before ${doing}`,
  );
}

function tooManyVusbs(vm: UsbVmFacts): UsbRefusedError {
  return new UsbRefusedError(
    "USB_VM_TOO_MANY_VUSBS",
    { vm: vm.uuid, limit: String(MAX_VUSBS_PER_VM) },
    `VM "${vm.nameLabel}" already has ${vm.vusbCount} USB devices and XAPI allows ${MAX_VUSBS_PER_VM} ` +
      "(TOO_MANY_VUSBS): remove one (`xe vusb-list vm-uuid=...`) before adding another",
  );
}

function haRestart(vm: UsbVmFacts): UsbRefusedError {
  return new UsbRefusedError(
    "USB_VM_HA_RESTART",
    { vm: vm.uuid },
    `VM "${vm.nameLabel}" is protected by HA (ha-restart-priority=restart), and XAPI gives no USB device to such ` +
      `a VM: set \`xe vm-param-set uuid=${vm.uuid} ha-restart-priority=best-effort\` (or clear it) first`,
  );
}
