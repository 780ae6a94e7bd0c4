import { run } from "./run";

/**
 * /dev stays the host's devtmpfs (the loop device nodes must be real), but the directories
 * udev fills with symlinks get a private tmpfs each, so no link ever shows on the host.
 */
export const PRIVATE_DEV_DIRS = ["/dev/xapi", "/dev/disk", "/dev/block", "/dev/char"] as const;

/**
 * A mountpoint the host lacked is created with this marker inside (hidden under the tmpfs).
 * Any sandbox removes a marked one at its stop once no other sandbox mounts it: with sandboxes
 * started and stopped in any order the last one out cleans up, and a directory the host had
 * is never touched. Creating-and-mounting and checking-and-removing both run under a lock on
 * the /dev directory itself (flock), so one sandbox never removes a directory another is
 * about to mount on.
 */
const CREATED_MARKER = ".created-by-xen-sandbox";

/** Pure: holder-script lines that create (if needed) and mount the private /dev dirs, locked. */
export function renderDevMounts(): string[] {
  return [
    "exec 9</dev",
    "flock 9",
    `for dir in ${PRIVATE_DEV_DIRS.join(" ")}; do`,
    `  if [ ! -d "$dir" ]; then mkdir "$dir" && : > "$dir/${CREATED_MARKER}"; fi`,
    '  mount -t tmpfs -o mode=755 tmpfs "$dir"',
    "done",
    "flock -u 9",
    "exec 9<&-",
  ];
}

/** Pure: the script that removes marked mountpoints nobody mounts any more (run under the lock). */
export function renderDevMountpointRemoval(): string {
  return [
    `for dir in ${PRIVATE_DEV_DIRS.join(" ")}; do`,
    `  [ -e "$dir/${CREATED_MARKER}" ] || continue`,
    `  busy=$(cat /proc/[0-9]*/mountinfo 2>/dev/null | awk -v d="$dir" '$5 == d { print "busy"; exit }')`,
    '  [ -z "$busy" ] || continue',
    `  rm -f "$dir/${CREATED_MARKER}" && rmdir "$dir" 2>/dev/null || true`,
    "done",
    "",
  ].join("\n");
}

/** Removes the marked /dev mountpoints no sandbox mounts any more (call once ours is gone). */
export async function removeUnusedDevMountpoints(): Promise<void> {
  await run("flock", ["/dev", "sh", "-c", renderDevMountpointRemoval()]);
}
