/**
 * What `@pulumi/command`'s remote.Command does for each resource: a new SSH connection (host key
 * verified), one exec of the script, the connection closed. Used by the hand-rolled baseline.
 */
import { Client } from "ssh2";

export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly privateKey: string;
  /** OpenSSH public-key line of the host key ("ssh-ed25519 AAAA..."). */
  readonly hostKey: string;
}

/** fact: @pulumi/command's `dialErrorLimit` defaults to 10 attempts. */
export const DIAL_ATTEMPTS = 10;
/** choice: the wait before the next attempt (no public figure): 100 ms, growing 1.5x, at most 5 s. */
export function dialRetryDelayMs(failedAttempts: number): number {
  return Math.min(5000, 100 * 1.5 ** (failedAttempts - 1));
}

/** An SSH dial that failed before the session was ready (sshd's MaxStartups refuses some when many dial at once). */
class DialError extends Error {
  override readonly name = "DialError";
}

/**
 * Runs `script` over a fresh connection, dialling again on a dial failure as @pulumi/command does;
 * resolves with stdout, rejects on a non-zero exit.
 */
export async function runOverFreshConnection(target: SshTarget, script: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runOnce(target, script);
    } catch (error) {
      if (!(error instanceof DialError) || attempt >= DIAL_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, dialRetryDelayMs(attempt)));
    }
  }
}

async function runOnce(target: SshTarget, script: string): Promise<string> {
  const client = await dial(target);
  try {
    return await execOn(client, script, `hand-rolled command on ${target.host}:${target.port}`);
  } finally {
    // A reset can still arrive after we are done with the connection: nothing to report.
    client.on("error", () => undefined);
    client.end();
  }
}

/** Runs `command` on an open connection; resolves with stdout, rejects (naming `what`) on a non-zero exit. */
export function execOn(client: Client, command: string, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      client.off("error", fail);
      reject(error);
    };
    client.once("error", fail);
    client.exec(command, (error, channel) => {
      if (error !== undefined) return fail(error);
      let stdout = "";
      let stderr = "";
      channel.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      channel.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      channel.once("close", (code: number | null) => {
        client.off("error", fail);
        if (code === 0) resolve(stdout);
        else reject(new Error(`${what} exited ${String(code)}: ${stderr.trim()}`));
      });
    });
  });
}

/** A fresh, authenticated connection (host key pinned); a failure before that is a DialError. */
export function dial(target: SshTarget): Promise<Client> {
  const pinned = target.hostKey.trim().split(/\s+/)[1] ?? "";
  return new Promise((resolve, reject) => {
    const client = new Client();
    const onError = (error: Error) => {
      client.end();
      reject(
        new DialError(`SSH dial of ${target.host}:${target.port} failed: ${error.message}`, { cause: error }),
      );
    };
    client.once("error", onError);
    client.once("ready", () => {
      client.off("error", onError);
      resolve(client);
    });
    client.connect({
      host: target.host,
      port: target.port,
      username: target.user,
      privateKey: target.privateKey,
      hostVerifier: (key: Buffer) => key.toString("base64") === pinned,
    });
  });
}
