import { readdir, readFile, readlink } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

/** One process as /proc shows it. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  state: string;
}

async function processInfo(pid: number): Promise<ProcessInfo | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // The command name sits in parentheses and may contain spaces: parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { pid, ppid: Number(fields[1]), state: fields[0] ?? "?" };
  } catch {
    return undefined;
  }
}

/** The mount namespace identity of a process ("mnt:[4026532...]"), or undefined if it is gone. */
export async function mountNamespaceOf(pid: number): Promise<string | undefined> {
  try {
    return await readlink(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

async function allPids(): Promise<number[]> {
  const entries = await readdir("/proc");
  return entries.filter((entry) => /^\d+$/.test(entry)).map(Number);
}

/** Live (non-zombie) processes whose mount namespace is `namespace`. */
export async function processesInNamespace(namespace: string): Promise<ProcessInfo[]> {
  const found: ProcessInfo[] = [];
  for (const pid of await allPids()) {
    if ((await mountNamespaceOf(pid)) !== namespace) continue;
    const info = await processInfo(pid);
    if (info !== undefined && info.state !== "Z") found.push(info);
  }
  return found;
}

/** Pure: groups processes by depth in their own tree, deepest first (kill leaves first). */
export function levelsLeavesFirst(processes: readonly ProcessInfo[]): ProcessInfo[][] {
  const byPid = new Map(processes.map((info) => [info.pid, info]));
  const depth = (info: ProcessInfo): number => {
    let level = 0;
    for (let parent = byPid.get(info.ppid); parent !== undefined; parent = byPid.get(parent.ppid)) level++;
    return level;
  };
  const levels: ProcessInfo[][] = [];
  for (const info of processes) (levels[depth(info)] ??= []).push(info);
  return levels.filter((level) => level.length > 0).reverse();
}

/** Waits until none of `pids` is alive (zombies count as alive: their parent has yet to reap them). */
export async function waitUntilGone(pids: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let alive = [...pids];
  while (alive.length > 0 && Date.now() < deadline) {
    alive = (
      await Promise.all(alive.map(async (pid) => ((await processInfo(pid)) === undefined ? [] : [pid])))
    ).flat();
    if (alive.length > 0) await sleep(5);
  }
}
