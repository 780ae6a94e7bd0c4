import type { Dom0Inventory } from "../core/dom0-inventory.js";
import { INVENTORY_SCRIPT, parseInventory } from "../core/dom0-inventory.js";
import type { Remote } from "./remote.js";

/** Everything we need to know about dom0's disks, rules and symlinks, in one SSH exec. */
export async function readInventory(remote: Remote): Promise<Dom0Inventory> {
  return parseInventory(await remote.run(INVENTORY_SCRIPT, { timeoutMs: 60_000 }));
}
