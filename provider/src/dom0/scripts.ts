// Every script this provider runs on dom0, by name: the only text that ever goes to the remote
// shell. Each is static (inputs travel on stdin, never inside a script), which a test checks.
import { BOOT_REPAIR_SCRIPT } from "./boot-repair.js";
import { HOST_UUID_SCRIPT } from "./host-uuid.js";
import { INVENTORY_SCRIPT } from "./inventory.js";
import { UDEV_ROUND_SCRIPT } from "./udev-round.js";

export const DOM0_SCRIPTS = {
  /** Disks, udev properties, symlinks and rules (dom0/inventory.ts). */
  inventory: INVENTORY_SCRIPT,
  /** Rule changes, udev reload and trigger, symlink waits (dom0/udev-round.ts). */
  udevRound: UDEV_ROUND_SCRIPT,
  /** PassthroughUsb's one read: dom0's INSTALLATION_UUID (dom0/host-uuid.ts). */
  hostUuid: HOST_UUID_SCRIPT,
  /** Installed, not run over SSH: the boot-time repair of hosts that do not resolve symlinks (dom0/boot-repair.ts). */
  bootRepair: BOOT_REPAIR_SCRIPT,
} as const;

/** The scripts PassthroughDisk's lifecycle runs over SSH (hostUuid is PassthroughUsb's; bootRepair is installed on dom0). */
export const REMOTE_SCRIPT_NAMES = ["inventory", "udevRound"] as const;
