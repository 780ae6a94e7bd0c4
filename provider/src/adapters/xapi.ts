import type { Xapi } from "xen-api";
import type * as XenApi from "xen-api";
import type { SettingNames, XapiDirect } from "../core/inputs.js";
import { DEFAULT_OPERATION_TIMEOUT_SECONDS, RESOURCE_SETTING_NAMES } from "../core/inputs.js";
import type { RemoteHost } from "./ssh.js";
import { sleep } from "./retry.js";
import type { TlsTrust } from "./tls-pin.js";
import { connectTrusted, pinnedFingerprint } from "./tls-pin.js";
import type { LocalTunnel } from "./tunnel.js";
import { openLocalTunnel } from "./tunnel.js";
import { messageOf } from "../core/error-base.js";
import { HostKeyError, SettingError, TlsFingerprintError, XapiError, XapiTransportError } from "./errors.js";
import { retryRuleFor } from "./xapi-retry.js";
import type { XapiRetryRule } from "./xapi-retry.js";
import { jsonRpcCall } from "./xapi-rpc.js";

let xapiClientModule: Promise<typeof XenApi> | undefined;

/**
 * The ESM-only xen-api client, loaded once per process, when a session first needs it for a
 * change (XapiSession.prepareClient starts it early).
 */
export function loadXapiClient(): Promise<typeof XenApi> {
  xapiClientModule ??= import("xen-api");
  return xapiClientModule;
}

/**
 * Reads (`<class>.get_*`) need nothing of the xen-api client: XapiSession posts them itself, so a
 * look never waits for the client's load (about 350 modules, a quarter of a second of CPU).
 */
function isRead(method: string): boolean {
  return /^[A-Za-z_]+\.get_/.test(method);
}

/** dom0's local XAPI socket, where `xe` logs in without a password. */
export const DEFAULT_XAPI_SOCKET = "/var/lib/xcp/xapi";
/** A login is bounded by this or the call timeout, whichever is shorter. */
export const XAPI_LOGIN_TIMEOUT_MS = 60_000;
/** How our sessions show up in XAPI's logs and `session.originator`. */
export const XAPI_ORIGINATOR = "xen-passthrough";

/** Where XAPI is: dom0's socket through the SSH connection, or direct HTTPS (a CA may be added for tests and private PKIs). */
export type XapiEndpoint =
  | { readonly kind: "ssh"; readonly host: RemoteHost; readonly socketPath?: string }
  | ({ readonly kind: "https"; readonly ca?: string } & XapiDirect);

export interface XapiSessionOptions {
  /** Bound of each call (xen-api's own default is one hour). Default: `operationTimeout` of the SSH settings, or its default. */
  readonly callTimeoutMs?: number;
  /** How the caller names its settings, for hints. */
  readonly names?: SettingNames;
}

/**
 * A logged-in XAPI session reached through a local tunnel: reads posted directly, every other
 * call through the xen-api client (no event watching), made on the first such call:
 * into dom0's Unix socket over SSH (local superuser, no password), or into our own verified TLS
 * connection (so fingerprint pinning and a custom CA work). We log in ourselves rather than let
 * xen-api do it, because on HOST_IS_SLAVE xen-api silently re-targets the master's address with
 * our tunnel's port, which cannot work.
 *
 * @example
 * const xapi = await XapiSession.open({ kind: "ssh", host: remote });
 * const vm = await xapi.call<string>("VM.get_by_uuid", uuid);
 */
