import { readdir, readlink } from "node:fs/promises";
import { basename, posix } from "node:path";

import type { DeviceDirectory, DeviceEntry } from "../xapi/devices";
import { backingFile, blockDeviceSize } from "./loop";

export const XAPI_BLOCK_DIR = "/dev/xapi/block";

/** Pure: the kernel name a /dev/xapi/block entry points at ("../../loop3" -> "loop3"). */
export function kernelNameOfLink(entryName: string, linkTarget: string | undefined): string {
  if (linkTarget === undefined) return entryName;
  return basename(posix.resolve(XAPI_BLOCK_DIR, linkTarget));
}

/**
 * The udev SR's view of the namespace's real /dev/xapi/block, read from outside through
 * /proc/<holder>/root. `labelOf` names a device ("<bus> <bus path>" on a real host).
 */
export function namespaceDeviceDirectory(
  outside: (path: string) => string,
  labelOf: (kernelName: string, backingFile: string | undefined) => string,
): DeviceDirectory {
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
        const target = await readlink(`${dir}/${name}`).catch(() => undefined);
        const kernelName = kernelNameOfLink(name, target);
        const sizeBytes = await blockDeviceSize(kernelName).catch(() => 0);
        const label = labelOf(kernelName, await backingFile(kernelName));
        entries.push({ name, location: `${XAPI_BLOCK_DIR}/${name}`, sizeBytes, nameLabel: label });
      }
      return entries;
    },
  };
}
