// Host tier: a 3-host pool (one simulator database, one dom0 per host): each dom0 has its own
// namespace, inventory and disks; a member's XAPI socket, reached through SSH stream-local
// forwarding with the member's own key, logs in with no password and serves the pool's data;
// stop() leaves nothing behind on any host.
import { once } from "node:events";
import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { dirname, join } from "node:path";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

import { startPool } from "xen-sandbox";
import type { PoolDescription, PoolHostSandbox } from "xen-sandbox";

import { DEV_DIRS, expectNothingLeft, oursUnder } from "../support/leftovers";
import { connectSsh, forwardXapi } from "../support/ssh-xapi";

const CLI = join(__dirname, "..", "..", "..", "sandbox", "bin", "xen-sandbox.js");

/** One raw JSON-RPC call to `url` (http or https; the simulator's certificate is not checked). */
async function jsonRpc(
  url: string,
  method: string,
  params: unknown[],
): Promise<{ result?: unknown; error?: { message: string; data: unknown } }> {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
  const request = url.startsWith("https:") ? httpsRequest : httpRequest;
  const response = await new Promise<string>((resolve, reject) => {
    const req = request(
      new URL("/jsonrpc", url),
      { method: "POST", headers: { "content-type": "application/json" }, rejectUnauthorized: false },
      (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => resolve(text));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
  return JSON.parse(response) as { result?: unknown; error?: { message: string; data: unknown } };
}

/** A remote login on a host's HTTPS listener: the error code and parameters it answers. */
async function remoteLogin(
  url: string,
  user: string,
  password: string,
): Promise<{ code: string; params: unknown }> {
  const { error } = await jsonRpc(url, "session.login_with_password", [user, password, "1.0", "test"]);
  return { code: error?.message ?? "", params: error?.data };
}

test("a 3-host pool starts, serves a member's socket through SSH with no password, and stops cleanly", async () => {
  const devDirsBefore = DEV_DIRS.filter((dir) => existsSync(dir));
  const startedAt = performance.now();
  const pool = await startPool({ hosts: 3 });
  const startMs = performance.now() - startedAt;
  let stopped = false;
  try {
    const described = pool.describe();
    expect(described.hosts.map((host) => host.isMaster)).toEqual([true, false, false]);
    expect(described.master).toBe(described.hosts[0]?.host.uuid);
    // Two hosts with 4 free disks each, the last with none; each has its in-use boot disk.
    expect(described.hosts.map((host) => host.disks.length)).toEqual([5, 5, 1]);
    const serials = described.hosts.flatMap((host) => host.disks.map((disk) => disk.serial));
    expect(new Set(serials).size).toBe(serials.length);
    expect(new Set(described.hosts.map((host) => host.ssh.port)).size).toBe(3);
    expect(new Set(pool.hosts.map((host) => host.holderPid)).size).toBe(3);
    for (const host of pool.hosts) {
      const inventory = await host.readFile("/etc/xensource-inventory");
      expect(inventory).toContain(`INSTALLATION_UUID='${host.host.uuid}'`);
    }

    const member = pool.hosts[1] as PoolHostSandbox;
    const ssh = await connectSsh(member.describe());
    const forwarder = await forwardXapi(ssh);
    const local = `http://127.0.0.1:${(forwarder.address() as AddressInfo).port}`;
    try {
      // No password: a login over dom0's socket is a local superuser session (xapi_session.ml).
      const login = await jsonRpc(local, "session.login_with_password", ["", ""]);
      expect(login.error).toBeUndefined();
      const session = String(login.result);
      expect((await jsonRpc(local, "session.get_is_local_superuser", [session, session])).result).toBe(true);
      expect((await jsonRpc(local, "session.get_this_host", [session, session])).result).toBe(
        pool.simulator.hosts.find((host) => host.uuid === member.host.uuid)?.ref,
      );
      const hosts = (await jsonRpc(local, "host.get_all_records", [session])).result as Record<
        string,
        { uuid: string }
      >;
      expect(
        Object.values(hosts)
          .map((host) => host.uuid)
          .sort(),
      ).toEqual(described.hosts.map((host) => host.host.uuid).sort());
      // A remote login on the same member answers HOST_IS_SLAVE [master address].
      const { xapi: remote } = member.describe();
      expect(await remoteLogin(remote.url, remote.username, remote.password)).toEqual({
        code: "HOST_IS_SLAVE",
        params: ["127.0.0.1"],
      });
    } finally {
      forwarder.close();
      const closed = once(ssh, "close");
      ssh.end();
      await closed;
    }

    // xe on a member (its own socket, no password) lists the pool's hosts, as on a real member.
    const xeHosts = await member.exec("xe host-list params=uuid --minimal");
    expect(xeHosts.stdout.trim().split(",").sort()).toEqual(
      described.hosts.map((host) => host.host.uuid).sort(),
    );

    // A passthrough rule on member-1: its udevd links the disk into its own /dev/xapi/block, and
    // local-device-change introduces the VDI into member-1's udev SR, not the master's.
    const disk = member.disks.find((each) => !each.inUse);
    const properties = (await member.exec(`udevadm info --query=property --name=/dev/${disk?.kernelName}`))
      .stdout;
    const idSerial = /^ID_SERIAL=(.*)$/m.exec(properties)?.[1];
    expect(idSerial).toBeDefined();
    const match = `SUBSYSTEM=="block", ENV{DEVTYPE}=="disk", ENV{ID_SERIAL}=="${idSerial}"`;
    const rule = `ACTION=="add|change", ${match}, SYMLINK+="xapi/block/%k", RUN+="/opt/xensource/libexec/local-device-change %k"`;
    const written = await member.exec(
      `printf '%s\\n' '${rule}' > /etc/udev/rules.d/65-xen-pool-test.rules && udevadm control --reload && ` +
        `udevadm trigger --action=change --settle /sys/class/block/${disk?.kernelName}`,
    );
    expect(written.exitCode).toBe(0);
    const location = `/dev/xapi/block/${disk?.kernelName}`;
    const memberSr = pool.simulator.control.state().hosts[1]?.removableSr;
    let vdis: Array<{ sr: string }> = [];
    for (let attempt = 0; attempt < 100 && vdis.length === 0; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      vdis = pool.simulator.control.state().vdis.filter((vdi) => vdi.location === location);
    }
    expect(vdis.map((vdi) => vdi.sr)).toEqual([memberSr]);
    expect((await member.exec(`test -L ${location}`)).exitCode).toBe(0);
    expect((await pool.master.exec(`test -e ${location}`)).exitCode).not.toBe(0);

    const ours = pool.hosts.map((host) => oursUnder(process.pid, dirname(host.ssh.privateKeyPath)));
    expect(ours[0]?.namespaces.size).toBeGreaterThanOrEqual(3);
    const stoppingAt = performance.now();
    await pool.stop();
    const stopMs = performance.now() - stoppingAt;
    stopped = true;
    await pool.stop();
    process.stdout.write(`3-host pool start ${startMs.toFixed(0)} ms, stop ${stopMs.toFixed(0)} ms\n`);
    for (const host of ours) await expectNothingLeft(host, devDirsBefore);
  } finally {
    if (!stopped) await pool.stop();
  }
});

test("the CLI starts a pool with --hosts, prints every host in one JSON line, and removes everything on SIGINT", async () => {
  const devDirsBefore = DEV_DIRS.filter((dir) => existsSync(dir));
  const cli = spawn(process.execPath, [CLI, "start", "--hosts", "3", "--disks", "1,1,0", "--json"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  cli.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(cli, "exit");
  const [line] = (await once(createInterface({ input: cli.stdout }), "line")) as [string];
  const description = JSON.parse(line) as PoolDescription;

  expect(Object.keys(description).sort()).toEqual(["controlUrl", "hosts", "master"]);
  expect(description.hosts.map((host) => [host.isMaster, host.disks.length])).toEqual([
    [true, 2],
    [false, 2],
    [false, 1],
  ]);
  expect(description.master).toBe(description.hosts[0]?.host.uuid);
  for (const host of description.hosts) {
    expect(Object.keys(host).sort()).toEqual([
      "controlUrl",
      "disks",
      "host",
      "isMaster",
      "ssh",
      "vms",
      "xapi",
    ]);
    expect(host.ssh.hostKey).toMatch(/^ssh-ed25519 AAAA[\w+/=]+$/);
  }
  // Each member has its own guest running on it (the default pool model).
  expect(description.hosts[2]?.vms.map((vm) => [vm.nameLabel, vm.powerState])).toEqual([
    ["guest-on-xen-sandbox-3", "Running"],
  ]);
  const ours = description.hosts.map((host) => oursUnder(cli.pid ?? 0, dirname(host.ssh.privateKeyPath)));
  expect(ours[0]?.namespaces.size).toBe(3);

  cli.kill("SIGINT");
  const [code] = (await exited) as [number | null];
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  for (const host of ours) await expectNothingLeft(host, devDirsBefore);
});
