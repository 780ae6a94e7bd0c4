import { readFile } from "node:fs/promises";

import { SandboxError } from "./errors";
import { run } from "./run";

/** Attaches an image file to the first free loop device; returns the kernel name ("loop3"). */
export async function attachLoop(imagePath: string, device?: string): Promise<string> {
  const args = device === undefined ? ["--find", "--show", imagePath] : [`/dev/${device}`, imagePath];
  const { stdout } = await run("losetup", args);
  return device ?? kernelNameOf(stdout.trim());
}

/** Detaches a loop device. */
export async function detachLoop(kernelName: string): Promise<void> {
  await run("losetup", ["--detach", `/dev/${kernelName}`]);
}

/** A free loop device other than `avoid` (so a "rebooted" disk really gets a new name). */
export async function freeLoopDevice(avoid: string): Promise<string> {
  const { stdout } = await run("losetup", ["--find"]);
  const found = kernelNameOf(stdout.trim());
  if (found !== avoid) return found;
  throw new SandboxError("NO_FREE_LOOP_DEVICE", { avoid }, `no free loop device other than ${avoid}`);
}

/** The image file behind a loop device, or undefined when it is detached. */
export async function backingFile(kernelName: string): Promise<string | undefined> {
  try {
    return (await readFile(`/sys/block/${kernelName}/loop/backing_file`, "utf8")).trim();
  } catch {
    return undefined;
  }
}

/** The size of a block device, from sysfs (512-byte sectors), as the udev SR reads it. */
export async function blockDeviceSize(kernelName: string): Promise<number> {
  return Number((await readFile(`/sys/block/${kernelName}/size`, "utf8")).trim()) * 512;
}

function kernelNameOf(devicePath: string): string {
  return devicePath.replace(/^\/dev\//, "");
}
