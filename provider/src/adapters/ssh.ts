import type { Duplex } from "node:stream";
import type { ClientChannel } from "ssh2";
import { ConcurrencyLimit } from "./concurrency-limit.js";
import type { SettingNames, SshConnection } from "../core/inputs.js";
import { DEFAULT_OPERATION_TIMEOUT_SECONDS, RESOURCE_SETTING_NAMES } from "../core/inputs.js";
import { describeTarget } from "./ssh-target.js";
import { firstLine } from "./remote-script.js";
import {
  ABSENT_EXIT_CODE,
  BOOTSTRAP_COMMAND,
  framedStdin,
  readFileScript,
  TIMED_OUT_EXIT_CODE,
  writeFileAtomicScript,
} from "./remote-script.js";
import type { SshLink } from "./ssh-dial.js";
import { dialSsh } from "./ssh-dial.js";
import { messageOf } from "../core/error-base.js";
import { RemoteCommandError, SshConnectionError } from "./errors.js";
import type { RemoteStage } from "./errors.js";

/** OpenSSH allows 10 sessions per connection (MaxSessions); stay under it and queue the rest. */
export const MAX_CONCURRENT_EXECS = 8;
const CHANNEL_OPEN_RETRIES = 5;
/** The host stops a timed-out script itself; we give up waiting for it this much later (at most). */
const TIMEOUT_GRACE_MS = 5_000;
/** How long close() waits for the server to acknowledge before dropping the socket. */
const CLOSE_TIMEOUT_MS = 2_000;

export interface ExecOptions {
  /** Given to the script as its stdin. */
  stdin?: string;
  /**
   * The script is stopped on the host (TERM, then KILL) and the call rejected after this long.
   * Without it, the call is rejected (the script left to the host) after `operationTimeout`.
   */
  timeoutMs?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved in arrival order. */
  output: string;
  code: number;
}

/**
 * One SSH connection to a host, its host key verified. Scripts run with `bash`, sent on stdin
 * (never in a command line). A connection that dropped is dialled again on the next use; a
 * script that was running when it dropped fails (it may or may not have run) and is not retried.
 * Every wait is bounded: the dial and each channel open by `perDialTimeout`, each script by its
 * own timeout or `operationTimeout`.
 *
 * @example
 * const remote = await RemoteHost.connect(withSshDefaults({ host, privateKey, hostKey }));
 * const kernel = await remote.run("uname -r");
 */
export class RemoteHost {
  readonly stats = { connections: 0, execs: 0, streams: 0 };
  readonly target: string;
  private link: SshLink | undefined;
  private dialing: Promise<SshLink> | undefined;
  private closed = false;
  private busy = 0;
  private readonly execSlots = new ConcurrencyLimit(MAX_CONCURRENT_EXECS);

  private constructor(
    readonly spec: SshConnection,
    private readonly log: ((line: string) => void) | undefined,
    private readonly names: SettingNames,
  ) {
    this.target = describeTarget(spec);
  }

  /** `onHandshake`: called once the SSH client has started, before it is connected (ssh-dial.ts). */
  static async connect(
    spec: SshConnection,
    log?: (line: string) => void,
    names: SettingNames = RESOURCE_SETTING_NAMES,
    onHandshake?: () => void,
  ): Promise<RemoteHost> {
    const host = new RemoteHost(spec, log, names);
    await host.whileBusy(() => host.currentLink(onHandshake));
    return host;
  }

  /** True while the SSH connection is up (a dropped one is re-dialled on the next use). */
  get connected(): boolean {
    return this.link !== undefined;
  }

  /** True after close(): the host can no longer be used. */
  get isClosed(): boolean {
    return this.closed;
  }

  exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.whileBusy(() =>
      this.execSlots.run(async () => {
        const channel = await this.openChannel<ClientChannel>(`run \`${firstLine(script)}\``, (link, done) =>
          link.client.exec(BOOTSTRAP_COMMAND, done),
        );
        this.stats.execs++;
        const waitMs =
          options.timeoutMs === undefined
            ? this.operationTimeoutMs
            : options.timeoutMs + Math.min(TIMEOUT_GRACE_MS, options.timeoutMs);
        return collect(channel, script, options, waitMs, () => this.describeRun(script));
      }),
    );
  }

  /** Like exec, but a non-zero exit is a RemoteCommandError; returns stdout. */
  async run(script: string, options: ExecOptions = {}): Promise<string> {
    const result = await this.exec(script, options);
    if (result.code !== 0)
      throw new RemoteCommandError(this.target, firstLine(script), result.code, result.output);
    return result.stdout;
  }

  /** The file's content, or undefined when it does not exist. */
  async readFile(path: string): Promise<string | undefined> {
    const result = await this.exec(readFileScript(path));
    if (result.code === ABSENT_EXIT_CODE) return undefined;
    if (result.code !== 0)
      throw new RemoteCommandError(this.target, `read ${path}`, result.code, result.output);
    return result.stdout;
  }

  /** Writes a temp file in the same directory and renames it over `path`. */
  async writeFileAtomic(path: string, content: string, mode = 0o644): Promise<void> {
    const result = await this.exec(writeFileAtomicScript(path, mode), { stdin: content });
    if (result.code !== 0)
      throw new RemoteCommandError(this.target, `write ${path}`, result.code, result.output);
  }

  /** A byte stream to a Unix socket on the host (OpenSSH stream-local forwarding). */
  openUnixStream(socketPath: string): Promise<Duplex> {
    return this.whileBusy(async () => {
      const channel = await this.openChannel<Duplex>(`reach ${socketPath}`, (link, done) =>
        link.client.openssh_forwardOutStreamLocal(socketPath, done),
      );
      this.stats.streams++;
      return channel;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const link = this.link ?? (await this.dialing?.catch(() => undefined));
    this.link = undefined;
    if (link === undefined) return;
    // Held (ref) until closed: an idle connection is unref'd, and the process must not exit mid-close.
    link.socket.ref();
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      link.client.once("close", () => resolve());
      timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      link.end();
    });
    clearTimeout(timer);
    link.socket.destroy();
  }

  /** How long one remote operation may take: `operationTimeout`, or its default. */
  get operationTimeoutMs(): number {
    return (this.spec.operationTimeout ?? DEFAULT_OPERATION_TIMEOUT_SECONDS) * 1000;
  }

  private describeRun(script: string): string {
    return `\`${firstLine(script)}\` on ${this.target}`;
  }

  private currentLink(onHandshake?: () => void): Promise<SshLink> {
    if (this.closed)
      return Promise.reject(
        new SshConnectionError("SSH_CONNECTION_LOST", `the connection to ${this.target} was closed`),
      );
    if (this.link !== undefined) return Promise.resolve(this.link);
    this.dialing ??= dialSsh(this.spec, this.log, this.names, onHandshake)
      .then((link) => {
        this.stats.connections++;
        this.link = link;
        link.client.once("close", () => {
          if (this.link === link) this.link = undefined;
          link.end(); // also ends the jump host connection under it, if any
        });
        if (this.busy === 0) link.socket.unref();
        if (this.closed) link.end();
        return link;
      })
      .finally(() => {
        this.dialing = undefined;
      });
    return this.dialing;
  }

  /**
   * Opens a channel; when the connection turns out to be dead (closed, or no answer within
   * `perDialTimeout`), dials again once and retries (safe: nothing ran on the host yet).
   */
  private async openChannel<C extends Duplex>(
    action: string,
    open: (link: SshLink, done: (error: Error | undefined, channel: C) => void) => void,
  ): Promise<C> {
    const timeoutMs = this.spec.perDialTimeout * 1000;
    for (let attempt = 1; ; attempt++) {
      const link = await this.currentLink();
      let unanswered = false;
      try {
        return await new Promise<C>((resolve, reject) => {
          const timer = setTimeout(() => {
            unanswered = true;
            reject(new Error(`no answer to the channel open within ${timeoutMs} ms`));
          }, timeoutMs);
          // A connection that drops before the server answers never calls `done`.
          const dropped = () => reject(new Error("the connection closed before the channel opened"));
          link.client.once("close", dropped);
          open(link, (error, channel) => {
            clearTimeout(timer);
            link.client.removeListener("close", dropped);
            if (error) reject(error);
            else if (unanswered) channel.destroy();
            else resolve(channel);
          });
        });
      } catch (error) {
        // An unanswered open means the connection is unresponsive (half-open): never reuse it.
        if (unanswered) this.drop(link);
        const linkDead = unanswered || this.link !== link || !link.socket.writable;
        if (linkDead && attempt === 1) {
          this.drop(link);
          continue;
        }
        // sshd refuses a session while it still counts one that just closed (MaxSessions):
        // nothing ran yet, so waiting a moment and asking again is safe.
        if (!linkDead && attempt <= CHANNEL_OPEN_RETRIES && isOpenRefused(error)) {
          await new Promise((resolve) => setTimeout(resolve, 25 * attempt));
          continue;
        }
        const stage: RemoteStage = "channel open";
        throw new SshConnectionError(
          unanswered ? "SSH_TIMEOUT" : "SSH_CHANNEL_FAILED",
          `failed to ${action} on ${this.target} (${stage}): ${messageOf(error)}`,
          { cause: error, stage },
        );
      }
    }
  }

  /** Forgets a connection that cannot be used any more, and closes it. */
  private drop(link: SshLink): void {
    if (this.link === link) this.link = undefined;
    link.client.destroy();
    link.end();
  }

  /** Keeps the process alive while work is in flight; an idle connection does not hold it. */
  private async whileBusy<T>(work: () => Promise<T>): Promise<T> {
    this.busy++;
    this.link?.socket.ref();
    try {
      return await work();
    } finally {
      this.busy--;
      if (this.busy === 0) this.link?.socket.unref();
    }
  }
}

