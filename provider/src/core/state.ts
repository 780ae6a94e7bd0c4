// The resource's state (its outputs): the checked inputs echoed, what was made on the host, and
// what the last create/update/read observed. Every field is always set ("" / false / 0 for
// "none"), because protobuf Structs cannot carry undefined.
import type { PassthroughDiskInputs, VbdMode } from "./inputs.js";
import type { BootRepairStatus } from "./boot-repair.js";
import type { RuleStatus, SymlinkNaming } from "./rule.js";

/**
 * XAPI VM power states; "" when the VM was not found.
 *
 * @example
 * disk.observed.apply((o) => o.vmPowerState === "Running");
 */
export type VmPowerState = "Running" | "Halted" | "Paused" | "Suspended" | "";

/**
 * What `read` (or the end of create/update) saw on the host. The drift (`drift`) is read from the
 * converge plan of the same look (core/drift.ts); diff tells its notes apart with this.
 *
 * @example
 * export const unplugged = disk.observed.apply((o) => o.vbdPresent && !o.vbdAttached);
 */
export interface ObservedState {
  /** Our rule file: as rendered, missing, or changed by someone. */
  readonly ruleStatus: RuleStatus;
  /** The disk was found on the host by its identity. */
  readonly diskPresent: boolean;
  /** Kernel name the disk has now ("" when not found). */
  readonly kernelName: string;
  /** /dev/xapi/block/<kernelName> exists and resolves to the disk. */
  readonly symlinkPresent: boolean;
  /** The udev SR has a VDI at that location. */
  readonly vdiPresent: boolean;
  /** Our VBD (found by its other_config tag) exists. */
  readonly vbdPresent: boolean;
  /** Our VBD refers to the VDI at the current location (false after a kernel rename). */
  readonly vbdOnCurrentVdi: boolean;
  /** Our VBD is plugged. */
  readonly vbdAttached: boolean;
  /** Settings of our VBD as found ("" / false when there is none). */
  readonly vbdMode: VbdMode | "";
  readonly vbdUserdevice: string;
  readonly vbdBootable: boolean;
  readonly vmPresent: boolean;
  readonly vmPowerState: VmPowerState;
  // Added with pools and HVM guests: absent from states written before, which read as "unknown"
  // (no drift), so an old state diffs as it did.
  /** A running VM can take a disk now: false for an HVM guest without PV drivers. */
  readonly vmCanHotplug?: boolean;
  /** UUID of the pool host the VM runs on ("" when it is not running). */
  readonly vmResidentOn?: string;
  /** The VM runs on the disk's host (true when it is not running). */
  readonly vmOnDiskHost?: boolean;
  /** VM.affinity names the disk's host, so XAPI starts the VM there. */
  readonly vmAffinityOnDiskHost?: boolean;
  // Added with the boot repair: absent from earlier states (no drift).
  /**
   * The boot repair (xen-passthrough-boot-repair.service) on a host whose storage manager does not
   * resolve symlinks (XCP-ng 8.2): "ok", "missing", "outdated"; "notNeeded" elsewhere.
   */
  readonly bootRepair?: BootRepairStatus;
  /** Why the boot repair could not move this disk's VBD at the last boot ("" when it did not fail). */
  readonly bootRepairFailure?: string;
  // Added with stable symlink names (issue 12): absent from earlier states, read as unknown.
  /** How the /dev/xapi/block symlink in place is named: after the disk's identity, or its kernel name. */
  readonly symlinkNaming?: SymlinkNaming;
  /** The host's udev SR resolves symlinks (sm >= 3.0.6): stable names survive kernel renames there. */
  readonly hostResolvesSymlinks?: boolean;
  /** Version of the host's sm package ("" when unknown). */
  readonly smVersion?: string;
  /** The disk our VBD points at when it is another one (two disks swapped kernel names), e.g. "serial ZS4A"; "" otherwise. */
  readonly vbdOtherDisk?: string;
}

/**
 * What a PassthroughDisk reports beyond its inputs: the one description of its outputs (the
 * resource's output properties are mapped from it, and listed by {@link OUTPUT_KEYS}).
 */
export interface PassthroughDiskOutputs {
  /** UUID of the host whose disk is passed through (INSTALLATION_UUID of its xensource-inventory). */
  readonly hostUuid: string;
  /** UUID of the VM the disk is attached to. */
  readonly vmUuid: string;
  /** UUID of the VDI in the host's udev SR; changes whenever udev re-adds the disk. */
  readonly vdiUuid: string;
  /** UUID of the VBD. */
  readonly vbdUuid: string;
  /** Device name in the guest as XAPI reports it (VBD.device, e.g. "xvdb"); "" until first plugged. */
  readonly device: string;
  /**
   * Kernel name of the disk in dom0 when create/update last converged (e.g. "sdb"). read keeps
   * it and puts the name it sees in `observed.kernelName`, so a rename shows as drift.
   */
  readonly kernelName: string;
  /** The VDI's location: "/dev/xapi/block/<stable name>" or "/dev/xapi/block/<kernelName>" (observed.symlinkNaming). */
  readonly symlinkPath: string;
  /** Path of the udev rule file on dom0. */
  readonly rulePath: string;
  /** Content of the udev rule file. */
  readonly ruleText: string;
  /** Whether the VBD is plugged. */
  readonly currentlyAttached: boolean;
  /** Size of the disk in bytes. */
  readonly sizeBytes: number;
  /** What the last create, update or refresh saw on the host. */
  readonly observed: ObservedState;
  /**
   * What the next update would change, in words, then notes on what it cannot change (the VM
   * halted, gone, ...); empty when host and inputs agree.
   */
  readonly drift: readonly string[];
}

/** Outputs of a PassthroughDisk and its inputs echoed: its state in the Pulumi checkpoint. */
export interface PassthroughDiskState extends PassthroughDiskInputs, PassthroughDiskOutputs {}

/** The names of the outputs: the resource lists them (as undefined) so the engine fills them in. */
export const OUTPUT_KEYS = [
  "hostUuid",
  "vmUuid",
  "vdiUuid",
  "vbdUuid",
  "device",
  "kernelName",
  "symlinkPath",
  "rulePath",
  "ruleText",
  "currentlyAttached",
  "sizeBytes",
  "observed",
  "drift",
] as const satisfies readonly (keyof PassthroughDiskOutputs)[];

// Compile-time: OUTPUT_KEYS names every output.
const everyOutputListed: Exclude<keyof PassthroughDiskOutputs, (typeof OUTPUT_KEYS)[number]> extends never
  ? true
  : never = true;
void everyOutputListed;
