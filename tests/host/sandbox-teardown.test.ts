// Host tier: starting and stopping the dom0 sandbox leaves nothing behind: no processes,
// mount namespaces, loop devices, mounts, /dev entries or files; through the CLI and SIGINT too.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";

import { startSandbox } from "xen-sandbox";
import type { SandboxDescription } from "xen-sandbox";

const DEV_DIRS = ["/dev/xapi", "/dev/disk", "/dev/block", "/dev/char"];
const CLI = join(__dirname, "..", "..", "..", "sandbox", "bin", "xen-sandbox.js");

// Other host-tier files may run a sandbox at the same time: only what is ours counts.
interface HostState {
  zombies: Set<number>;
  devDirs: string[];
}

function pids(): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

function tryRead(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** Zombies nobody will reap (their parent is PID 1, which reaps nothing on this machine). */
function orphanZombies(): Set<number> {
  const zombies = new Set<number>();
  for (const pid of pids()) {
    const stat = tryRead(() => readFileSync(`/proc/${pid}/stat`, "utf8"));
    const fields = stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields?.[0] === "Z" && fields[1] === "1") zombies.add(pid);
  }
  return zombies;
}

function hostState(): HostState {
  return { zombies: orphanZombies(), devDirs: DEV_DIRS.filter((dir) => existsSync(dir)) };
}

/** The mount namespaces, other than the host's, of `root` and all its descendants. */
function namespacesUnder(root: number): Set<string> {
  const parentOf = new Map<number, number>();
  for (const pid of pids()) {
    const stat = tryRead(() => readFileSync(`/proc/${pid}/stat`, "utf8"));
    if (stat !== undefined) parentOf.set(pid, Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
  }
  const isUnder = (pid: number): boolean => {
    for (let current: number | undefined = pid; current !== undefined && current > 1; current = parentOf.get(current)) {
      if (current === root) return true;
    }
    return false;
  };
  const namespaces = new Set<string>();
  for (const pid of parentOf.keys()) {
    if (!isUnder(pid)) continue;
    const namespace = tryRead(() => readlinkSync(`/proc/${pid}/ns/mnt`));
    if (namespace !== undefined) namespaces.add(namespace);
  }
  namespaces.delete(readlinkSync("/proc/self/ns/mnt"));
  return namespaces;
}

/** Whether any process's mount namespace has something mounted at `dir`. */
function mountedSomewhere(dir: string): boolean {
  return pids().some((pid) =>
    (tryRead(() => readFileSync(`/proc/${pid}/mountinfo`, "utf8")) ?? "")
      .split("\n")
      .some((line) => line.split(" ")[4] === dir),
  );
}

/** Asserts that nothing the sandbox made (in `stateDir`) is left, compared with `before`. */
function expectNothingLeft(before: HostState, stateDir: string, namespaces: Set<string>): void {
  const after = hostState();
  const inOurNamespaces = pids().filter((pid) => namespaces.has(tryRead(() => readlinkSync(`/proc/${pid}/ns/mnt`)) ?? ""));
  expect(inOurNamespaces).toEqual([]);
  expect([...after.zombies].filter((pid) => !before.zombies.has(pid))).toEqual([]);
  // A /dev mountpoint the sandbox created stays only while another sandbox still mounts it.
  const extraDevDirs = after.devDirs.filter((dir) => !before.devDirs.includes(dir));
  expect(extraDevDirs.filter((dir) => !mountedSomewhere(dir))).toEqual([]);
  expect(existsSync("/dev/xapi/block")).toBe(false);
  expect(existsSync(stateDir)).toBe(false);
  const loops = readdirSync("/sys/block").filter((name) => name.startsWith("loop"));
  const backing = loops.map((name) => tryRead(() => readFileSync(`/sys/block/${name}/loop/backing_file`, "utf8")));
  expect(backing.filter((file) => file?.startsWith(stateDir))).toEqual([]);
  expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(stateDir);
  const commandLines = pids().map((pid) => tryRead(() => readFileSync(`/proc/${pid}/cmdline`, "utf8")) ?? "");
  expect(commandLines.filter((line) => line.includes(stateDir))).toEqual([]);
}

test("stop() removes everything, and a second stop() is harmless", async () => {
  const before = hostState();
  const startedAt = performance.now();
  const sandbox = await startSandbox({ disks: 1 });
  const startMs = performance.now() - startedAt;
  const stateDir = dirname(sandbox.ssh.privateKeyPath);
  expect(existsSync(`/proc/${sandbox.holderPid}`)).toBe(true);
  expect(sandbox.disks).toHaveLength(2);
  const namespaces = namespacesUnder(process.pid);
  expect(namespaces.size).toBe(1);

  const stoppingAt = performance.now();
  await sandbox.stop();
  const stopMs = performance.now() - stoppingAt;
  await sandbox.stop();
  process.stdout.write(`sandbox start ${startMs.toFixed(0)} ms, stop ${stopMs.toFixed(0)} ms\n`);

  expect(existsSync(`/proc/${sandbox.holderPid}`)).toBe(false);
  expectNothingLeft(before, stateDir, namespaces);
});

test("the CLI prints one JSON line, runs until SIGINT, then removes everything", async () => {
  const before = hostState();
  const cli = spawn(process.execPath, [CLI, "start", "--disks", "1", "--json"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  cli.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(cli, "exit");
  const lines = createInterface({ input: cli.stdout });
  const [line] = (await once(lines, "line")) as [string];
  const description = JSON.parse(line) as SandboxDescription;

  expect(Object.keys(description).sort()).toEqual(["controlUrl", "disks", "host", "ssh", "vms", "xapi"]);
  expect(Object.keys(description.xapi).sort()).toEqual(["password", "tlsFingerprint", "url", "username"]);
  expect(Object.keys(description.ssh).sort()).toEqual(["host", "hostKey", "port", "privateKeyPath", "user"]);
  expect(description.ssh.hostKey).toMatch(/^ssh-ed25519 AAAA[\w+/=]+$/);
  expect(description.disks).toHaveLength(2);
  expect(Object.keys(description.disks[0]!).sort()).toEqual([
    "byId",
    "inUse",
    "kernelName",
    "serial",
    "sizeBytes",
    "wwn",
  ]);
  const stateDir = dirname(description.ssh.privateKeyPath);
  expect(existsSync(stateDir)).toBe(true);
  const namespaces = namespacesUnder(cli.pid!);
  expect(namespaces.size).toBe(1);

  cli.kill("SIGINT");
  const [code] = (await exited) as [number | null];
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  expectNothingLeft(before, stateDir, namespaces);
});
