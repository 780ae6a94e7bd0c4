// Which host of the pool the dom0 reached over SSH is: its INSTALLATION_UUID, read alone (the
// full inventory, dom0/inventory.ts, also walks the disks; USB work needs only this).
import { RefusedError } from "../core/errors.js";
import type { Remote } from "./remote.js";

/** The one line run over SSH: prints the uuid, or nothing when the file has none. */
export const HOST_UUID_SCRIPT =
  'sed -n "s/^INSTALLATION_UUID=[\'\\"]\\{0,1\\}\\([0-9a-fA-F-]*\\).*/\\1/p" /etc/xensource-inventory';

/** dom0's INSTALLATION_UUID; refused (NOT_A_DOM0) when /etc/xensource-inventory has none. */
export async function dom0HostUuid(remote: Remote, target = "the SSH host"): Promise<string> {
  const uuid = (await remote.run(HOST_UUID_SCRIPT)).trim();
  if (uuid === "") {
    throw new RefusedError(
      "NOT_A_DOM0",
      { target },
      `${target} has no INSTALLATION_UUID in /etc/xensource-inventory: is it a XenServer / XCP-ng host (dom0)?`,
    );
  }
  return uuid;
}
