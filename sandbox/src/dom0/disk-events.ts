import type { SandboxDisk } from "./description";
import type { DiskImage } from "./disks";
import { SandboxError } from "./errors";
import { attachLoop, attachLoopAvoiding, detachLoop } from "./loop";
import type { Udevd } from "./udevd";

/** The disk events (unplug, replug, reboot) over real loop devices and real udev events. */
export class DiskEvents {
  constructor(
    private readonly images: readonly DiskImage[],
    private readonly disks: SandboxDisk[],
    private readonly attached: Set<string>,
    private readonly udevd: Udevd,
  ) {}

  private find(serial: string): { disk: SandboxDisk; image: DiskImage } {
    const index = this.disks.findIndex((disk) => disk.serial === serial);
    const disk = this.disks[index];
    const image = this.images[index];
    if (disk === undefined || image === undefined) {
      const known = this.disks.map((candidate) => candidate.serial).join(", ");
      throw new SandboxError(
        "DISK_UNKNOWN",
        { serial },
        `no sandbox disk has serial ${serial} (known: ${known})`,
      );
    }
    return { disk, image };
  }

  /** Plugs in every disk (the sandbox's boot), then waits until udev has handled them all. */
  async plugAll(): Promise<void> {
    for (const [index, image] of this.images.entries()) {
      const disk = this.disks[index];
      if (disk !== undefined) disk.kernelName = await this.attach(image);
    }
    await this.udevd.settle();
  }

  private async attach(image: DiskImage, kernelName?: string): Promise<string> {
    const name = await attachLoop(image.imagePath, kernelName);
    this.attached.add(name);
    return name;
  }

  async unplug(serial: string): Promise<void> {
    const { disk } = this.find(serial);
    if (disk.kernelName === "") return;
    // The remove event first, while udev can still read the device's identity; then the detach.
    await this.udevd.trigger("remove", disk.kernelName);
    await detachLoop(disk.kernelName);
    this.attached.delete(disk.kernelName);
    disk.kernelName = "";
    await this.udevd.settle();
  }

  async replug(serial: string, kernelName?: string): Promise<string> {
    const { disk, image } = this.find(serial);
    if (disk.kernelName !== "") return disk.kernelName;
    disk.kernelName = await this.attach(image, kernelName);
    await this.udevd.settle();
    return disk.kernelName;
  }

  async reboot(serial: string): Promise<string> {
    const { disk, image } = this.find(serial);
    const previous = disk.kernelName;
    await this.unplug(serial);
    const name = await attachLoopAvoiding(image.imagePath, new Set([previous]));
    this.attached.add(name);
    disk.kernelName = name;
    await this.udevd.settle();
    return name;
  }
}
