// What one look at a pool shows about one PassthroughUsb: the PUSBs its identity names (on the
// host reached over SSH and elsewhere in the pool), the VM, and the VUSBs that matter. Plain
// data, made by look/usb-view.ts from XAPI's records; the plan (usb-plan.ts) reads only this.

/** XAPI opaque reference ("OpaqueRef:..."). */
export type UsbRef = string;

/** A PUSB: one USB device one host's scan reported. */
export interface UsbDeviceFacts {
  readonly ref: UsbRef;
  readonly uuid: string;
  readonly hostUuid: string;
  readonly hostName: string;
  /** Port path, e.g. "1-2". */
  readonly path: string;
  readonly vendorId: string;
  readonly productId: string;
  readonly serial: string;
  readonly description: string;
  readonly passthroughEnabled: boolean;
  readonly groupRef: UsbRef;
  readonly groupUuid: string;
  /** The owner that enabled passthrough (our tag in PUSB.other_config), if one of ours did. */
  readonly enabledBy: string | undefined;
  /**
   * The same stick as a disk of the host's udev SR (VDI sm_config usb_path = path) that a VBD
   * uses: enabling passthrough would fail with PUSB_VDI_CONFLICT. `users` names the VMs ("dom0"
   * for the control domain).
   */
  readonly diskUse: { readonly vdiUuid: string; readonly users: readonly string[] } | undefined;
}

/** A VUSB: a VM's claim on a USB group. */
export interface VusbFacts {
  readonly ref: UsbRef;
  readonly uuid: string;
  readonly groupRef: UsbRef;
  readonly vmRef: UsbRef;
  readonly vmUuid: string;
  readonly vmName: string;
  readonly vmPowerState: string;
  readonly currentlyAttached: boolean;
  /** Our owner tag in VUSB.other_config; undefined on a VUSB made outside this provider. */
  readonly owner: string | undefined;
}

/** A VM the `vm` input names. */
export interface UsbVmFacts {
  readonly ref: UsbRef;
  readonly uuid: string;
  readonly nameLabel: string;
  readonly powerState: string;
  readonly isControlDomain: boolean;
  /** VM.ha_restart_priority: "restart" forbids VUSBs (xapi_vusb.ml create). */
  readonly haRestartPriority: string;
  /** How many VUSBs the VM has (XAPI allows six). */
  readonly vusbCount: number;
}

export interface UsbView {
  /** The host reached over SSH (dom0's INSTALLATION_UUID) and its name. */
  readonly hostUuid: string;
  readonly hostName: string;
  /** Our owner id, and the earlier one an update takes pieces over from (a rename). */
  readonly owner: string;
  readonly previousOwner: string | undefined;
  /** PUSBs of this host that the identity names (one expected). */
  readonly matches: readonly UsbDeviceFacts[];
  /** PUSBs of other hosts of the pool that the identity names (the device moved there). */
  readonly elsewhere: readonly UsbDeviceFacts[];
  /** VMs (never templates) the `vm` input names. */
  readonly vms: readonly UsbVmFacts[];
  /** Every VUSB of the pool with a group among the matched devices', or owned by us. */
  readonly vusbs: readonly VusbFacts[];
  /** PUSBs anywhere in the pool whose passthrough this resource enabled. */
  readonly enabledByUs: readonly UsbDeviceFacts[];
}

/** other_config key of the VUSBs this provider made: the resource that owns it (as on VBDs). */
export const VUSB_OWNER_KEY = "xen-passthrough-owner";
/** other_config key naming the device identity a VUSB was made for (for people reading `xe`). */
export const VUSB_DEVICE_KEY = "xen-passthrough-usb";
/** PUSB.other_config key: the owner that enabled passthrough, so delete disables only what it enabled. */
export const PUSB_ENABLED_BY_KEY = "xen-passthrough-enabled-by";
