// Host tier: what a sandbox leaves behind once stopped: processes (zombies included), mount
// namespaces, loop devices, mounts, /dev entries and files. Only the sandbox's own count: other
// test files may run sandboxes meanwhile.
import { existsSync, readFileSync, readdirSync, readlinkSync } from "node:fs";

export const DEV_DIRS = ["/dev/xapi", "/dev/disk", "/dev/block", "/dev/char"];

function tryRead(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** pid -> [parent pid, start time]: the start time tells a process from a later one with its pid. */
function processTable(): Map<number, [number, string]> {
  const table = new Map<number, [number, string]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = tryRead(() => readFileSync(`/proc/${entry}/stat`, "utf8"));
    const fields = stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields !== undefined) table.set(Number(entry), [Number(fields[1]), fields[19] ?? ""]);
  }
  return table;
}

export interface Ours {
  /** Every descendant of the process that started the sandbox, by pid, with its start time. */
  processes: Map<number, string>;
  /** Their mount namespaces other than the host's. */
  namespaces: Set<string>;
  stateDir: string;
}

export function oursUnder(root: number, stateDir: string): Ours {
  const table = processTable();
  const isUnder = (pid: number): boolean => {
    for (
      let parent = table.get(pid)?.[0];
      parent !== undefined && parent > 1;
      parent = table.get(parent)?.[0]
    ) {
      if (parent === root) return true;
    }
    return false;
  };
  const processes = new Map<number, string>();
  const namespaces = new Set<string>();
  for (const [pid, [, startTime]] of table) {
    if (!isUnder(pid)) continue;
    processes.set(pid, startTime);
    const namespace = tryRead(() => readlinkSync(`/proc/${pid}/ns/mnt`));
    if (namespace !== undefined) namespaces.add(namespace);
  }
  namespaces.delete(readlinkSync("/proc/self/ns/mnt"));
  return { processes, namespaces, stateDir };
}

/** Whether any process's mount namespace has something mounted at `dir`. */
function mountedSomewhere(dir: string): boolean {
  return [...processTable().keys()].some((pid) =>
    (tryRead(() => readFileSync(`/proc/${pid}/mountinfo`, "utf8")) ?? "")
      .split("\n")
      .some((line) => line.split(" ")[4] === dir),
  );
}

export async function expectNothingLeft(ours: Ours, devDirsBefore: string[]): Promise<void> {
  const table = processTable();
  const leftProcesses = [...ours.processes].filter(([pid, startTime]) => table.get(pid)?.[1] === startTime);
  expect(leftProcesses).toEqual([]);
  const namespaceOf = (pid: number) => tryRead(() => readlinkSync(`/proc/${pid}/ns/mnt`)) ?? "";
  const commandOf = (pid: number) =>
    tryRead(() => readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim()) ?? "?";
  // The kernel reuses a freed namespace's inode number: a namespace is ours only while its mounts
  // are our sandbox's (its overlays name our state dir); another sandbox's, started since, is not.
  const mountsOurs = (pid: number) =>
    tryRead(() => readFileSync(`/proc/${pid}/mountinfo`, "utf8"))?.includes(`${ours.stateDir}/`) ?? true;
  // Named by pid, parent and command line, so that a failure says what was left.
  const inOurNamespaces = [...table.keys()]
    .filter((pid) => ours.namespaces.has(namespaceOf(pid)) && mountsOurs(pid))
    .map((pid) => `${pid} (parent ${table.get(pid)?.[0]}): ${commandOf(pid)}`);
  expect(inOurNamespaces).toEqual([]);

  const loops = readdirSync("/sys/block").filter((name) => name.startsWith("loop"));
  const backing = loops.map((name) =>
    tryRead(() => readFileSync(`/sys/block/${name}/loop/backing_file`, "utf8")),
  );
  expect(backing.filter((file) => file?.startsWith(ours.stateDir))).toEqual([]);
  expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(ours.stateDir);
  expect(existsSync(ours.stateDir)).toBe(false);

  expect(existsSync("/dev/xapi/block")).toBe(false);
  // A /dev mountpoint the sandbox created stays only while another sandbox still mounts it. A
  // sandbox of another test file may be between its unmount and its clean-up: give it time.
  const unmountedCreated = () =>
    DEV_DIRS.filter((dir) => existsSync(dir) && !devDirsBefore.includes(dir) && !mountedSomewhere(dir));
  for (let waited = 0; unmountedCreated().length > 0 && waited < 10_000; waited += 100) await sleep(100);
  expect(unmountedCreated()).toEqual([]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
