import { readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";

import type { ChildProcessHandle } from "./child";
import { startChild } from "./child";
import type { Namespace } from "./namespace";
import { nsenterArgs, run } from "./run";
import type { Teardown } from "./teardown";

const SSHD = "/usr/sbin/sshd";
const READY_TIMEOUT_MS = 10_000;

/** dom0's PATH: the xe CLI lives in /opt/xensource/bin. */
export const DOM0_PATH = "/opt/xensource/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface SshdConfig {
  port: number;
  hostKeyPath: string;
  authorizedKeysPath: string;
  passwordLogin: boolean;
  /** A program sshd runs instead of every session's command (the exec-fault wrapper). */
  forceCommand?: string;
}

/** Pure: the sshd_config of the sandbox (kept in the sandbox's temp dir, never in /etc/ssh). */
export function renderSshdConfig(config: SshdConfig): string {
  return [
    `Port ${config.port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${config.hostKeyPath}`,
    "PidFile none",
    `PermitRootLogin ${config.passwordLogin ? "yes" : "prohibit-password"}`,
    "PubkeyAuthentication yes",
    `AuthorizedKeysFile ${config.authorizedKeysPath}`,
    `PasswordAuthentication ${config.passwordLogin ? "yes" : "no"}`,
    "KbdInteractiveAuthentication no",
    // The key files live in a temp dir that sshd's ownership checks would reject.
    "StrictModes no",
    "UsePAM no",
    "AllowStreamLocalForwarding yes",
    "AllowTcpForwarding yes",
    `SetEnv PATH=${DOM0_PATH}`,
    ...(config.forceCommand === undefined ? [] : [`ForceCommand ${config.forceCommand}`]),
    // VERBOSE logs each session start: the sandbox counts connections and sessions from it.
    "LogLevel VERBOSE",
    "",
  ].join("\n");
}

export interface SshKeys {
  hostKeyPath: string;
  /** The host key as an OpenSSH public-key line, "ssh-ed25519 AAAA..." (no comment). */
  hostPublicKey: string;
  clientPrivateKeyPath: string;
  clientPublicKeyPath: string;
}

async function generateKey(path: string, comment: string): Promise<string> {
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path]);
  const [type, key] = (await readFile(`${path}.pub`, "utf8")).trim().split(" ");
  return `${type} ${key}`;
}

/** Generates the host key and root's client key pair in `dir`. */
export async function generateSshKeys(dir: string): Promise<SshKeys> {
  const hostKeyPath = join(dir, "ssh_host_ed25519_key");
  const clientPrivateKeyPath = join(dir, "id_ed25519");
  const [hostPublicKey] = await Promise.all([
    generateKey(hostKeyPath, "xen-sandbox host"),
    generateKey(clientPrivateKeyPath, "root@xen-sandbox"),
  ]);
  return {
    hostKeyPath,
    hostPublicKey,
    clientPrivateKeyPath,
    clientPublicKeyPath: `${clientPrivateKeyPath}.pub`,
  };
}

/** A free TCP port on 127.0.0.1 (the OS picks it; sshd binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The running sshd, and what it has served so far (from its log). */
export interface Sshd {
  readonly process: ChildProcessHandle;
  /** Authenticated SSH connections accepted so far. */
  connections(): number;
  /** Sessions (exec, shell or subsystem channels) started so far; forwarding channels are not sessions. */
  sessions(): number;
}

/** How often a port taken between freePort() and sshd's bind is picked again. */
const PORT_ATTEMPTS = 5;

/**
 * sshd on a port the OS says is free. Another process (a client's ephemeral port, another
 * sandbox) can take it before sshd binds: then sshd exits and another port is tried.
 */
export async function startSshdOnFreePort(
  namespace: Namespace,
  configPath: string,
  config: Omit<SshdConfig, "port">,
  teardown: Teardown,
): Promise<{ sshd: Sshd; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { sshd: await startSshd(namespace, configPath, { ...config, port }, teardown), port };
    } catch (error) {
      const taken = error instanceof Error && /Address already in use/.test(error.message);
      if (!taken || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

/** Pure: what one sshd log line counts as. */
export function classifySshdLogLine(line: string): "connection" | "session" | undefined {
  if (/\bAccepted \S+ for \S+ from /.test(line)) return "connection";
  if (/\bStarting session: /.test(line)) return "session";
  return undefined;
}

/** Starts a real OpenSSH sshd inside the namespace (foreground, a child of Node). */
export async function startSshd(
  namespace: Namespace,
  configPath: string,
  config: SshdConfig,
  teardown: Teardown,
): Promise<Sshd> {
  await writeFile(configPath, renderSshdConfig(config));
  const sshd = startChild(
    "sshd",
    "nsenter",
    nsenterArgs(namespace.holderPid, SSHD, ["-D", "-e", "-f", configPath]),
  );
  teardown.defer("stop sshd", () => sshd.stop());
  const counts = { connection: 0, session: 0 };
  sshd.onLine((line) => {
    const kind = classifySshdLogLine(line);
    if (kind !== undefined) counts[kind]++;
  });
  await sshd.waitForOutput(/Server listening on 127\.0\.0\.1 port \d+/, READY_TIMEOUT_MS);
  return { process: sshd, connections: () => counts.connection, sessions: () => counts.session };
}
