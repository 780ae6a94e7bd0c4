// RemoteHost against the real sshd of the dom0 sandbox: scripts on stdin, files, host key
// verification, timeouts, a jump host, and a new dial after the connection drops.
import { randomUUID } from "node:crypto";
import {
  fingerprintOf,
  HostKeyError,
  parseHostKey,
  RemoteCommandError,
  RemoteHost,
  SshConnectionError,
} from "#provider/adapters/index.js";
import type { SshConnection, SshConnectionGiven } from "#provider/core/inputs.js";
import { withSshDefaults } from "#provider/core/inputs.js";
import { connectionTo, useSandbox } from "../support/sandbox";

const sandbox = useSandbox({ disks: 0 });
/** Some other ed25519 key: not the sandbox's host key. */
const OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILwEYbtVdD7aJxcJ0w9Q5mnlULV7wKwLy6MJzb7EOH+i";

function spec(extra: Partial<SshConnectionGiven> = {}): SshConnection {
  return withSshDefaults(connectionTo(sandbox(), extra));
}

let remote: RemoteHost;
beforeAll(async () => {
  remote = await RemoteHost.connect(spec());
});
afterAll(() => remote.close());

describe("scripts", () => {
  it("runs a script with stdin and reports stdout, stderr and the exit code", async () => {
    const result = await remote.exec('read -r name; echo "hello $name"; echo warn >&2; exit 3', {
      stdin: "dom0\n",
    });
    expect(result).toMatchObject({ stdout: "hello dom0\n", stderr: "warn\n", code: 3 });
  });

  it("throws RemoteCommandError with the first line, exit code and combined output on failure", async () => {
    const error: unknown = await remote.run("# comment\nls /no/such/dir").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RemoteCommandError);
    expect(error).toMatchObject({ name: "RemoteCommandError", command: "ls /no/such/dir", exitCode: 2 });
    const failing: unknown = await remote
      .run("echo out; echo err >&2; exit 5")
      .catch((caught: unknown) => caught);
    expect(failing).toMatchObject({ exitCode: 5, output: "out\nerr\n" });
    expect((failing as Error).message).toContain(`failed on ${remote.target} with exit code 5`);
  });

  it("stops a script that outlives its timeout on the host, and everything it started", async () => {
    const pidFile = `/tmp/xp-adapters-${randomUUID()}.pid`;
    try {
      const error: unknown = await remote
        .exec(`sleep 61 & echo $! > ${pidFile}; wait`, { timeoutMs: 300 })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SshConnectionError);
      expect(error).toMatchObject({ code: "SSH_TIMEOUT" });
      expect((error as Error).message).toBe(
        `\`sleep 61 & echo $! > ${pidFile}; wait\` on ${remote.target} did not finish within 300 ms`,
      );
      // Gone, or a zombie waiting for init to reap it: either way no longer running.
      const state = await sandbox().exec(`grep '^State' /proc/$(cat ${pidFile})/status || echo gone`);
      expect(state.stdout).toMatch(/^(gone|State:\s+Z)/);
      expect(await remote.run("echo still usable")).toBe("still usable\n");
    } finally {
      await sandbox().exec(`rm -f ${pidFile}`);
    }
  });

  it("runs more scripts at once than sshd's MaxSessions (10), queueing the excess", async () => {
    const outputs = await Promise.all(Array.from({ length: 12 }, (_, index) => remote.run(`echo ${index}`)));
    expect(outputs).toEqual(Array.from({ length: 12 }, (_, index) => `${index}\n`));
  });
});

describe("files", () => {
  it("writes atomically with a mode, reads back, and reads an absent file as undefined", async () => {
    const path = `/tmp/xp-adapters-${randomUUID()}.rules`;
    try {
      await remote.writeFileAtomic(path, 'KERNEL=="sdb", SYMLINK+="it\'s"\n', 0o640);
      expect(await sandbox().readFile(path)).toBe('KERNEL=="sdb", SYMLINK+="it\'s"\n');
      expect(await remote.readFile(path)).toBe('KERNEL=="sdb", SYMLINK+="it\'s"\n');
      expect((await sandbox().exec(`stat -c %a ${path}`)).stdout.trim()).toBe("640");
      expect(await remote.readFile(`${path}.absent`)).toBeUndefined();
    } finally {
      await sandbox().exec(`rm -f ${path}`);
    }
  });

  it("fails clearly when the directory does not exist", async () => {
    await expect(remote.writeFileAtomic("/no/such/dir/file", "x")).rejects.toThrow(
      "command `write /no/such/dir/file` failed",
    );
  });
});

