// Rule files and udev, over SSH. Every script is static text with its values passed as
// quoted positional parameters (core/shell.ts), after the inputs passed their strict patterns.
import { withArgs } from "../core/shell.js";
import type { Log, Remote } from "./remote.js";

// udevadm of systemd 219 (XCP-ng 8.x dom0) takes no device paths: select by sysname instead.
const RETRIGGER = String.raw`set -eu
udevadm control --reload
udevadm trigger --action=change --subsystem-match=block --sysname-match="$1"
udevadm settle --timeout=30 || true
`;

const WAIT_FOR_BLOCK_DEVICE = String.raw`set -u
deadline=$(( $(date +%s) + $2 ))
while [ "$(date +%s)" -le "$deadline" ]; do
  [ -b "$1" ] && exit 0
  sleep 0.2
done
exit 3
`;

// Moves a rule aside instead of deleting it: udev reads only *.rules, and nothing is lost.
const DISABLE_RULE = String.raw`set -eu
aside="$1.disabled-by-xen-passthrough"
mv -f -- "$1" "$aside"
echo "$aside"
`;

const REMOVE_FILE = String.raw`set -eu
rm -f -- "$1"
`;

/** Reloads the rules and replays a change event for one disk, so udev applies them to it now. */
export async function retrigger(remote: Remote, kernelName: string): Promise<void> {
  await remote.run(withArgs(RETRIGGER, [kernelName]), { timeoutMs: 60_000 });
}

/** Waits (bounded) until the symlink exists and resolves to a block device. */
export async function waitForSymlink(
  remote: Remote,
  path: string,
  timeoutSeconds: number,
  log: Log,
): Promise<void> {
  log(`waiting up to ${timeoutSeconds} s for udev to create ${path}`);
  try {
    await remote.run(withArgs(WAIT_FOR_BLOCK_DEVICE, [path, String(timeoutSeconds)]), {
      timeoutMs: (timeoutSeconds + 30) * 1000,
    });
  } catch (error) {
    const kernelName = path.slice(path.lastIndexOf("/") + 1);
    throw new Error(
      `udev did not create ${path} within ${timeoutSeconds} s: check the rule with ` +
        `"udevadm test /sys/class/block/${kernelName}" on the host (or raise symlinkTimeoutSeconds)`,
      { cause: error },
    );
  }
}

/** Returns where the rule went. */
export async function disableRule(remote: Remote, path: string): Promise<string> {
  return (await remote.run(withArgs(DISABLE_RULE, [path]))).trim();
}

export async function removeFile(remote: Remote, path: string): Promise<void> {
  await remote.run(withArgs(REMOVE_FILE, [path]));
}
