import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { startChild } from "./child";
import { removeUnusedDevMountpoints, renderDevMounts } from "./dev-mountpoints";
import { levelsLeavesFirst, mountNamespaceOf, processesInNamespace, waitUntilGone } from "./host-processes";
import type { RunResult } from "./run";
import { runIn } from "./run";
import type { Teardown } from "./teardown";

const READY_TIMEOUT_MS = 10_000;
const STRAGGLER_REAP_TIMEOUT_MS = 1_000;

/** Host directories overlaid inside the namespace: writes land in the sandbox's temp dir. */
export const OVERLAID_DIRS = ["/etc", "/opt", "/var", "/root"] as const;

/**
 * root's shell start-up files in dom0, shadowing this machine's own: a real dom0 has plain ones,
 * and a developer's ~/.bashrc (pyenv, nvm...) would make every SSH exec slow or even hang.
 */
const PLAIN_ROOT_SHELL_FILES = [".bashrc", ".bash_profile", ".bash_login", ".profile"];

/** A private mount namespace, kept alive by a holder process that sleeps in it. */
export interface Namespace {
  readonly holderPid: number;
  /** The mount namespace's identity, "mnt:[...]". */
  readonly id: string;
  /** The path, seen from outside, of a path inside the namespace. */
  outside(path: string): string;
  /** Runs a program inside the namespace. */
  run(file: string, args: readonly string[]): Promise<RunResult>;
  /** Kills every process in the namespace except the holder and `keep` (children first). */
  killStragglers(keep: readonly number[]): Promise<number>;
}

/** Pure: the shell script the holder runs to build the namespace's private mounts. */
export function renderHolderScript(stateDir: string): string {
  const lines = ["set -e"];
  for (const dir of OVERLAID_DIRS) {
    const name = dir.slice(1);
    const upper = join(stateDir, `${name}-upper`);
    const work = join(stateDir, `${name}-work`);
    lines.push(`mount -t overlay overlay -o lowerdir=${dir},upperdir=${upper},workdir=${work} ${dir}`);
  }
  lines.push("mount -t tmpfs -o mode=755 tmpfs /run", "mkdir -p /run/udev /run/sshd /run/lock");
  lines.push(...renderDevMounts());
  lines.push("echo namespace-ready", "exec sleep infinity");
  return `${lines.join("\n")}\n`;
}

/** Starts the namespace holder; everything it made goes away when `teardown` runs. */
export async function startNamespace(stateDir: string, teardown: Teardown): Promise<Namespace> {
  // Runs after the holder is gone (deferred first), when our own mounts no longer count.
  teardown.defer("remove /dev mountpoints no sandbox uses", () => removeUnusedDevMountpoints());
  for (const dir of OVERLAID_DIRS) {
    const name = dir.slice(1);
    await mkdir(join(stateDir, `${name}-upper`), { recursive: true });
    await mkdir(join(stateDir, `${name}-work`), { recursive: true });
  }
  for (const file of PLAIN_ROOT_SHELL_FILES) {
    await writeFile(join(stateDir, "root-upper", file), "# dom0 sandbox: a plain root shell\n");
  }
  const script = join(stateDir, "namespace-holder.sh");
  await writeFile(script, renderHolderScript(stateDir));

  const holder = startChild("namespace holder", "unshare", ["-m", "--propagation", "private", "sh", script]);
  // The namespace's mounts vanish with its last process: stopping the holder unmounts all.
  teardown.defer("stop namespace holder", () => holder.stop());
  await holder.waitForOutput(/namespace-ready/, READY_TIMEOUT_MS);
  const namespaceId = (await mountNamespaceOf(holder.pid)) ?? "";

  return {
    holderPid: holder.pid,
    id: namespaceId,
    outside: (path) => join(`/proc/${holder.pid}/root`, path),
    run: (file, args) => runIn(holder.pid, file, args),
    async killStragglers(keep) {
      const spared = new Set([holder.pid, ...keep]);
      const stragglers = (await processesInNamespace(namespaceId)).filter((info) => !spared.has(info.pid));
      // Level by level, children first, each level reaped by its (still living) parents before
      // the next: a process whose parent dies first would be a zombie no one ever reaps here.
      for (const level of levelsLeavesFirst(stragglers)) {
        for (const info of level) {
          try {
            process.kill(info.pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
        await waitUntilGone(
          level.map((info) => info.pid),
          STRAGGLER_REAP_TIMEOUT_MS,
        );
      }
      return stragglers.length;
    },
  };
}
