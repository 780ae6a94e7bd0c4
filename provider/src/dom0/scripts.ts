// Every script this provider runs on dom0, by name: the only text that ever goes to the remote
// shell. Each is static (inputs travel on stdin, never inside a script), which a test checks.
import { INVENTORY_SCRIPT } from "./inventory.js";
import { UDEV_ROUND_SCRIPT } from "./udev-round.js";

export const DOM0_SCRIPTS = {
  /** Disks, udev properties, symlinks and rules (dom0/inventory.ts). */
  inventory: INVENTORY_SCRIPT,
  /** Rule changes, udev reload and trigger, symlink waits (dom0/udev-round.ts). */
  udevRound: UDEV_ROUND_SCRIPT,
} as const;
