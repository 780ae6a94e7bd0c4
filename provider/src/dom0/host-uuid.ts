// Which host of the pool the dom0 reached over SSH is: its INSTALLATION_UUID, read alone (the
// full inventory, dom0/inventory.ts, also walks the disks; USB work needs only this).
import { RefusedError } from "../core/errors.js";
import type { Remote } from "./remote.js";

const READ_UUID =
  'sed -n "s/^INSTALLATION_UUID=[\'\\"]\\{0,1\\}\\([0-9a-fA-F-]*\\).*/\\1/p" /etc/xensource-inventory';

/** dom0's INSTALLATION_UUID; refused (NOT_A_DOM0) when /etc/xensource-inventory has none. */
export async function dom0HostUuid(remote: Remote, target = "the SSH host"): Promise<string> {
  const uuid = (await remote.run(READ_UUID)).trim();
  if (uuid === "") {
    throw new RefusedError(
      "NOT_A_DOM0",
      { target },
      `${target} has no INSTALLATION_UUID in /etc/xensource-inventory: is it a XenServer / XCP-ng host (dom0)?`,
    );
  }
  return uuid;
}
