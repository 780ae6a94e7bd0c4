import { mkdir, open } from "node:fs/promises";
import { join } from "node:path";

import type { DiskIdentity } from "./identities";
import { run } from "./run";

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
export async function createDiskImages(dir: string, identities: readonly DiskIdentity[]): Promise<DiskImage[]> {
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
