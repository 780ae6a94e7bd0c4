import { connect as tcpConnect } from "node:net";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type * as Ssh2 from "ssh2";
import type { Client, ConnectConfig, ServerHostKeyAlgorithm } from "ssh2";
import type { SettingNames, SshConnection, SshHop } from "../core/inputs.js";
import { RESOURCE_SETTING_NAMES } from "../core/inputs.js";
import { describeTarget } from "./ssh-target.js";
import type { HostKeyPin, HostPublicKey } from "./host-key.js";
import { hostKeyAlgorithmsFor, matchesPin, parseHostKeyPin, presentedKey } from "./host-key.js";
import { retry } from "./retry.js";
import { messageOf, toError } from "../core/error-base.js";
import { HostKeyError, SshConfigError, SshConnectionError } from "./errors.js";
import type { RemoteStage } from "./errors.js";

/**
 * ssh2, loaded on the first dial once its TCP connection is on the way: the host's sshd takes
 * about 100 ms to answer a new connection, time in which this process loads ssh2 instead of
 * before it dials. A require, not an import(): import() waits for the module loader's file
 * reads, and every call the host received meanwhile (a refresh of 16 disks sends 16) runs first.
 */
function loadSsh2(): Promise<typeof Ssh2> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded at run time, see above
    return Promise.resolve(require("ssh2") as typeof Ssh2);
  } catch (error) {
    return Promise.reject(toError(error));
  }
}

/** One authenticated SSH connection, possibly through a jump host. */
export interface SshLink {
  readonly client: Client;
  /** The TCP socket the whole chain rides on (the jump host's, with a proxy). */
  readonly socket: Socket;
  /** Closes the connection and the jump host connection under it. */
  end(): void;
}

/**
 * Dials `spec` (through its proxy, if any), verifying the host key, retrying failed dials like
 * @pulumi/command ("Dial 3/10 failed: retrying"). Wrong host keys and refused credentials are
 * not retried: another attempt cannot help.
 */
export async function dialSsh(
  spec: SshConnection,
  log?: (line: string) => void,
  names: SettingNames = RESOURCE_SETTING_NAMES,
  /** Called once the first hop's SSH client has started (its first bytes are on their way). */
  onHandshake?: () => void,
): Promise<SshLink> {
  const target = describeTarget(spec);
  try {
    if (spec.proxy === undefined) {
      return await retry(
        () => dialHop(spec, target, undefined, names, "target", onHandshake),
        dialRetry("Dial", spec, log),
      );
    }
    const proxySpec = spec.proxy;
    const proxy = await retry(
      () => dialHop(proxySpec, describeTarget(proxySpec), undefined, names, "proxy", onHandshake),
      dialRetry("Dial proxy", proxySpec, log),
    );
    try {
      return await retry(
        () => dialHop(spec, target, proxy, names, "target"),
        dialRetry("Dial from proxy", spec, log),
      );
    } catch (error) {
      proxy.end();
      throw error;
    }
  } catch (error) {
    if (error instanceof HostKeyError) throw error;
    const stage = error instanceof SshConnectionError ? error.stage : undefined;
    throw new SshConnectionError(
      "SSH_CONNECT_FAILED",
      `failed to connect to ${target}: ${messageOf(error)}`,
      {
        cause: error,
        ...(stage === undefined ? {} : { stage }),
      },
    );
  }
}

function dialRetry(what: string, spec: SshHop, log: ((line: string) => void) | undefined) {
  return { what, attempts: spec.dialErrorLimit, isFinal, ...(log === undefined ? {} : { log }) };
}

/** Errors that another dial cannot fix. */
function isFinal(error: unknown): boolean {
  if (error instanceof HostKeyError || error instanceof SshConfigError) return true;
  const level = (error as { level?: unknown }).level;
  return level === "client-authentication";
}

/**
 * One dial attempt, bounded by `perDialTimeout` from the first byte to authentication, whatever
 * the peer does: ssh2's own readyTimeout is cleared when the socket closes, and a connection
 * cut during key exchange ends in "close" without "error", so both are watched here.
 */
