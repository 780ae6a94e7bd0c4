import { access, lstat, readdir, readlink } from "node:fs/promises";
import { basename, posix } from "node:path";

import type { BlockDeviceInfo, DeviceDirectory, DeviceEntry } from "../xapi/devices";
import { backingFile, blockDeviceSize } from "./loop";

export const XAPI_BLOCK_DIR = "/dev/xapi/block";

/** Pure: the kernel name a /dev/xapi/block entry points at ("../../loop3" -> "loop3"). */
export function kernelNameOfLink(entryName: string, linkTarget: string | undefined): string {
  if (linkTarget === undefined) return entryName;
  return basename(posix.resolve(XAPI_BLOCK_DIR, linkTarget));
}

const MAX_LINK_HOPS = 40;

/**
 * realpath inside the namespace: each link is read and resolved against dom0's tree, hop by hop
 * (the host's realpath would resolve /proc/<holder>/root to the host's own root). Undefined when
 * a link dangles or loops.
 */
async function resolveInNamespace(
  outside: (path: string) => string,
  path: string,
): Promise<string | undefined> {
  let current = path;
  for (let hop = 0; hop < MAX_LINK_HOPS; hop += 1) {
    const info = await lstat(outside(current)).catch(() => undefined);
    if (info === undefined) return undefined;
    if (!info.isSymbolicLink()) return current;
    // Gone since lstat (udev removed or re-made it meanwhile): sm's udevVDI.load catches the
    // OSError and marks the VDI deleted (xapi-project/sm drivers/udevSR.py); a scan goes on.
    const target = await readlink(outside(current)).catch(() => undefined);
    if (target === undefined) return undefined;
    current = posix.resolve(posix.dirname(current), target);
  }
  return undefined;
}

/**
 * The udev SR's view of the namespace's real /dev/xapi/block, read from outside through
 * /proc/<holder>/root. `labelOf` names a device ("<bus> <bus path>" on a real host). Each entry
 * carries the device it resolves to ("" when the link dangles); `blockDevice` reads /sys/block
 * by name, as sm's sysdevice.stat does.
 */
export function namespaceDeviceDirectory(
  outside: (path: string) => string,
  labelOf: (kernelName: string, backingFile: string | undefined) => string,
): DeviceDirectory {
  const blockDevice = async (kernelName: string): Promise<BlockDeviceInfo | undefined> => {
    if (kernelName === "" || kernelName.includes("/")) return undefined;
    try {
      await access(`/sys/block/${kernelName}`);
    } catch {
      return undefined;
    }
    const sizeBytes = await blockDeviceSize(kernelName).catch(() => 0);
    return { sizeBytes, nameLabel: labelOf(kernelName, await backingFile(kernelName)) };
  };
  return {
    async list(): Promise<DeviceEntry[]> {
      const dir = outside(XAPI_BLOCK_DIR);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return []; // udev removes the directory with its last link
      }
      const entries: DeviceEntry[] = [];
      for (const name of names.sort()) {
        // Every link followed, as sm's os.stat and realpath do: a dangling one fails.
        const resolved = await resolveInNamespace(outside, `${XAPI_BLOCK_DIR}/${name}`);
        const kernelName = resolved === undefined ? "" : basename(resolved);
        const device = await blockDevice(kernelName);
        entries.push({
          name,
          location: `${XAPI_BLOCK_DIR}/${name}`,
          sizeBytes: device?.sizeBytes ?? 0,
          nameLabel: device?.nameLabel ?? labelOf(kernelName, undefined),
          kernelName,
        });
      }
      return entries;
    },
    blockDevice,
  };
}
