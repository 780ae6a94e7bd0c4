// PassthroughUsb's state (its outputs) and its drift, pure. Every output is always set ("" /
// false for "none"): protobuf Structs cannot carry undefined.
import type { PassthroughUsbInputs } from "./usb-inputs.js";
import type { UsbDeviceFacts, UsbView, UsbVmFacts, VusbFacts } from "./usb-view.js";

/** The outputs of a PassthroughUsb, as the last create, update or refresh saw the host. */
export interface PassthroughUsbOutputs {
  /** The host the device is plugged into (dom0's INSTALLATION_UUID). */
  readonly hostUuid: string;
  /** The device's PUSB ("" when it is gone). */
  readonly pusbUuid: string;
  /** Its USB group (XAPI's unit of passthrough). */
  readonly usbGroupUuid: string;
  /** The port the device is plugged into, e.g. "1-2". */
  readonly path: string;
  /** Whether passthrough is enabled on the device. */
  readonly passthroughEnabled: boolean;
  /** The VUSB giving the device to the VM ("" when it is gone). */
  readonly vusbUuid: string;
  readonly vmUuid: string;
  /** "Running", "Halted", "Paused", "Suspended", or "" when the VM was not found. */
  readonly vmPowerState: string;
  /** The device is attached to the running VM now. */
  readonly currentlyAttached: boolean;
  /**
   * The VM runs without the device: it appears only after the VM is shut down and started again
   * (XAPI attaches a VUSB when the VM starts; this resource never restarts a VM).
   */
  readonly restartRequired: boolean;
  /** What the user must do for the device to appear, in words ("" when nothing). */
  readonly notice: string;
  /** What differs from the declared passthrough, in words; the next `pulumi up` converges. */
  readonly drift: string[];
  /**
   * What the last create or update left (port, attached, VM power state): refresh compares the
   * host with it, so drift stays reported over several refreshes until the next `pulumi up`.
   */
  readonly converged: UsbConverged;
}

/** The baseline drift is measured against. */
export interface UsbConverged {
  readonly path: string;
  readonly currentlyAttached: boolean;
  readonly vmPowerState: string;
}

export const USB_OUTPUT_KEYS: readonly (keyof PassthroughUsbOutputs)[] = [
  "hostUuid",
  "pusbUuid",
  "usbGroupUuid",
  "path",
  "passthroughEnabled",
  "vusbUuid",
  "vmUuid",
  "vmPowerState",
  "currentlyAttached",
  "restartRequired",
  "notice",
  "drift",
  "converged",
];

/** The parts of a look one resource is about: its device, its VM and its VUSB on them. */
export interface UsbFocus {
  readonly device: UsbDeviceFacts | undefined;
  readonly vm: UsbVmFacts | undefined;
  readonly vusb: VusbFacts | undefined;
}

/** This resource's device, VM and VUSB in a look (each undefined when not there, or not one). */
export function focusOf(view: UsbView): UsbFocus {
  const device = view.matches.length === 1 ? view.matches[0] : undefined;
  const vm = view.vms.length === 1 ? view.vms[0] : undefined;
  const ours = (owner: string | undefined) =>
    owner !== undefined && (owner === view.owner || owner === view.previousOwner);
  const vusb = view.vusbs.find(
    (v) => ours(v.owner) && v.groupRef === device?.groupRef && v.vmRef === vm?.ref,
  );
  return { device, vm, vusb };
}

/** The sentence telling the user to restart the VM, or what happens at its next start. */
export function restartNotice(focus: UsbFocus): string {
  const { vm, vusb } = focus;
  if (vm === undefined || vusb === undefined) return "";
  if (vm.powerState === "Running" && !vusb.currentlyAttached) {
    return (
      `VM "${vm.nameLabel}" must restart for the USB device to appear: shut it down and start it again ` +
      `(xe vm-shutdown uuid=${vm.uuid}; xe vm-start uuid=${vm.uuid}). XAPI attaches a VUSB only when the VM starts`
    );
  }
  if (vm.powerState !== "Running") return `the USB device attaches when VM "${vm.nameLabel}" next starts`;
  return "";
}

/**
 * What the state records, from a look and the drift found in it. `converged`: the baseline to
 * keep (read carries the last one forward); create and update pass none, the look is the baseline.
 */