function dialHop(
  spec: SshHop,
  target: string,
  via: SshLink | undefined,
  names: SettingNames,
  hop: "target" | "proxy",
  onHandshake?: () => void,
): Promise<SshLink> {
  const pin = hostKeyPin(spec, hop === "proxy" ? names.proxyHostKey : names.hostKey);
  const timeoutMs = spec.perDialTimeout * 1000;
  return new Promise<SshLink>((resolve, reject) => {
    let dialling: Client | undefined;
    let stage: RemoteStage = "TCP connect";
    let transport: Duplex | undefined;
    let rejectedKey: HostPublicKey | undefined;
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      dialling?.destroy();
      transport?.destroy();
      const cause = toError(error);
      reject(rejectedKey === undefined ? cause : hostKeyError(spec, target, rejectedKey, names, hop));
    };
    const deadline = setTimeout(
      () =>
        fail(
          new SshConnectionError(
            "SSH_TIMEOUT",
            `no answer from ${target} during the ${stage} within ${timeoutMs} ms`,
            {
              stage,
            },
          ),
        ),
      timeoutMs,
    );

    // The TCP connection is opened first (synchronously, in openTransport), ssh2 loads meanwhile.
    const opening = openTransport(spec, via);
    opening.then((opened) => {
      transport = opened;
      // Until ssh2 takes the connection over, an error on it must not go unheard (it would
      // crash the process); afterwards this listener finds the dial settled and does nothing.
      opened.on("error", fail);
    }, fail);
    Promise.all([opening, loadSsh2()]).then(([opened, ssh2]) => {
      if (settled) {
        opened.destroy();
        return;
      }
      stage = "SSH handshake";
      const client = new ssh2.Client();
      dialling = client;
      const socket = via?.socket ?? (opened as Socket);
      client.once("handshake", () => {
        stage = "SSH authentication";
      });
      client.once("ready", () => {
        settled = true;
        clearTimeout(deadline);
        client.removeListener("error", fail);
        client.removeListener("close", closedEarly);
        // Later errors (a reset connection) also end in "close", which RemoteHost watches; an
        // unhandled "error" event would crash the whole provider process.
        client.on("error", () => undefined);
        resolve({
          client,
          socket,
          end: () => {
            client.end();
            via?.end();
          },
        });
      });
      const closedEarly = () =>
        fail(
          new SshConnectionError(
            "SSH_CONNECTION_LOST",
            `${target} closed the connection during the ${stage}`,
            {
              stage,
            },
          ),
        );
      client.on("error", fail);
      client.once("close", closedEarly);
      client.on("keyboard-interactive", (_name, _instructions, _lang, prompts, finish) => {
        finish(prompts.map(() => spec.password ?? ""));
      });
      try {
        client.connect({
          ...authConfig(spec),
          sock: opened,
          username: spec.user,
          readyTimeout: timeoutMs,
          algorithms: { serverHostKey: hostKeyAlgorithmsFor(pin) as ServerHostKeyAlgorithm[] },
          hostVerifier: (blob: Buffer) => {
            const seen = presentedKey(blob);
            if (spec.insecureSkipHostKeyCheck) return true;
            if (pin !== undefined && matchesPin(pin, seen)) return true;
            rejectedKey = seen;
            return false;
          },
        });
        onHandshake?.();
      } catch (error) {
        // ssh2 throws synchronously for unusable keys; its messages never contain the key.
        fail(new SshConfigError(messageOf(error)));
      }
    }, fail);
  });
}

function hostKeyError(
  spec: SshHop,
  target: string,
  seen: HostPublicKey,
  names: SettingNames,
  hop: "target" | "proxy",
): HostKeyError {
  return new HostKeyError(
    spec.hostKey === undefined ? "HOST_KEY_MISSING" : "HOST_KEY_MISMATCH",
    target,
    seen,
    names,
    hop,
  );
}

function hostKeyPin(spec: SshHop, setting: string): HostKeyPin | undefined {
  if (spec.hostKey === undefined) return undefined;
  const pin = parseHostKeyPin(spec.hostKey);
  if (pin === undefined) {
    throw new SshConfigError(
      `${setting} for ${describeTarget(spec)} is not an SSH public key line; ` +
        `expected e.g. "ssh-ed25519 AAAAC3Nza..." as printed by \`ssh-keyscan\` or found in /etc/ssh/ssh_host_*_key.pub, ` +
        `or its "SHA256:..." fingerprint`,
    );
  }
  return pin;
}

/** A connected TCP socket to the host, or a direct-tcpip channel through the jump host. */
function openTransport(spec: SshHop, via: SshLink | undefined): Promise<Duplex> {
  if (via === undefined) {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect({ host: spec.host, port: spec.port });
      socket.setKeepAlive(true, 15_000);
      socket.setNoDelay(true);
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.removeListener("error", reject);
        resolve(socket);
      });
    });
  }
  return new Promise((resolve, reject) => {
    via.client.forwardOut("127.0.0.1", 0, spec.host, spec.port, (error, channel) => {
      if (error)
        reject(
          new Error(`the jump host could not reach ${spec.host}:${spec.port}: ${error.message}`, {
            cause: error,
          }),
        );
      else resolve(channel);
    });
  });
}

function authConfig(spec: SshHop): ConnectConfig {
  const config: ConnectConfig = {};
  if (spec.privateKey !== undefined) config.privateKey = spec.privateKey;
  if (spec.privateKeyPassword !== undefined) config.passphrase = spec.privateKeyPassword;
  if (spec.password !== undefined) {
    config.password = spec.password;
    config.tryKeyboard = true;
  }
  const agent = spec.agentSocketPath ?? process.env["SSH_AUTH_SOCK"];
  if (agent !== undefined && agent !== "") config.agent = agent;
  return config;
}
