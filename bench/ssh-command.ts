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

/** Runs `script` over a fresh connection; resolves with stdout, rejects on a non-zero exit. */
export function runOverFreshConnection(target: SshTarget, script: string): Promise<string> {
  const pinned = target.hostKey.trim().split(/\s+/)[1] ?? "";
  return new Promise((resolve, reject) => {
    const client = new Client();
    const fail = (error: Error) => {
      client.end();
      reject(error);
    };
    client.once("error", fail);
    client.once("ready", () => {
      client.exec(script, (error, channel) => {
        if (error !== undefined) return fail(error);
        let stdout = "";
        let stderr = "";
        channel.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        channel.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        channel.once("close", (code: number | null) => {
          client.end();
          if (code === 0) resolve(stdout);
          else
            reject(
              new Error(
                `hand-rolled command on ${target.host}:${target.port} exited ${String(code)}: ${stderr.trim()}`,
              ),
            );
        });
      });
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
