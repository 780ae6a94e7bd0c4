import { spawn } from "node:child_process";

import { SandboxError } from "./errors";

const STOP_GRACE_MS = 2_000;
const OUTPUT_TAIL_CHARS = 4_000;

/**
 * A long-running process kept as a direct child of Node: this machine's PID 1 reaps no
 * orphans, so daemons run in the foreground and are killed and awaited by us.
 */
export interface ChildProcessHandle {
  readonly name: string;
  readonly pid: number;
  /** Output seen so far (tail), for error messages. */
  output(): string;
  /** Resolves with the first output line matching `pattern`; rejects if the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Calls `listener` with every complete output line from now on (its children's output too). */
  onLine(listener: (line: string) => void): void;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process has exited. */
  stop(): Promise<void>;
  readonly exited: boolean;
}

/**
 * Starts `file` as a child that the kernel kills if Node dies without stopping it (crash,
 * SIGKILL): setpriv sets the parent-death signal, which survives the exec into `file`.
 */
export function startChild(name: string, file: string, args: readonly string[]): ChildProcessHandle {
  const child = spawn("setpriv", ["--pdeathsig", "KILL", "--", file, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let partialLine = "";
  let exited = false;
  const listeners = new Set<() => void>();
  const lineListeners: ((line: string) => void)[] = [];
  const onData = (chunk: Buffer): void => {
    const text = chunk.toString("utf8");
    output = (output + text).slice(-OUTPUT_TAIL_CHARS);
    const lines = (partialLine + text).split("\n");
    partialLine = lines.pop() ?? "";
    for (const line of lines) for (const listener of lineListeners) listener(line);
    for (const listener of listeners) listener();
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  // "exit", not "close": daemons' own children (sshd's per-connection processes) may hold the
  // pipes open after the daemon itself is gone.
  const exit = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true;
      for (const listener of listeners) listener();
      resolve();
    });
    child.once("error", (error) => {
      output += `\n${error.message}`;
    });
  });
  if (child.pid === undefined) {
    throw new SandboxError("PROCESS_EXITED", { name, file }, `could not start ${name} (${file})`);
  }
  const pid = child.pid;

  return {
    name,
    pid,
    output: () => output,
    onLine: (listener) => {
      lineListeners.push(listener);
    },
    get exited() {
      return exited;
    },
    waitForOutput(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(output);
          if (match !== null) return finish(() => resolve(match[0]));
          if (exited) {
            finish(() =>
              reject(
                new SandboxError(
                  "PROCESS_EXITED",
                  { name, output },
                  `${name} exited before it was ready: ${output.trim()}`,
                ),
              ),
            );
          }
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(
                new SandboxError(
                  "TIMEOUT",
                  { name, output },
                  `${name} was not ready within ${timeoutMs} ms: ${output.trim()}`,
                ),
              ),
            ),
          timeoutMs,
        );
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await exit;
      clearTimeout(timer);
    },
  };
}
