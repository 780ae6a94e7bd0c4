import type { SandboxDisk } from "./description";
import type { DiskImage } from "./disks";
import { SandboxError } from "./errors";
import { attachLoop, attachLoopAvoiding, backingFile, detachLoop } from "./loop";
import type { BootName } from "./reboot-plan";
import type { Udevd } from "./udevd";

/** The disk events (unplug, replug, reboot) over real loop devices and real udev events. */
export class DiskEvents {
  constructor(
    private readonly images: readonly DiskImage[],
    private readonly disks: SandboxDisk[],
    private readonly attached: Set<string>,
    /** The running udevd (a reboot starts a new one). */
    private readonly currentUdevd: () => Udevd,
  ) {}

  private get udevd(): Udevd {
    return this.currentUdevd();
  }

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
    await this.announcePlug(disk.kernelName);
    return disk.kernelName;
  }

  /**
   * A disk plugged in is a new block device, so the kernel announces it with an `add` uevent
   * (Linux `device_add` sends KOBJ_ADD); attaching a loop device only sends `change` (`loop_set_fd`:
   * the loop device exists already). So the `add` a real disk gets is replayed here, and udev
   * handles both (rules matching `change` run once more: a difference from a real disk).
   */
  private async announcePlug(kernelName: string): Promise<void> {
    await this.udevd.trigger("add", kernelName);
    await this.udevd.settle();
  }

  async reboot(serial: string): Promise<string> {
    const { disk, image } = this.find(serial);
    const previous = disk.kernelName;
    await this.unplug(serial);
    const name = await attachLoopAvoiding(image.imagePath, new Set([previous]));
    this.attached.add(name);
    disk.kernelName = name;
    await this.announcePlug(name);
    return name;
  }

  /** The loop devices our disks use now. */
  pluggedNames(): Set<string> {
    return new Set(this.disks.map((disk) => disk.kernelName).filter((name) => name !== ""));
  }

  /** Power off (udevd already stopped, so no event is handled): every plugged disk detaches. */
  async detachAll(): Promise<void> {
    const plugged = this.disks.filter((disk) => disk.kernelName !== "");
    await Promise.all(plugged.map((disk) => detachLoop(disk.kernelName)));
    for (const disk of plugged) this.attached.delete(disk.kernelName);
  }

  /**
   * Power on: each disk of the plan attaches (udevd not yet running: its kernel event is lost, as
   * before udevd starts at boot). A required name another process took meanwhile fails the boot.
   */
  async attachPlanned(plan: readonly BootName[]): Promise<void> {
    const wanted = new Set(plan.flatMap((boot) => (boot.kernelName === undefined ? [] : [boot.kernelName])));
    for (const boot of plan) {
      const { disk, image } = this.find(boot.serial);
      let name: string | undefined;
      if (boot.kernelName !== undefined) {
        try {
          name = await attachLoop(image.imagePath, boot.kernelName);
        } catch (error) {
          if (boot.required || (await backingFile(boot.kernelName)) === undefined) {
            disk.kernelName = "";
            throw new SandboxError(
              "NO_FREE_LOOP_DEVICE",
              { serial: boot.serial, kernelName: boot.kernelName },
              `disk ${boot.serial} could not come back as ${boot.kernelName} after the reboot ` +
                `(another process took the loop device?): ${(error as Error).message}`,
              { cause: error },
            );
          }
        }
      }
      name ??= await attachLoopAvoiding(image.imagePath, wanted);
      this.attached.add(name);
      disk.kernelName = name;
    }
  }
}
