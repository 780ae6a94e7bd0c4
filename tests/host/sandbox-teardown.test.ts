// Host tier: starting and stopping the dom0 sandbox leaves nothing behind: no processes
// (zombies included), mount namespaces, loop devices, mounts, /dev entries or files; through
// the CLI and SIGINT too. Other host-tier files may run sandboxes meanwhile: only ours counts.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";

import { startSandbox } from "xen-sandbox";
import type { SandboxDescription } from "xen-sandbox";
import * as sshdModule from "xen-sandbox/dist/dom0/sshd";

const DEV_DIRS = ["/dev/xapi", "/dev/disk", "/dev/block", "/dev/char"];
const CLI = join(__dirname, "..", "..", "..", "sandbox", "bin", "xen-sandbox.js");

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

interface Ours {
  /** Every descendant of the process that started the sandbox, by pid, with its start time. */
  processes: Map<number, string>;
  /** Their mount namespaces other than the host's. */
  namespaces: Set<string>;
  stateDir: string;
}

function oursUnder(root: number, stateDir: string): Ours {
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

async function expectNothingLeft(ours: Ours, devDirsBefore: string[]): Promise<void> {
  const table = processTable();
  const leftProcesses = [...ours.processes].filter(([pid, startTime]) => table.get(pid)?.[1] === startTime);
  expect(leftProcesses).toEqual([]);
  const inOurNamespaces = [...table.keys()].filter((pid) =>
    ours.namespaces.has(tryRead(() => readlinkSync(`/proc/${pid}/ns/mnt`)) ?? ""),
  );
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

test("stop() removes everything, and a second stop() is harmless", async () => {
  const devDirsBefore = DEV_DIRS.filter((dir) => existsSync(dir));
  const startedAt = performance.now();
  const sandbox = await startSandbox({ disks: 1 });
  const startMs = performance.now() - startedAt;
  const ours = oursUnder(process.pid, dirname(sandbox.ssh.privateKeyPath));
  expect(ours.processes.has(sandbox.holderPid)).toBe(true);
  expect(ours.namespaces.size).toBe(1);
  expect(sandbox.disks).toHaveLength(2);

  const stoppingAt = performance.now();
  await sandbox.stop();
  const stopMs = performance.now() - stoppingAt;
  await sandbox.stop();
  process.stdout.write(`sandbox start ${startMs.toFixed(0)} ms, stop ${stopMs.toFixed(0)} ms\n`);

  await expectNothingLeft(ours, devDirsBefore);
});

test("a start that fails half-way removes what it had made", async () => {
  const devDirsBefore = DEV_DIRS.filter((dir) => existsSync(dir));
  const realStartSshd = sshdModule.startSshdOnFreePort;
  let ours: Ours | undefined;
  // Fail once sshd runs, with the namespace, udevd, the simulator and the sockets already up.
  const spy = jest
    .spyOn(sshdModule, "startSshdOnFreePort")
    .mockImplementationOnce(async (namespace, configPath, ...rest) => {
      await realStartSshd(namespace, configPath, ...rest);
      ours = oursUnder(process.pid, dirname(configPath));
      throw new Error("injected failure after sshd started");
    });
  try {
    await expect(startSandbox({ disks: 1 })).rejects.toThrow("injected failure after sshd started");
  } finally {
    spy.mockRestore();
  }
  expect(ours?.namespaces.size).toBe(1);
  expect(ours?.processes.size).toBeGreaterThanOrEqual(3); // holder, udevd, sshd
  await expectNothingLeft(ours!, devDirsBefore);
});

test("the CLI prints one JSON line, runs until SIGINT, then removes everything", async () => {
  const devDirsBefore = DEV_DIRS.filter((dir) => existsSync(dir));
  const cli = spawn(process.execPath, [CLI, "start", "--disks", "1", "--json"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  cli.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(cli, "exit");
  const [line] = (await once(createInterface({ input: cli.stdout }), "line")) as [string];
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
  const ours = oursUnder(cli.pid!, dirname(description.ssh.privateKeyPath));
  expect(ours.namespaces.size).toBe(1);
  expect(existsSync(ours.stateDir)).toBe(true);

  cli.kill("SIGINT");
  const [code] = (await exited) as [number | null];
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  await expectNothingLeft(ours, devDirsBefore);
});