describe("host key verification", () => {
  it("refuses a host whose key differs, showing the key it presented", async () => {
    const error: unknown = await RemoteHost.connect(spec({ hostKey: OTHER_KEY })).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(HostKeyError);
    const presented = fingerprintOf(parseHostKey(sandbox().ssh.hostKey)!);
    expect(error).toMatchObject({ code: "HOST_KEY_MISMATCH", fingerprint: presented });
    expect((error as Error).message).toContain(`set connection.hostKey to "${sandbox().ssh.hostKey}"`);
  });

  it("refuses a host with no hostKey configured, showing its fingerprint", async () => {
    const { hostKey: _ignored, ...withoutKey } = spec();
    const error: unknown = await RemoteHost.connect(withoutKey).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: "HostKeyError", code: "HOST_KEY_MISSING" });
    expect((error as Error).message).toContain(fingerprintOf(parseHostKey(sandbox().ssh.hostKey)!));
  });

  it("accepts the key's SHA256 fingerprint as the pin, and the explicit opt-out", async () => {
    const byFingerprint = await RemoteHost.connect(
      spec({ hostKey: fingerprintOf(parseHostKey(sandbox().ssh.hostKey)!) }),
    );
    await byFingerprint.close();
    const { hostKey: _ignored, ...withoutKey } = spec();
    const unchecked = await RemoteHost.connect({ ...withoutKey, insecureSkipHostKeyCheck: true });
    expect(await unchecked.run("echo ok")).toBe("ok\n");
    await unchecked.close();
  });

  it("never puts the private key in an error", async () => {
    const privateKey =
      "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key-c2VjcmV0\n-----END OPENSSH PRIVATE KEY-----\n";
    const error: unknown = await RemoteHost.connect(spec({ privateKey })).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "SSH_CONNECT_FAILED" });
    expect((error as Error).message).toContain(`failed to connect to ${remote.target}`);
    expect((error as Error).message).not.toContain("c2VjcmV0");
  });
});

describe("connection handling", () => {
  it("logs retried dials like @pulumi/command and names the target when giving up", async () => {
    const log: string[] = [];
    const unreachable = spec({ port: 1, dialErrorLimit: 2 });
    await expect(RemoteHost.connect(unreachable, (line) => log.push(line))).rejects.toThrow(
      "failed to connect to root@127.0.0.1:1: connect ECONNREFUSED",
    );
    expect(log).toEqual(["Dial 1/2 failed: retrying"]);
  });

  it("reaches the host through a jump host (here: itself)", async () => {
    const { proxy: _none, ...hop } = spec();
    const viaProxy = await RemoteHost.connect({ ...spec({ host: "localhost" }), proxy: hop });
    try {
      expect(viaProxy.target).toBe(`root@localhost:${hop.port} via root@127.0.0.1:${hop.port}`);
      expect(await viaProxy.run("echo through")).toBe("through\n");
    } finally {
      await viaProxy.close();
    }
  });

  it("dials again on the next use after the connection dropped", async () => {
    const host = await RemoteHost.connect(spec());
    try {
      // $PPID of the script is the sshd process serving this connection: killing it drops it.
      const lost: unknown = await host.exec("kill -9 $PPID; sleep 5").catch((caught: unknown) => caught);
      expect(lost).toMatchObject({ code: "SSH_CONNECTION_LOST" });
      expect(await host.run("echo back")).toBe("back\n");
      expect(host.stats.connections).toBe(2);
    } finally {
      await host.close();
    }
    await expect(host.run("true")).rejects.toThrow("was closed");
  });
});