function collect(
  channel: ClientChannel,
  script: string,
  options: ExecOptions,
  /** How long we wait for the script at most, whatever the peer does. */
  waitMs: number,
  describe: () => string,
): Promise<ExecResult> {
  const { timeoutMs } = options;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const output: Buffer[] = [];
    let exitCode: number | undefined;
    let exitSignal: string | undefined;
    const timedOut = () =>
      new SshConnectionError("SSH_TIMEOUT", `${describe()} did not finish within ${timeoutMs ?? waitMs} ms`, {
        stage: "command",
      });
    // With a timeout, the host's `timeout` normally ends the script first and this is only a
    // fallback; either way it bounds a peer that went silent or half-open while the script ran.
    const fallback = setTimeout(() => {
      channel.destroy();
      reject(timedOut());
    }, waitMs);
    channel.on("data", (chunk: Buffer) => {
      stdout.push(chunk);
      output.push(chunk);
    });
    channel.stderr.on("data", (chunk: Buffer) => {
      stderr.push(chunk);
      output.push(chunk);
    });
    channel.on("error", (error: unknown) => {
      clearTimeout(fallback);
      reject(
        new SshConnectionError("SSH_CHANNEL_FAILED", `${describe()} failed: ${messageOf(error)}`, {
          cause: error,
          stage: "command",
        }),
      );
    });
    channel.on("exit", (code: number | null, signal?: string) => {
      if (typeof code === "number") exitCode = code;
      else exitSignal = signal ?? "unknown signal";
    });
    channel.on("close", () => {
      clearTimeout(fallback);
      if (exitCode === undefined && exitSignal === undefined) {
        reject(
          new SshConnectionError(
            "SSH_CONNECTION_LOST",
            `the connection was lost while running ${describe()}`,
            {
              stage: "command",
            },
          ),
        );
        return;
      }
      if (timeoutMs !== undefined && exitCode === TIMED_OUT_EXIT_CODE && Date.now() - started >= timeoutMs) {
        reject(timedOut());
        return;
      }
      const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString("utf8");
      const killed = exitSignal === undefined ? "" : `\n(killed by signal ${exitSignal})`;
      resolve({
        stdout: text(stdout),
        stderr: text(stderr),
        output: text(output) + killed,
        code: exitCode ?? 255,
      });
    });
    channel.end(framedStdin(script, options.stdin, timeoutMs));
  });
}

/**
 * SSH_OPEN_CONNECT_FAILED (RFC 4254 section 5.1), which ssh2 puts in the error's `reason`: what
 * OpenSSH's sshd answers when it cannot open a session or a stream-local forward right now
 * (serverloop.c, server_input_channel_open: its default reason, sent with "open failed").
 * See docs/ssh.md.
 */
const SSH_OPEN_CONNECT_FAILED = 2;

function isOpenRefused(error: unknown): boolean {
  return (error as { reason?: unknown } | undefined)?.reason === SSH_OPEN_CONNECT_FAILED;
}
