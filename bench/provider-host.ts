/**
 * Our side of the benchmark: the real dynamic-provider host (the process `pulumi up` starts),
 * driven over gRPC as the engine drives it (xen-sandbox's engine driver), and its peak RSS.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { serializeResource, startEngine, type Engine } from "xen-sandbox";

/** The program directory: the host resolves pulumi-xen-passthrough from here, as under `pulumi up`. */
export const REPO_ROOT = join(__dirname, "..", "..");

/** The real `__provider` string of a PassthroughDisk (the same for every resource of a program). */
export async function serializedProvider(): Promise<string> {
  const args = {
    connection: { host: "127.0.0.1", privateKey: "placeholder", hostKey: "ssh-ed25519 AAAA" },
    disk: { serial: "PLACEHOLDER" },
    vm: { nameLabel: "placeholder" },
  };
  const serialized = await serializeResource(args, { packageName: "pulumi-xen-passthrough", cwd: REPO_ROOT });
  return serialized.provider;
}

/** A started, configured provider host plus its pid (for its peak RSS). */
export interface RunningEngine {
  readonly engine: Engine;
  readonly pid: number;
  /** performance.now() just before the process was started. */
  readonly spawnedAt: number;
}

export async function startProviderEngine(provider: string): Promise<RunningEngine> {
  const before = new Set(childHostPids());
  const spawnedAt = performance.now();
  const engine = await startEngine(provider, { cwd: REPO_ROOT });
  const pid = childHostPids().find((candidate) => !before.has(candidate));
  if (pid === undefined) {
    await engine.host.stop();
    throw new Error("started a dynamic-provider host but found no new child process running it");
  }
  return { engine, pid, spawnedAt };
}

/** Child processes of this one that run the dynamic-provider host. */
function childHostPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      if (!new RegExp(`^PPid:\\s+${process.pid}$`, "m").test(status)) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("dynamic-provider"))
        pids.push(Number(entry));
    } catch {
      // The process ended while we looked: not one to measure.
    }
  }
  return pids;
}

/** Peak resident set size (VmHWM) of a process, in KiB. */
export function peakRssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  if (match?.[1] === undefined) throw new Error(`/proc/${pid}/status has no VmHWM line`);
  return Number(match[1]);
}
