// Drift: differences between what read observed on the host and what the inputs want.
import { BOOT_REPAIR_LOG } from "./boot-repair.js";
import { describeDisk } from "./identity.js";
import type { PassthroughDiskInputs } from "./inputs.js";
import { stableSymlinkName } from "./rule.js";
import type { ObservedState } from "./state.js";

/** One difference, in words, and whether an update can repair it. */
export interface Drift {
  readonly kind: DriftKind;
  readonly message: string;
  /** False for facts an update cannot change (the VM is halted or gone): reported, never planned. */
  readonly repairable: boolean;
}

export type DriftKind =
  | "ruleMissing"
  | "ruleEdited"
  | "diskMissing"
  | "kernelRenamed"
  | "symlinkMissing"
  | "vdiMissing"
  | "vbdMissing"
  | "vbdOnStaleVdi"
  | "vbdOnOtherDisk"
  | "symlinkKernelNamed"
  | "vbdUnplugged"
  | "vbdPlugged"
  | "vbdSettings"
  | "vmMissing"
  | "vmNotRunning"
  | "vmWithoutPvDrivers"
  | "vmOnOtherHost"
  | "vmAffinity"
  | "bootRepairMissing"
  | "bootRepairOutdated"
  | "bootRepairFailed";

/**
 * Lists the drift in an observation. `lastKernelName` is the kernel name the state recorded
 * (so a disk back under another name after a reboot is reported as such).
 */
export function findDrift(
  observed: ObservedState,
  inputs: PassthroughDiskInputs,
  lastKernelName: string,
): Drift[] {
  const drift: Drift[] = [];
  const add = (kind: DriftKind, message: string, repairable = true) =>
    drift.push({ kind, message, repairable });

  if (observed.ruleStatus === "missing") add("ruleMissing", "the udev rule file was deleted");
  if (observed.ruleStatus === "edited") add("ruleEdited", "the udev rule file was edited");
  if (!observed.diskPresent) add("diskMissing", "the disk is not present on the host");
  // A stable name does not change with the kernel name: a rename is no drift there.
  const kernelNamed = observed.symlinkNaming !== "stable";
  if (
    kernelNamed &&
    observed.diskPresent &&
    lastKernelName !== "" &&
    observed.kernelName !== lastKernelName
  ) {
    add("kernelRenamed", `the disk came back as ${observed.kernelName} (it was ${lastKernelName})`);
  }
  if (observed.diskPresent && !observed.symlinkPresent)
    add("symlinkMissing", "the /dev/xapi/block symlink is gone");
  if (observed.symlinkPresent && !observed.vdiPresent)
    add("vdiMissing", "the udev SR has no VDI for the disk");
  if (!observed.vbdPresent) add("vbdMissing", "the VBD was destroyed");
  // Two disks swapped kernel names: the VBD's VDI is there, on the other disk (never silent).
  const otherDisk = observed.vbdOtherDisk ?? "";
  if (observed.vbdPresent && otherDisk !== "") {
    add("vbdOnOtherDisk", `the VBD points at disk ${otherDisk} now; expected ${describeDisk(inputs.disk)}`);
  } else if (observed.vbdPresent && !observed.vbdOnCurrentVdi)
    add("vbdOnStaleVdi", "the VBD refers to a VDI that is gone");
  const stableName = stableSymlinkName(inputs.disk);
  if (
    observed.diskPresent &&
    observed.hostResolvesSymlinks === true &&
    observed.symlinkNaming === "kernelName" &&
    stableName !== undefined
  ) {
    add(
      "symlinkKernelNamed",
      `the symlink is named after the kernel name (${observed.kernelName}): this host resolves symlinks ` +
        `(sm ${observed.smVersion || "3.x"}), so an update renames it ${stableName}, which survives reboots`,
    );
  }
  const running = observed.vmPowerState === "Running";
  const unplugged = observed.vbdPresent && inputs.attach && running && !observed.vbdAttached;
  // false, not undefined: states written before this fact was observed read as before.
  if (unplugged && observed.vmCanHotplug === false) {
    add(
      "vmWithoutPvDrivers",
      "the VBD is not plugged: the VM runs without PV drivers, so the disk attaches when the VM next starts (or its drivers appear)",
      false,
    );
  } else if (unplugged) add("vbdUnplugged", "the VBD was unplugged");
  if (observed.vbdPresent && !inputs.attach && observed.vbdAttached)
    add("vbdPlugged", "the VBD is plugged but attach is false");
  if (observed.vbdPresent) {
    const settings = settingsDrift(observed, inputs);
    if (settings.length > 0) add("vbdSettings", `the VBD has ${settings.join(", ")}`);
  }
  if (!observed.vmPresent) add("vmMissing", "the VM was not found", false);
  if (observed.vmPresent && inputs.setAffinity && observed.vmAffinityOnDiskHost === false)
    add("vmAffinity", "the VM's affinity is not the disk's host (setAffinity: true)");
  if (observed.vmOnDiskHost === false) {
    add(
      "vmOnOtherHost",
      `the VM runs on another host of the pool (${observed.vmResidentOn ?? "?"}): it cannot use the disk there`,
      false,
    );
  }
  if (observed.bootRepair === "missing") {
    add(
      "bootRepairMissing",
      "the boot repair (xen-passthrough-boot-repair.service) is missing on this host: a reboot that renames disks would take the disk from the VM, or give it another",
    );
  }
  if (observed.bootRepair === "outdated")
    add(
      "bootRepairOutdated",
      "the boot repair (xen-passthrough-boot-repair.service) on this host is outdated",
    );
  const vbdRight = observed.vbdPresent && observed.vbdOnCurrentVdi;
  if (observed.bootRepairFailure !== undefined && observed.bootRepairFailure !== "" && !vbdRight) {
    add(
      "bootRepairFailed",
      `the boot repair failed for this disk at the last boot: ${observed.bootRepairFailure} (see ${BOOT_REPAIR_LOG} on the host)`,
      false,
    );
  }
  if (observed.vmPresent && !running && inputs.attach) {
    add(
      "vmNotRunning",
      `the VM is ${observed.vmPowerState || "not running"}: the disk is plugged when the VM runs`,
      false,
    );
  }
  return drift;
}

function settingsDrift(observed: ObservedState, inputs: PassthroughDiskInputs): string[] {
  const found: string[] = [];
  if (observed.vbdMode !== inputs.mode) found.push(`mode ${observed.vbdMode || "?"} (wanted ${inputs.mode})`);
  if (inputs.userdevice !== "autodetect" && observed.vbdUserdevice !== inputs.userdevice) {
    found.push(`userdevice ${observed.vbdUserdevice || "?"} (wanted ${inputs.userdevice})`);
  }
  if (observed.vbdBootable !== inputs.bootable)
    found.push(`bootable ${observed.vbdBootable} (wanted ${inputs.bootable})`);
  return found;
}
