import { mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

import { SandboxError } from "./errors";
import { run } from "./run";

/**
 * Attaches an image file to `device`, or to the first free loop device that no rebooting sandbox
 * has reserved; returns the kernel name ("loop3").
 */
export async function attachLoop(imagePath: string, device?: string): Promise<string> {
  if (device === undefined) return attachLoopAvoiding(imagePath, new Set());
  await run("losetup", [`/dev/${device}`, imagePath]);
  return device;
}

// Loop devices are the machine's, not a sandbox's: while a rebooting sandbox has its disks
// detached, another sandbox's attach could take a name a disk must come back under. The
// rebooting one reserves those names here first (one file per name, holding its pid); every
// attach without a named device avoids them. Our choice: a directory under /run, so a machine
// restart clears it, and a reservation whose process is gone counts for nothing.
const RESERVATIONS_DIR = "/run/xen-sandbox/loop-reservations";

/** Reserves loop device names until the returned release is called. */
export async function reserveLoops(names: Iterable<string>): Promise<() => Promise<void>> {
  const reserved = [...names];
  await mkdir(RESERVATIONS_DIR, { recursive: true });
  for (const name of reserved) await writeFile(`${RESERVATIONS_DIR}/${name}`, String(process.pid));
  return async () => {
    for (const name of reserved) await rm(`${RESERVATIONS_DIR}/${name}`, { force: true });
  };
}

/** Names reserved by a live process. */
async function reservedLoops(): Promise<Set<string>> {
  const reserved = new Set<string>();
  const names = await readdir(RESERVATIONS_DIR).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(await readFile(`${RESERVATIONS_DIR}/${name}`, "utf8").catch(() => ""));
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) reserved.add(name);
  }
  return reserved;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const DETACH_TIMEOUT_MS = 10_000;
const DETACH_POLL_MS = 20;

/**
 * Detaches a loop device and waits until it has let go of the image. While a process still holds
 * the device open (another sandbox's udevd probing it: every udevd on the machine handles every
 * loop device's events), the kernel only marks it to detach at the last close and losetup returns
 * at once, so the image would still be attached when the sandbox says it is stopped.
 */
export async function detachLoop(kernelName: string): Promise<void> {
  const image = await backingFile(kernelName);
  await run("losetup", ["--detach", `/dev/${kernelName}`]);
  const deadline = Date.now() + DETACH_TIMEOUT_MS;
  // Compared with our image: once free, another sandbox may attach the device to its own.
  while (image !== undefined && (await backingFile(kernelName)) === image) {
    if (Date.now() > deadline) {
      throw new SandboxError(
        "TIMEOUT",
        { kernelName, image },
        `loop device ${kernelName} still holds ${image} ${DETACH_TIMEOUT_MS / 1000} s after losetup --detach: ` +
          `a process keeps /dev/${kernelName} open (see fuser -v /dev/${kernelName})`,
      );
    }
    await sleep(DETACH_POLL_MS);
  }
}

/** Free loop devices (existing nodes with nothing attached), except those in `avoid`. */
export async function freeLoopDevices(avoid: ReadonlySet<string>): Promise<string[]> {
  const names = (await readdir("/sys/block")).filter((name) => /^loop\d+$/.test(name) && !avoid.has(name));
  const free: string[] = [];
  for (const name of names) if ((await backingFile(name)) === undefined) free.push(name);
  return free.sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
}

/**
 * Attaches `imagePath` to a free loop device other than those in `avoid` (a "rebooted" disk
 * must come back under a new name). Other sandboxes may take a device between our look and
 * our attach: then the next free one is tried.
 */
export async function attachLoopAvoiding(imagePath: string, avoid: ReadonlySet<string>): Promise<string> {
  const tried = new Set(avoid);
  for (let attempt = 0; ; attempt += 1) {
    // No free device left (other sandboxes hold them): losetup creates a new one on demand.
    // Reservations are read after the free list: a device freed after a reservation was written
    // is then always seen reserved.
    const free = await freeLoopDevices(tried);
    for (const name of await reservedLoops()) tried.add(name);
    const [candidate = await unusedLoopName(tried)] = free.filter((name) => !tried.has(name));
    if (attempt >= MAX_ATTACH_ATTEMPTS) {
      const names = [...avoid].join(", ");
      throw new SandboxError(
        "NO_FREE_LOOP_DEVICE",
        { avoid: names },
        `no free loop device other than ${names}`,
      );
    }
    tried.add(candidate);
    try {
      return await attachLoop(imagePath, candidate);
    } catch (error) {
      if ((await backingFile(candidate)) === undefined) throw error; // not a lost race: a real failure
    }
  }
}

const MAX_ATTACH_ATTEMPTS = 32;

/** A loop device name above every existing one and every name in `taken`. */
async function unusedLoopName(taken: ReadonlySet<string>): Promise<string> {
  const names = [...(await readdir("/sys/block")), ...taken].filter((name) => /^loop\d+$/.test(name));
  return `loop${Math.max(-1, ...names.map((name) => Number(name.slice(4)))) + 1}`;
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
