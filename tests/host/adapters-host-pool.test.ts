// The per-process host pool against the dom0 sandbox: one SSH connection and one XAPI login
// (through the SSH connection, into dom0's Unix socket) shared by concurrent callers, and
// re-established after a drop.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { startXapiSimulator } from "xen-sandbox";
import { closeAll, HostKeyError, hostSession, XapiSession } from "#provider/adapters/index.js";
import type { SshConnection, SshConnectionGiven } from "#provider/core/inputs.js";
import { withSshDefaults, withXapiDefaults } from "#provider/core/inputs.js";
import { connectionTo, useSandbox } from "../support/sandbox";

const sandbox = useSandbox({ disks: 0 });

function spec(extra: Partial<SshConnectionGiven> = {}): SshConnection {
  return withSshDefaults(connectionTo(sandbox(), extra));
}

const control = () => sandbox().simulator.control;

beforeEach(() => control().trace.reset());
afterEach(async () => {
  control().faults.clear();
  await closeAll();
});

it("gives concurrent callers one SSH connection and one XAPI login, over dom0's Unix socket", async () => {
  const sessions = await Promise.all(Array.from({ length: 6 }, () => hostSession(spec())));
  const [first] = sessions;
  for (const session of sessions) {
    expect(session.remote).toBe(first?.remote);
    expect(session.xapi).toBe(first?.xapi);
  }
  const vms = await Promise.all(sessions.map(({ xapi }) => xapi.call<string[]>("VM.get_all")));
  expect(vms[0]?.length).toBe(control().state().vms.length);
  expect(first?.remote.stats.connections).toBe(1);
  const trace = control().trace.get();
  expect(trace.logins).toBe(1);
  expect(new Set(trace.calls.map((call) => call.transport))).toEqual(new Set(["unix"]));
  expect(first?.xapi.stats).toEqual({ logins: 1, calls: 6 });
});

it("after the SSH connection drops, dials again once and keeps the XAPI session", async () => {
  const { remote, xapi } = await hostSession(spec());
  await remote.exec("kill -9 $PPID").catch(() => undefined);
  const again = await hostSession(spec());
  expect(again.remote).toBe(remote);
  expect(await again.xapi.call<string[]>("VM.get_all")).toHaveLength(control().state().vms.length);
  expect(await remote.run("echo up")).toBe("up\n");
  expect(remote.stats.connections).toBe(2);
  expect(xapi.stats.logins).toBe(1);
  expect(control().trace.get().logins).toBe(1);
});

it("logs in again once when XAPI says the session is invalid", async () => {
  const { xapi } = await hostSession(spec());
  control().faults.add({
    method: "host.get_all",
    action: { error: { code: "SESSION_INVALID", params: ["x"] } },
    count: 1,
  });
  expect(await xapi.call<string[]>("host.get_all")).toHaveLength(1);
  expect(xapi.stats.logins).toBe(2);
});

it("uses direct HTTPS XAPI when given, still one session for all callers", async () => {
  const { xapi: settings } = sandbox();
  const https = withXapiDefaults({
    url: settings.url,
    password: settings.password,
    tlsFingerprint: settings.tlsFingerprint,
  });
  const [a, b] = await Promise.all([hostSession(spec(), https), hostSession(spec(), https)]);
  expect(a.xapi).toBe(b.xapi);
  await a.xapi.call("VM.get_all");
  const trace = control().trace.get();
  expect(trace.logins).toBe(1);
  expect(trace.calls.find((call) => call.method === "VM.get_all")?.transport).toBe("tls");
});

it("does not let a caller with another host key ride on a verified connection", async () => {
  await hostSession(spec());
  const otherKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILwEYbtVdD7aJxcJ0w9Q5mnlULV7wKwLy6MJzb7EOH+i";
  await expect(hostSession(spec({ hostKey: otherKey }))).rejects.toBeInstanceOf(HostKeyError);
  // A failed connect is not cached: the next attempt dials again (and fails again).
  await expect(hostSession(spec({ hostKey: otherKey }))).rejects.toBeInstanceOf(HostKeyError);
});

it("closeAll logs out and disconnects; the next caller connects afresh", async () => {
  const sessionsBefore = control().state().sessions;
  const { remote } = await hostSession(spec());
  expect(control().state().sessions).toBe(sessionsBefore + 1);
  await closeAll();
  expect(remote.isClosed).toBe(true);
  expect(control().state().sessions).toBe(sessionsBefore);
  const next = await hostSession(spec());
  expect(next.remote).not.toBe(remote);
  expect(await next.remote.run("echo new")).toBe("new\n");
});

it("lets a process that never calls closeAll exit by itself, logging out first", async () => {
  const sessionsBefore = control().state().sessions;
  const adapters = require.resolve("#provider/adapters/index.js");
  const inputs = require.resolve("#provider/core/inputs.js");
  const child = `
    const { hostSession } = require(${JSON.stringify(adapters)});
    const { withSshDefaults } = require(${JSON.stringify(inputs)});
    hostSession(withSshDefaults(JSON.parse(process.argv[1]))).then(async ({ remote, xapi }) => {
      await xapi.call("VM.get_all");
      process.stdout.write(await remote.run("echo child-ok"));
    });`;
  const output = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ["-e", child, JSON.stringify(spec())],
      { timeout: 20_000 },
      (error, stdout, stderr) =>
        error === null
          ? resolve(stdout)
          : reject(new Error(`the child process failed: ${error.message}\n${stderr}`)),
    );
  });
  expect(output).toBe("child-ok\n");
  expect(control().trace.get().countsByMethod["session.logout"]).toBe(1);
  expect(control().state().sessions).toBe(sessionsBefore);
});

it("on a pool member reached through SSH, logs in as local superuser with no password", async () => {
  // A second simulator playing a pool member, its socket where dom0's sshd can reach it. A login
  // over a member's Unix socket is a local superuser session (xen-api xapi_session.ml); only a
  // remote login answers HOST_IS_SLAVE.
  const member = await startXapiSimulator({ masterAddress: "192.0.2.10" });
  const socketPath = `/tmp/xp-member-${randomUUID()}.sock`;
  try {
    await member.listenUnix(socketPath);
    const { remote } = await hostSession(spec());
    const session = await XapiSession.open({ kind: "ssh", host: remote, socketPath });
    try {
      expect(await session.call<string[]>("host.get_all")).toEqual([member.control.state().host.ref]);
    } finally {
      await session.close();
    }
  } finally {
    await member.stop();
  }
});