export function usbStateOf(
  view: UsbView,
  drift: readonly string[],
  converged?: UsbConverged,
): PassthroughUsbOutputs {
  const focus = focusOf(view);
  const { device, vm, vusb } = focus;
  const restartRequired = vm?.powerState === "Running" && vusb !== undefined && !vusb.currentlyAttached;
  return {
    hostUuid: view.hostUuid,
    pusbUuid: device?.uuid ?? "",
    usbGroupUuid: device?.groupUuid ?? "",
    path: device?.path ?? "",
    passthroughEnabled: device?.passthroughEnabled ?? false,
    vusbUuid: vusb?.uuid ?? "",
    vmUuid: vm?.uuid ?? "",
    vmPowerState: vm?.powerState ?? "",
    currentlyAttached: vusb?.currentlyAttached ?? false,
    restartRequired,
    notice: restartNotice(focus),
    drift: [...drift],
    converged: converged ?? {
      path: device?.path ?? "",
      currentlyAttached: vusb?.currentlyAttached ?? false,
      vmPowerState: vm?.powerState ?? "",
    },
  };
}

/** What the last state recorded, as drift compares it (absent in a state: no comparison). */
export interface UsbRecorded {
  readonly path: string | undefined;
  readonly currentlyAttached: boolean | undefined;
  readonly vmPowerState: string | undefined;
}

/** The baseline out of a state: its `converged` output (absent fields: no comparison). */
export function recordedOf(props: Record<string, unknown>): UsbRecorded {
  const converged = props["converged"];
  const from =
    typeof converged === "object" && converged !== null ? (converged as Record<string, unknown>) : {};
  const text = (key: string) => (typeof from[key] === "string" ? from[key] : undefined);
  const attached = from["currentlyAttached"];
  return {
    path: text("path"),
    currentlyAttached: typeof attached === "boolean" ? attached : undefined,
    vmPowerState: text("vmPowerState"),
  };
}

/**
 * The baseline a read carries forward: what the last create or update left, raised by what got
 * better since (the VM started, the device attached), so a later halt or unplug is drift; what
 * got worse stays measured against the old baseline until the next `pulumi up`.
 */
export function carriedBaseline(recorded: UsbRecorded, view: UsbView): UsbConverged | undefined {
  const { path, currentlyAttached, vmPowerState } = recorded;
  if (path === undefined || currentlyAttached === undefined || vmPowerState === undefined) return undefined;
  const { vm, vusb } = focusOf(view);
  return {
    path,
    currentlyAttached: currentlyAttached || (vusb?.currentlyAttached ?? false),
    vmPowerState: vm?.powerState === "Running" ? "Running" : vmPowerState,
  };
}

/**
 * Drift, in words: the device gone or moved (another port or host), passthrough disabled, the
 * VUSB gone or unplugged, the VM halted or gone. Compared with the last state where a change is
 * what matters (a port, an unplug, a halt); absolute otherwise.
 */
export function usbDrift(view: UsbView, inputs: PassthroughUsbInputs, recorded: UsbRecorded): string[] {
  const drift: string[] = [];
  const { device, vm, vusb } = focusOf(view);
  if (device === undefined) {
    const [away] = view.elsewhere;
    if (away !== undefined) drift.push(`the device moved to host ${away.hostName} (port ${away.path})`);
    else if (view.matches.length === 0)
      drift.push(`the device is gone from host ${view.hostName} (unplugged? XAPI destroys its VUSB with it)`);
    else drift.push(`${view.matches.length} devices on host ${view.hostName} now match the identity`);
  } else {
    if (
      recorded.path !== undefined &&
      recorded.path !== "" &&
      device.path !== recorded.path &&
      inputs.device.path === undefined
    )
      drift.push(`the device moved from port ${recorded.path} to port ${device.path}`);
    if (!device.passthroughEnabled)
      drift.push(`passthrough was disabled on the device (PUSB ${device.uuid})`);
  }
  if (view.vms.length === 0) drift.push("the VM is gone");
  if (vm !== undefined && device !== undefined && vusb === undefined) drift.push("the VUSB is gone");
  if (vm !== undefined && vusb !== undefined) {
    if (vm.powerState === "Running" && !vusb.currentlyAttached && recorded.currentlyAttached === true)
      drift.push(`the VUSB was unplugged from the running VM (it attaches again when the VM next starts)`);
  }
  if (vm !== undefined && recorded.vmPowerState === "Running" && vm.powerState !== "Running")
    drift.push(`the VM is ${vm.powerState} now (it was Running)`);
  return drift;
}
