import { mkdir, open } from "node:fs/promises";
import { join } from "node:path";

import type { DiskIdentity } from "./identities";
import type { Namespace } from "./namespace";
import { run } from "./run";

/** Where dom0 mounts the disk it uses. */
export const IN_USE_MOUNTPOINT = "/var/lib/dom0-data";

/** dom0 starts using a disk: read-only and without journal replay, so nothing is written to it. */
export async function mountInUseDisk(namespace: Namespace, kernelName: string): Promise<void> {
  await mkdir(namespace.outside(IN_USE_MOUNTPOINT), { recursive: true });
  await namespace.run("mount", ["-o", "ro,noload", `/dev/${kernelName}`, IN_USE_MOUNTPOINT]);
}

/** A sandbox disk: its identity and the sparse image file the loop device serves. */
export interface DiskImage {
  identity: DiskIdentity;
  imagePath: string;
}

/** Pure: the bus name a real host would give the disk's VDI ("<bus> <bus path>"). */
export function diskNameLabel(identity: DiskIdentity): string {
  return `ata pci-0000:00:1f.2-ata-${identity.index + 1}`;
}

/**
 * Creates one sparse image per disk. The in-use disk is formatted (ext4) here, on the file,
 * before it is ever attached: the only write to any disk's contents, ever.
 */
export async function createDiskImages(
  dir: string,
  identities: readonly DiskIdentity[],
): Promise<DiskImage[]> {
  await mkdir(dir, { recursive: true });
  return Promise.all(
    identities.map(async (identity) => {
      const imagePath = join(dir, `disk${identity.index}-${identity.serial}.img`);
      const file = await open(imagePath, "wx");
      await file.truncate(identity.sizeBytes);
      await file.close();
      if (identity.inUse) await run("mkfs.ext4", ["-q", "-F", "-L", "dom0-data", imagePath]);
      return { identity, imagePath };
    }),
  );
}
