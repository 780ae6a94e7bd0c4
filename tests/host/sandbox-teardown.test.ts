// Host tier: starting and stopping the dom0 sandbox leaves nothing behind: no processes
// (zombies included), mount namespaces, loop devices, mounts, /dev entries or files; through
// the CLI and SIGINT too. Other host-tier files may run sandboxes meanwhile: only ours counts.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";

import { startSandbox } from "xen-sandbox";
import type { SandboxDescription } from "xen-sandbox";
import * as sshdModule from "xen-sandbox/dist/dom0/sshd";

import { DEV_DIRS, expectNothingLeft, oursUnder } from "../support/leftovers";
import type { Ours } from "../support/leftovers";

const CLI = join(__dirname, "..", "..", "..", "sandbox", "bin", "xen-sandbox.js");

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
  expect(description.disks.map((disk) => disk.bus)).toEqual(["sata", "sata"]);
  expect(Object.keys(description.disks[0]!).sort()).toEqual([
    "bus",
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
