import { createHash } from "node:crypto";
import type { SettingNames, SshConnection, XapiDirect } from "../core/inputs.js";
import { DEFAULT_OPERATION_TIMEOUT_SECONDS, RESOURCE_SETTING_NAMES } from "../core/inputs.js";
import { RemoteHost } from "./ssh.js";
import type * as XapiAdapter from "./xapi.js";
import type { XapiSession } from "./xapi.js";

let xapiAdapter: Promise<typeof XapiAdapter> | undefined;

/**
 * The XAPI adapter (xapi.ts, with node:tls and node:http), loaded once the first SSH dial has
 * begun: nothing reaches XAPI before SSH is up, and its load runs while the host answers.
 */
function loadXapiAdapter(): Promise<typeof XapiAdapter> {
  xapiAdapter ??= import("./xapi.js");
  return xapiAdapter;
}

/**
 * One SSH connection and one XAPI session per host per process, shared by every resource.
 * Concurrent callers wait for the same connect; a failed connect is not cached (every dial
 * ends within its timeouts, so nobody waits on a dead one), the next caller dials afresh. A dropped SSH
 * connection is dialled again by RemoteHost on its next use, an expired XAPI session is logged
 * into again by XapiSession. Everything is closed by closeAll(), or when the process is about
 * to exit.
 *
 * Connections are keyed by host, port, user and proxy, and also by the host key pin: a
 * resource with another (maybe wrong) `hostKey` must get its own verification, not ride on a
 * connection someone else verified. Direct-HTTPS sessions are keyed by every setting that
 * decides trust or identity (url, user, password hash, fingerprint, CA, allowUnauthorized).
 *
 * @example
 * const { remote, xapi } = await hostSession(inputs.connection, inputs.xapi, console.log);
 */
export async function hostSession(
  spec: SshConnection,
  xapi?: XapiDirect,
  log?: (line: string) => void,
  names: SettingNames = RESOURCE_SETTING_NAMES,
): Promise<{ remote: RemoteHost; xapi: XapiSession }> {
  const sessions = openHostSessions(spec, xapi, log, names);
  const [remote, session] = await Promise.all([sessions.remote, sessions.xapi]);
  return { remote, xapi: session };
}

/**
 * Like hostSession, but each side as soon as it is usable: dom0 work can start on the SSH
 * connection while the XAPI login is still under way.
 */
export function openHostSessions(
  spec: SshConnection,
  xapi?: XapiDirect,
  log?: (line: string) => void,
  names: SettingNames = RESOURCE_SETTING_NAMES,
): { remote: Promise<RemoteHost>; xapi: Promise<XapiSession> } {
  const remote = dialHost(spec, log, names);
  const adapter = loadXapiAdapter();
  const session = (async () => {
    // Direct HTTPS needs no SSH; through SSH, the session waits for the connection.
    const endpoint =
      xapi === undefined ? { kind: "ssh" as const, host: await remote } : { kind: "https" as const, ...xapi };
    const callTimeoutMs = (spec.operationTimeout ?? DEFAULT_OPERATION_TIMEOUT_SECONDS) * 1000;
    return shared(
      sessions,
      `${callTimeoutMs} ${xapi === undefined ? `ssh ${connectionKey(spec)}` : `https ${httpsKey(xapi)}`}`,
      async () => (await adapter).XapiSession.open(endpoint, { callTimeoutMs, names }),
      (existing) => existing.isClosed,
    );
  })();
  adapter.catch(() => undefined); // a failure shows in the session
  // Whoever awaits only one side must not leave the other's failure unhandled.
  remote.catch(() => undefined);
  session.catch(() => undefined);
  return { remote, xapi: session };
}

/**
 * The host's shared SSH connection alone: a caller that dials first, before it loads the rest of
 * its work, hands the connection to openHostSessions, which finds it here pending or open.
 */
export function dialHost(
  spec: SshConnection,
  log?: (line: string) => void,
  names: SettingNames = RESOURCE_SETTING_NAMES,
  /** Called once this call's own dial has started its SSH handshake (not for a shared one). */
  onHandshake?: () => void,
): Promise<RemoteHost> {
  closeOnExit();
  return shared(
    remotes,
    connectionKey(spec),
    () => RemoteHost.connect(spec, log, names, onHandshake),
    (host) => host.isClosed,
  );
}

/** Closes every shared session and connection (XAPI logouts first, they ride on SSH). */
export async function closeAll(): Promise<void> {
  const closing = [...sessions.values()];
  sessions.clear();
  await Promise.all(closing.map(async (pending) => (await pending.catch(() => undefined))?.close()));
  const hosts = [...remotes.values()];
  remotes.clear();
  await Promise.all(hosts.map(async (pending) => (await pending.catch(() => undefined))?.close()));
}

const remotes = new Map<string, Promise<RemoteHost>>();
const sessions = new Map<string, Promise<XapiSession>>();

async function shared<T>(
  pool: Map<string, Promise<T>>,
  key: string,
  open: () => Promise<T>,
  isClosed: (value: T) => boolean,
): Promise<T> {
  const existing = pool.get(key);
  if (existing !== undefined) {
    const value = await existing;
    if (!isClosed(value)) return value;
    if (pool.get(key) === existing) pool.delete(key);
    return shared(pool, key, open, isClosed);
  }
  const opening = open();
  pool.set(key, opening);
  opening.catch(() => {
    if (pool.get(key) === opening) pool.delete(key);
  });
  return opening;
}

function connectionKey(spec: SshConnection): string {
  const self = [
    spec.user,
    spec.host,
    spec.port,
    spec.hostKey ?? "",
    spec.insecureSkipHostKeyCheck,
    spec.perDialTimeout,
    spec.operationTimeout ?? "",
  ];
  return JSON.stringify(spec.proxy === undefined ? self : [...self, connectionKey(spec.proxy)]);
}

function httpsKey(settings: XapiDirect & { readonly ca?: string }): string {
  const password = createHash("sha256").update(settings.password).digest("hex");
  return JSON.stringify([
    settings.url,
    settings.username,
    password,
    settings.tlsFingerprint ?? "",
    settings.ca ?? "",
    settings.allowUnauthorized,
  ]);
}

let exitHookInstalled = false;

/** Idle connections do not keep the process alive, so `beforeExit` comes: close them cleanly. */
function closeOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("beforeExit", () => void closeAll());
}