export class XapiSession {
  readonly stats = { logins: 0, calls: 0 };
  /** The xen-api client of the current login, made on the first call that is not a read. */
  private client: { readonly sessionId: string; readonly made: Promise<Xapi> } | undefined;
  /** Settles with the client's connect(): undefined on success (or no client yet), else why it failed. */
  private connecting: Promise<Error | undefined> = Promise.resolve(undefined);
  /** The current client's connect() failed: xen-api dropped the session, so the pool must not hand it out. */
  private connectFailed = false;
  private sessionId: string | undefined;
  private loggingIn: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private readonly tunnel: LocalTunnel,
    private readonly credentials: { user: string; password: string },
    /** "XAPI of root@10.0.0.5:22 (/var/lib/xcp/xapi)": for messages. */
    readonly target: string,
    private readonly poolMemberHint: (master: string) => string,
    private readonly names: SettingNames,
    /** Bound of each call. */
    readonly callTimeoutMs: number,
  ) {}

  static async open(endpoint: XapiEndpoint, options: XapiSessionOptions = {}): Promise<XapiSession> {
    const names = options.names ?? RESOURCE_SETTING_NAMES;
    const callTimeoutMs =
      options.callTimeoutMs ??
      (endpoint.kind === "ssh" ? endpoint.host.operationTimeoutMs : DEFAULT_OPERATION_TIMEOUT_SECONDS * 1000);
    const tunnel = await openTunnel(endpoint, names, callTimeoutMs);
    const session =
      endpoint.kind === "ssh"
        ? new XapiSession(
            tunnel,
            { user: "", password: "" },
            `XAPI of ${endpoint.host.target} (${endpoint.socketPath ?? DEFAULT_XAPI_SOCKET})`,
            // A member's local socket logs in as local superuser (xapi_session.ml): only a socket
            // path that leads to a TCP listener gets HOST_IS_SLAVE here.
            (master) =>
              `the XAPI socket of ${endpoint.host.spec.host} answered as a remote login on a pool member ` +
              `(master ${master}); dom0's own socket (/var/lib/xcp/xapi) accepts logins on every member. ` +
              `Check the socket path, or set ${names.xapiUrl} to "https://${master}" (with ${names.xapiPassword})`,
            names,
            callTimeoutMs,
          )
        : new XapiSession(
            tunnel,
            { user: endpoint.username, password: endpoint.password },
            `XAPI at ${endpoint.url}`,
            (master) =>
              `${endpoint.url} is a pool member; XAPI accepts logins only on the pool master. Set ${names.xapiUrl} to "https://${master}"`,
            names,
            callTimeoutMs,
          );
    try {
      await session.login();
      return session;
    } catch (error) {
      await tunnel.close();
      throw error;
    }
  }

  /**
   * Calls an XAPI method (session argument added); failures arrive as XapiError. Reads are posted
   * over the session directly, everything else goes through the xen-api client.
   */
  async call<T>(method: string, ...args: unknown[]): Promise<T> {
    this.stats.calls++;
    const firstStarted = Date.now();
    // Counted by code: a call that waited out HOST_STILL_BOOTING still gets its login again when
    // the session died meanwhile (a master's restart ends every session).
    const tries = new Map<string, number>();
    for (;;) {
      const sessionId = await this.currentSession();
      const started = Date.now();
      const posted = isRead(method);
      try {
        if (posted)
          return (await jsonRpcCall(this.tunnel.url, method, [sessionId, ...args], this.callTimeoutMs)) as T;
        return await (await this.clientOf(sessionId)).call<T>(method, ...args);
      } catch (raw) {
        const error = this.mapError(method, raw, started);
        // xen-api drops a session whose connect() failed: say why rather than what followed.
        const connectFailure = !posted && !(error instanceof XapiError) ? await this.connecting : undefined;
        if (connectFailure !== undefined) throw connectFailure;
        const rule = error instanceof XapiError ? retryRuleFor(error.code) : undefined;
        if (rule === undefined) throw error;
        const attempt = (tries.get(rule.code) ?? 0) + 1;
        tries.set(rule.code, attempt);
        if (!this.mayRepeat(rule, attempt, firstStarted))
          throw this.gaveUp(error as XapiError, attempt, firstStarted);
        if (rule.recovery === "login-again") await this.loginAgain(sessionId);
        await sleep(rule.delayMs);
      }
    }
  }

  /**
   * Starts loading and connecting the xen-api client in the background, for an operation that
   * will change something: its first change then finds the client ready.
   */
  prepareClient(): void {
    const sessionId = this.sessionId;
    if (sessionId !== undefined) this.clientOf(sessionId).catch(() => undefined);
  }

  /** True after close(), or once the client could not connect: the pool then opens another session. */
  get isClosed(): boolean {
    return this.closed || this.connectFailed;
  }

  async close(): Promise<void> {
    this.closed = true;
    const sessionId = this.sessionId;
    this.sessionId = undefined;
    this.client = undefined;
    if (sessionId !== undefined) {
      await jsonRpcCall(
        this.tunnel.url,
        "session.logout",
        [sessionId],
        Math.min(5_000, this.callTimeoutMs),
      ).catch(() => undefined);
    }
    await this.tunnel.close();
  }

  private async currentSession(): Promise<string> {
    if (this.loggingIn !== undefined) await this.loggingIn;
    if (this.closed || this.sessionId === undefined)
      throw new Error(`the session with ${this.target} is closed`);
    return this.sessionId;
  }

  /** The xen-api client of `sessionId`, loaded and made on first use (one per login). */
  private clientOf(sessionId: string): Promise<Xapi> {
    if (this.client?.sessionId !== sessionId) {
      const made = loadXapiClient().then(({ Xapi }) => {
        const client = new Xapi({
          url: this.tunnel.url,
          auth: { sessionId },
          watchEvents: false,
          callTimeout: this.callTimeoutMs,
        });
        // connect() takes our session at once, then reads the pool record and the method list,
        // which we never use: calls go out without waiting for those two round trips.
        this.connecting = client.connect().then(
          () => undefined,
          (raw: unknown) => {
            if (this.client?.sessionId === sessionId) this.connectFailed = true;
            return this.mapError("connect", raw, 0);
          },
        );
        return client;
      });
      this.client = { sessionId, made };
    }
    return this.client.made;
  }

  /** Logs in again once for all the calls that found the session invalid together. */
  private async loginAgain(failed: string): Promise<void> {
    if (this.sessionId !== failed) return;
    this.loggingIn ??= this.login().finally(() => {
      this.loggingIn = undefined;
    });
    await this.loggingIn;
  }

  private async login(): Promise<void> {
    const { user, password } = this.credentials;
    const params = [user, password, "2.0", XAPI_ORIGINATOR];
    const method = "session.login_with_password";
    let sessionId: string | undefined;
    const firstStarted = Date.now();
    for (let attempt = 1; sessionId === undefined; attempt++) {
      const started = Date.now();
      try {
        const timeoutMs = Math.min(XAPI_LOGIN_TIMEOUT_MS, this.callTimeoutMs);
        sessionId = String(await jsonRpcCall(this.tunnel.url, method, params, timeoutMs));
      } catch (raw) {
        const error = this.mapError(method, raw, started);
        const rule = error instanceof XapiError ? retryRuleFor(error.code) : undefined;
        if (rule === undefined || rule.recovery !== undefined) throw error;
        if (!this.mayRepeat(rule, attempt, firstStarted))
          throw this.gaveUp(error as XapiError, attempt, firstStarted);
        await sleep(rule.delayMs);
      }
    }
    this.stats.logins++;
    this.connectFailed = false;
    this.connecting = Promise.resolve(undefined);
    this.client = undefined;
    this.sessionId = sessionId;
  }

  /** XAPI failures become XapiError; transport failures say what could not be reached and why. */
  private mapError(method: string, raw: unknown, started: number): Error {
    if (raw instanceof XapiError) return this.withHint(raw);
    const shape = raw as { code?: unknown; params?: unknown };
    if (
      typeof shape.code === "string" &&
      Array.isArray(shape.params) &&
      /^[A-Z][A-Z0-9_]*$/.test(shape.code)
    ) {
      return this.withHint(new XapiError(method, shape.code, shape.params.map(String)));
    }
    const open = this.tunnel.lastOpenError;
    const cause = open !== undefined && open.at >= started ? open.error : raw;
    if (
      cause instanceof TlsFingerprintError ||
      cause instanceof HostKeyError ||
      cause instanceof SettingError
    )
      return cause;
    return new XapiTransportError(this.target, method, messageOf(cause), { cause });
  }

  /** Another attempt is in the rule's count and starts within the call's time bound (operationTimeout). */
  private mayRepeat(rule: XapiRetryRule, attempt: number, firstStarted: number): boolean {
    return attempt < rule.attempts && Date.now() + rule.delayMs - firstStarted < this.callTimeoutMs;
  }

  /** The last answer of a call repeated in vain; a host that never finished starting says what to do. */
  private gaveUp(error: XapiError, attempts: number, firstStarted: number): XapiError {
    if (error.code !== "HOST_STILL_BOOTING") return error;
    const waited = Math.round((Date.now() - firstStarted) / 1000);
    return new XapiError(
      error.method,
      error.code,
      error.params,
      `${this.target} answered it ${attempts} time(s) over ${waited} s: its XAPI is still starting, or the ` +
        `host is a pool member in emergency mode because it cannot reach its pool master. Check that the ` +
        `pool master is up and reachable from this host (a member leaves emergency mode a few minutes ` +
        `after its master is back), then run the operation again; a longer operationTimeout waits longer`,
    );
  }

  private withHint(error: XapiError): XapiError {
    if (error.code === "HOST_IS_SLAVE") {
      return new XapiError(
        error.method,
        error.code,
        error.params,
        this.poolMemberHint(error.params[0] ?? "(unknown)"),
      );
    }
    if (error.code === "SESSION_AUTHENTICATION_FAILED") {
      return new XapiError(
        error.method,
        error.code,
        error.params,
        `Check ${this.names.xapiUsername} and ${this.names.xapiPassword} for ${this.target}`,
      );
    }
    return error;
  }
}

