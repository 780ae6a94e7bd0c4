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

/**
 * Pure: the name label the udev SR gives the disk's VDI ("<bus> <bus path>", sm udevSR.py
 * `udevVDI.load` from sysdevice.py `stat`). For SAS and NVMe this follows sysdevice.stat: a disk
 * whose /sys/block/<dev>/device is on the scsi subsystem is "SCSI <h:c:t:l>"; an NVMe namespace's
 * device is an nvme controller, so it stays "Unrecognised bus type" with an empty bus path.
 * SATA keeps the sandbox's earlier path-style label (sysdevice would say "SCSI <h:c:t:l>" too).
 */
export function diskNameLabel(identity: DiskIdentity): string {
  switch (identity.bus) {
    case "sata":
      return `ata pci-0000:00:1f.2-ata-${identity.index + 1}`;
    case "sas":
      return `SCSI 0:0:${identity.index}:0`;
    case "nvme-centos7":
      return "Unrecognised bus type ";
  }
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
