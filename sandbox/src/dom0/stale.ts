import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { backingFile, detachLoop } from "./loop";

/** Every sandbox's temp dir starts with this, under the OS temp dir. */
export const STATE_DIR_PREFIX = "xen-sandbox-";
const OWNER_FILE = "owner";

async function startTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Records which process owns a sandbox (pid and start time, so a reused pid does not count). */
export async function writeOwner(stateDir: string): Promise<void> {
  await writeFile(join(stateDir, OWNER_FILE), `${process.pid} ${(await startTime(process.pid)) ?? ""}\n`);
}

async function ownerAlive(stateDir: string): Promise<boolean | undefined> {
  let owner: string;
  try {
    owner = await readFile(join(stateDir, OWNER_FILE), "utf8");
  } catch {
    return undefined; // not (yet) marked: leave it alone
  }
  const [pid, started] = owner.trim().split(" ");
  return (await startTime(Number(pid))) === started;
}

/**
 * Removes what sandboxes whose Node process died without stopping them left behind. Their
 * processes died with them (parent-death signal), and so did their mounts; the loop devices
 * and temp files stay, and are removed here, at the next start.
 */
export async function reapStaleSandboxes(): Promise<string[]> {
  const reaped: string[] = [];
  const entries = await readdir(tmpdir());
  for (const entry of entries.filter((name) => name.startsWith(STATE_DIR_PREFIX))) {
    const stateDir = join(tmpdir(), entry);
    if ((await ownerAlive(stateDir)) !== false) continue;
    for (const name of (await readdir("/sys/block")).filter((block) => block.startsWith("loop"))) {
      const file = await backingFile(name);
      if (file?.startsWith(`${stateDir}/`)) await detachLoop(name).catch(() => undefined);
    }
    await rm(stateDir, { recursive: true, force: true });
    reaped.push(stateDir);
  }
  return reaped;
}