async function openTunnel(
  endpoint: XapiEndpoint,
  names: SettingNames,
  timeoutMs: number,
): Promise<LocalTunnel> {
  if (endpoint.kind === "ssh") {
    const { host } = endpoint;
    const socketPath = endpoint.socketPath ?? DEFAULT_XAPI_SOCKET;
    return openLocalTunnel(() => host.openUnixStream(socketPath));
  }
  const url = parseHttpsUrl(endpoint.url, names.xapiUrl);
  const trust: TlsTrust = {
    ...(endpoint.tlsFingerprint === undefined ? {} : { tlsFingerprint: endpoint.tlsFingerprint }),
    ...(endpoint.ca === undefined ? {} : { ca: endpoint.ca }),
    allowUnauthorized: endpoint.allowUnauthorized,
  };
  pinnedFingerprint(trust, names); // a setting that cannot work fails before anything is sent
  return openLocalTunnel(() => connectTrusted(url.host, url.port, trust, { timeoutMs, names }));
}

function parseHttpsUrl(text: string, setting: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SettingError(
      setting,
      `${setting} "${text}" is not a URL; expected "https://<pool master>[:port]"`,
    );
  }
  if (url.protocol !== "https:") {
    throw new SettingError(
      setting,
      `${setting} "${text}" must use https: the XAPI password would travel in clear text`,
    );
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port: url.port === "" ? 443 : Number(url.port) };
}
