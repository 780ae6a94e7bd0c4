/**
 * Our side of the benchmark: the real dynamic-provider host (the process `pulumi up` starts),
 * driven over gRPC as the engine drives it, by the harness in tests/support. That harness is
 * loaded from the compiled tests at run time: the tests reference this project (for the floor's
 * unit tests), so this project cannot reference them back.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

type Props = Record<string, unknown>;

/** The calls of tests/support/dynamic-host.ts's DynamicHost this benchmark uses. */
export interface ProviderHost {
  configure(config: Record<string, string>): Promise<void>;
  check(
    olds: Props,
    news: Props,
  ): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }>;
  diff(id: string, olds: Props, news: Props): Promise<{ changes: string; replaces: string[] }>;
  create(properties: Props): Promise<{ id: string; properties: Props }>;
  read(id: string, properties: Props): Promise<{ id: string; properties: Props }>;
  update(id: string, olds: Props, news: Props): Promise<{ properties: Props }>;
  delete(id: string, properties: Props): Promise<void>;
  stop(): Promise<void>;
}

interface SupportModules {
  startDynamicHost(options: { cwd?: string }): Promise<ProviderHost>;
  serializePassthroughDisk(args: Props): Promise<{ provider: string }>;
}

export const REPO_ROOT = join(__dirname, "..", "..");

function support(): SupportModules {
  const dir = join(REPO_ROOT, "tests", "dist", "support");
  /* eslint-disable @typescript-eslint/no-require-imports */
  const host = require(join(dir, "dynamic-host.js")) as Pick<SupportModules, "startDynamicHost">;
  const serialize = require(join(dir, "serialize.js")) as Pick<SupportModules, "serializePassthroughDisk">;
  /* eslint-enable @typescript-eslint/no-require-imports */
  return {
    startDynamicHost: host.startDynamicHost,
    serializePassthroughDisk: serialize.serializePassthroughDisk,
  };
}

/** The real `__provider` string of a PassthroughDisk (the same for every resource of a program). */
export async function serializedProvider(): Promise<string> {
  const args = {
    connection: { host: "127.0.0.1", privateKey: "placeholder", hostKey: "ssh-ed25519 AAAA" },
    disk: { serial: "PLACEHOLDER" },
    vm: { nameLabel: "placeholder" },
  };
  return (await support().serializePassthroughDisk(args)).provider;
}

/** A started provider host plus its pid (for its peak RSS). */
export interface RunningHost {
  readonly host: ProviderHost;
  readonly pid: number;
}

/** Starts a provider host (cwd: the repository, as a program directory) and configures it. */
export async function startProviderHost(): Promise<RunningHost> {
  const before = new Set(childHostPids());
  const host = await support().startDynamicHost({ cwd: REPO_ROOT });
  await host.configure({});
  const pid = childHostPids().find((candidate) => !before.has(candidate));
  if (pid === undefined) {
    await host.stop();
    throw new Error("started a dynamic-provider host but found no new child process running it");
  }
  return { host, pid };
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
      // The process ended while we looked: not ours to count.
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
