import { access, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import type { BootUnitRun, Dom0BootHooks, RebootOptions } from "../xapi";
import { enabledBootUnits, runBootUnits } from "./boot-unit-runner";
import type { SandboxDisk } from "./description";
import { PRIVATE_DEV_DIRS } from "./dev-mountpoints";
import type { DiskEvents } from "./disk-events";
import { IN_USE_MOUNTPOINT, mountInUseDisk } from "./disks";
import { SandboxError } from "./errors";
import { backingFile, reserveLoops } from "./loop";
import type { Namespace } from "./namespace";
import { planBootNames } from "./reboot-plan";
import type { BootName } from "./reboot-plan";
import type { Teardown } from "./teardown";
import type { Udevd } from "./udevd";
import { startUdevd } from "./udevd";

/** xapi writes it when its init is complete (xapi-init-complete.target waits for it). */
export const XAPI_INIT_COMPLETE_COOKIE = "/run/xapi_init_complete.cookie";

/** What a dom0 reboot acts on; `udevd.current` is replaced by the boot's new udevd. */
export interface Dom0Parts {
  namespace: Namespace;
  teardown: Teardown;
  events: DiskEvents;
  disks: SandboxDisk[];
  udevd: { current: Udevd };
  /** The pid of sshd's listening process (the one process of dom0 a reboot leaves running). */
  sshdPid: number;
}

async function plan(parts: Dom0Parts, options: RebootOptions): Promise<BootName[]> {
  const requested = options.kernelNames ?? {};
  const ours = parts.events.pluggedNames();
  const busyElsewhere = new Set<string>();
  for (const name of Object.values(requested))
    if (!ours.has(name) && (await backingFile(name)) !== undefined) busyElsewhere.add(name);
  const planned = planBootNames(parts.disks, requested, busyElsewhere);
  if ("errors" in planned)
    throw new SandboxError(
      "REBOOT_REFUSED",
      { reasons: planned.errors.join("; ") },
      `reboot refused: ${planned.errors.join("; ")}`,
    );
  return planned.plan;
}

/** Empties a directory without removing it (a tmpfs mountpoint stays). */
async function emptyDirectory(path: string): Promise<void> {
  const names = await readdir(path).catch(() => [] as string[]);
  await Promise.all(names.map((name) => rm(join(path, name), { recursive: true, force: true })));
}

async function inUseDiskMounted(parts: Dom0Parts): Promise<boolean> {
  const mounts = await readFile(`/proc/${parts.namespace.holderPid}/mounts`, "utf8");
  return mounts.split("\n").some((line) => line.split(" ")[1] === IN_USE_MOUNTPOINT);
}

const DATABASE_TIMEOUT_MS = 30_000;
const DATABASE_POLL_MS = 20;

/**
 * Waits until this dom0's udevd has handled each device's coldplug event (its entry in udev's
 * emptied database, /run/udev/data/b<major>:<minor>, is back): `udevadm settle` alone may look
 * at an empty queue before udevd has read the event, and trigger --settle returns once any
 * udevd on the machine (another sandbox's) has handled it.
 */
async function waitForUdevDatabase(namespace: Namespace, kernelNames: readonly string[]): Promise<void> {
  const deadline = Date.now() + DATABASE_TIMEOUT_MS;
  for (const name of kernelNames) {
    const numbers = (await readFile(`/sys/class/block/${name}/dev`, "utf8")).trim();
    const entry = namespace.outside(`/run/udev/data/b${numbers}`);
    while (
      !(await access(entry).then(
        () => true,
        () => false,
      ))
    ) {
      if (Date.now() > deadline)
        throw new SandboxError(
          "TIMEOUT",
          { kernelName: name },
          `udevd did not handle the coldplug event of ${name} within ${DATABASE_TIMEOUT_MS / 1000} s`,
        );
      await sleep(DATABASE_POLL_MS);
    }
  }
}

/**
 * The dom0 side of a host reboot, for the simulator's rebootHost (see xapi/host-reboot.ts):
 * - power off: udevd stops, then every other process of dom0 dies, the per-connection sshd
 *   processes among them: each established SSH connection (and its sessions and forwarded
 *   channels) ends, as at a real host's shutdown, where systemd stops the session scopes and
 *   then kills every process left (systemd 219 `src/core/shutdown.c`, `broadcast_signal`: SIGTERM
 *   then SIGKILL). Choice: sshd's listening process stays, so
 *   a client can dial again at once; a real host refuses connections until sshd is back early
 *   in its boot (sshd.service needs only network.target), which is still before XAPI is up;
 * - dom0's own disk is unmounted, every disk detaches;
 * - a fresh /dev and /run: the private /dev directories (/dev/xapi/block among them) and udev's
 *   database are emptied;
 * - power on: disks attach (asked-for kernel names first) while no udevd runs, dom0's disk is
 *   mounted, a new udevd starts and coldplug (`udevadm trigger --action=add`, as
 *   systemd-udev-trigger.service does) replays an add event for each disk, long before xapi runs:
 *   RUN programs such as local-device-change cannot reach XAPI. Choice: only this dom0's disks are
 *   triggered, because a uevent reaches every udevd on the machine (other sandboxes included);
 * - init complete: the cookie is written, then the enabled boot units run (boot-unit-runner.ts).
 */
export function dom0BootHooks(parts: Dom0Parts): Dom0BootHooks {
  const { namespace } = parts;
  return {
    async check(options) {
      await plan(parts, options);
    },
    async whileXapiDown(options) {
      const names = await plan(parts, options);
      await rm(namespace.outside(XAPI_INIT_COMPLETE_COOKIE), { force: true });
      await parts.udevd.current.process.stop();
      await namespace.killStragglers([parts.sshdPid]);
      const inUse = parts.disks.find((disk) => disk.inUse && disk.kernelName !== "");
      if (await inUseDiskMounted(parts)) await namespace.run("umount", [IN_USE_MOUNTPOINT]);
      // Emptied before the disks detach (nothing runs to notice the order): the loop devices
      // are free for as short a time as can be, since other sandboxes' losetup --find could take
      // one a disk must come back under.
      for (const dir of PRIVATE_DEV_DIRS) await emptyDirectory(namespace.outside(dir));
      await emptyDirectory(namespace.outside("/run/udev"));
      const release = await reserveLoops(names.flatMap((boot) => boot.kernelName ?? []));
      try {
        await parts.events.detachAll();
        await parts.events.attachPlanned(names);
      } finally {
        await release();
      }
      if (inUse !== undefined) await mountInUseDisk(namespace, inUse.kernelName);
      parts.udevd.current = await startUdevd(namespace, parts.teardown);
      const plugged = parts.disks.filter((disk) => disk.kernelName !== "");
      if (plugged.length > 0) {
        await namespace.run("udevadm", [
          "trigger",
          "--action=add",
          ...plugged.map((disk) => `/sys/class/block/${disk.kernelName}`),
        ]);
      }
      await waitForUdevDatabase(
        namespace,
        plugged.map((disk) => disk.kernelName),
      );
      await parts.udevd.current.settle();
      return Object.fromEntries(plugged.map((disk) => [disk.serial, disk.kernelName]));
    },
    async afterInitComplete(): Promise<BootUnitRun[]> {
      await writeFile(namespace.outside(XAPI_INIT_COMPLETE_COOKIE), "");
      return runBootUnits(namespace, await enabledBootUnits(namespace));
    },
  };
}
