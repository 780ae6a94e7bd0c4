// The built CLI (provider/bin/xen-passthrough.js) run as users run it: a child process with only
// PATH from this environment (plus what a test adds), its output collected.
import { spawn } from "node:child_process";
import { join } from "node:path";

const CLI = join(__dirname, "..", "..", "..", "provider", "bin", "xen-passthrough.js");

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env["PATH"], ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done) => child.on("close", (code) => done({ code, stdout, stderr })));
}

/** `<command>` with the flags that reach a sandbox host over SSH (its key, its host key). */
export function sshFlags(
  command: "disks" | "usb",
  ssh: {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly privateKeyPath: string;
    readonly hostKey: string;
  },
  hostKey = ssh.hostKey,
): string[] {
  return [
    ...[command, "--host", ssh.host, "--port", String(ssh.port), "--user", ssh.user],
    ...["--private-key-file", ssh.privateKeyPath, "--host-key", hostKey],
  ];
}
