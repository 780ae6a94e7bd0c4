import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

import type { ChildProcessHandle } from "./child";
import { startChild } from "./child";
import { SandboxError } from "./errors";
import type { Namespace } from "./namespace";
import { nsenterArgs } from "./run";
import type { Teardown } from "./teardown";

const UDEVD = "/usr/lib/systemd/systemd-udevd";
const READY_TIMEOUT_MS = 10_000;
const POLL_MS = 10;
const SETTLE_TIMEOUT_S = 60;

/** A real systemd-udevd running in the namespace (foreground, a child of Node). */
export interface Udevd {
  readonly process: ChildProcessHandle;
  /** Waits until udevd has handled every queued event (RUN programs included). */
  settle(): Promise<void>;
  /** Replays a kernel event for one block device ("add", "change", "remove") and waits for it. */
  trigger(action: "add" | "change" | "remove", kernelName: string): Promise<void>;
  /** Makes udevd re-read its rules files now. */
  reloadRules(): Promise<void>;
}

export async function startUdevd(namespace: Namespace, teardown: Teardown): Promise<Udevd> {
  // Not --daemon: the daemon's orphans would never be reaped here (see child.ts).
  const udevd = startChild("systemd-udevd", "nsenter", nsenterArgs(namespace.holderPid, UDEVD, []));
  teardown.defer("stop systemd-udevd", () => udevd.stop());

  const control = namespace.outside("/run/udev/control");
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!existsSync(control)) {
    if (udevd.exited || Date.now() > deadline) {
      throw new SandboxError(
        udevd.exited ? "PROCESS_EXITED" : "TIMEOUT",
        { name: "systemd-udevd", output: udevd.output() },
        `systemd-udevd did not start in the sandbox namespace: ${udevd.output().trim() || "no output"}`,
      );
    }
    await sleep(POLL_MS);
  }
  await namespace.run("udevadm", ["control", "--ping"]);

  return {
    process: udevd,
    settle: async () => {
      await namespace.run("udevadm", ["settle", `--timeout=${SETTLE_TIMEOUT_S}`]);
    },
    trigger: async (action, kernelName) => {
      await namespace.run("udevadm", [
        "trigger",
        `--action=${action}`,
        "--settle",
        `/sys/class/block/${kernelName}`,
      ]);
    },
    reloadRules: async () => {
      await namespace.run("udevadm", ["control", "--reload"]);
    },
  };
}
