/**
 * The hosts the benchmark runs against: dom0 sandboxes (real sshd, udevd, loop disks, the XAPI
 * simulator with a service-time profile), each behind a latency proxy, and the counters the table
 * reports (SSH connections and execs from each host's sshd log, XAPI logins and calls from the
 * simulators' traces). Standalone hosts each have their own simulator; the hosts of a pool share
 * one (one database, one trace).
 */
import { readFileSync } from "node:fs";
import { startLatencyProxy, startPool, startSandbox } from "xen-sandbox";
import type { LatencyProxy, Sandbox, SandboxDisk, ServiceTimeProfile, XapiSimulator } from "xen-sandbox";
import { countByHost, type CountsByHost } from "./counts";
import type { SshTarget } from "./ssh-command";
import { vmName } from "./layouts";

export type { Counts, CountsByHost } from "./counts";

export interface BenchHost {
  readonly index: number;
  /** SSH through the latency proxy (what both our provider and the baseline dial). */
  readonly ssh: SshTarget;
  /** Free disks (the in-use one left out), in a fixed order. */
  readonly disks: readonly SandboxDisk[];
  /** Names of the host's guests, VM index order (layouts.ts vmName). */
  readonly vmNames: readonly string[];
  /** UUIDs of the same guests. */
  readonly vmUuids: readonly string[];
  /** The host's own udev "Removable storage" SR. */
  readonly srUuid: string;
  /** When each client of the host's latency proxy sent its first byte (performance.now()). */
  firstClientBytes(): readonly number[];
  /** The host's reference in its simulator: the trace names the host of each call by it. */
  readonly hostRef: string;
  readonly sandbox: Sandbox;
}

export interface Hosts {
  readonly hosts: readonly BenchHost[];
  /** Starts counting from zero on the first `count` hosts (resets their simulators' traces). */
  startCounting(count: number): () => CountsByHost;
  stop(): Promise<void>;
}

export interface HostsOptions {
  /** Per host: VMs (all Running) and free disks it needs. */
  readonly needs: readonly { vms: number; disks: number }[];
  readonly profile: ServiceTimeProfile | string;
  readonly oneWayDelayMs: number;
  /** One pool of these hosts (master first) rather than standalone hosts. */
  readonly pool?: boolean;
}

interface Started {
  readonly stop: () => Promise<void>;
}

export async function startHosts(options: HostsOptions): Promise<Hosts> {
  const started: Started[] = [];
  const stop = async () => {
    // Proxies first (started last), then the sandboxes or the pool.
    const results = await Promise.allSettled([...started].reverse().map((entry) => entry.stop()));
    const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as Error] : []));
    if (failures.length > 0) throw new AggregateError(failures, "stopping the benchmark's hosts failed");
  };
  try {
    const sandboxes = options.pool === true ? await poolSandboxes(options, started) : [];
    if (options.pool !== true) {
      // One after another: two sandboxes starting at once would compete for loop devices.
      for (const [index, need] of options.needs.entries()) {
        const sandbox = await startSandbox({
          disks: need.disks,
          hostNameLabel: `bench-host-${index + 1}`,
          model: { vms: Array.from({ length: need.vms }, (_, vm) => guest(vmName(vm))) },
        });
        started.push(sandbox);
        sandboxes.push(sandbox);
      }
    }
    const hosts: BenchHost[] = [];
    for (const [index, sandbox] of sandboxes.entries()) {
      sandbox.simulator.control.profile.set(options.profile);
      const proxy = await startLatencyProxy({
        target: { host: sandbox.ssh.host, port: sandbox.ssh.port },
        oneWayDelayMs: options.oneWayDelayMs,
      });
      started.push(proxy);
      const names = Array.from({ length: options.needs[index]?.vms ?? 0 }, (_, vm) =>
        options.pool === true ? vmName(vm, index) : vmName(vm),
      );
      hosts.push(describeHost(index, sandbox, proxy, names));
    }
    return { hosts, startCounting: (count) => startCounting(hosts.slice(0, count)), stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/**
 * PV guests: the update scenario switches disks to RO, which XAPI refuses on HVM guests
 * (DISK_VBD_MUST_BE_READWRITE_FOR_HVM, xen-api xapi_vbd.ml plug).
 */
function guest(nameLabel: string, host?: number) {
  return {
    nameLabel,
    powerState: "Running" as const,
    guest: "pv" as const,
    ...(host === undefined ? {} : { host }),
  };
}

async function poolSandboxes(options: HostsOptions, started: Started[]): Promise<Sandbox[]> {
  const pool = await startPool({
    hosts: options.needs.length,
    disks: options.needs.map((need) => need.disks),
    // Each host's guests are resident on it (Running), named per host: one database holds them all.
    model: {
      vms: options.needs.flatMap((need, host) =>
        Array.from({ length: need.vms }, (_, vm) => guest(vmName(vm, host), host)),
      ),
    },
  });
  started.push(pool);
  return [...pool.hosts];
}

function describeHost(index: number, sandbox: Sandbox, proxy: LatencyProxy, vmNames: string[]): BenchHost {
  const state = sandbox.simulator.control.state();
  const vmUuids = vmNames.map((name) => {
    const found = state.vms.find((candidate) => candidate.nameLabel === name);
    if (found === undefined) throw new Error(`host ${index + 1} has no VM named ${name}`);
    return found.uuid;
  });
  const self = state.hosts.find((host) => host.uuid === sandbox.host.uuid);
  const sr = state.srs.find((candidate) => candidate.ref === self?.removableSr);
  if (self === undefined || sr === undefined)
    throw new Error(`host ${index + 1} (${sandbox.host.uuid}) has no "Removable storage" udev SR of its own`);
  return {
    index,
    ssh: {
      host: "127.0.0.1",
      port: proxy.port,
      user: sandbox.ssh.user,
      privateKey: readFileSync(sandbox.ssh.privateKeyPath, "utf8"),
      hostKey: sandbox.ssh.hostKey,
    },
    disks: sandbox.disks.filter((disk) => !disk.inUse),
    vmNames,
    vmUuids,
    srUuid: sr.uuid,
    firstClientBytes: () => proxy.firstClientBytes(),
    hostRef: self.ref,
    sandbox,
  };
}

function startCounting(hosts: readonly BenchHost[]): () => CountsByHost {
  // A pool's hosts share one simulator: its trace is reset and read once.
  const simulators = [...new Set<XapiSimulator>(hosts.map((host) => host.sandbox.simulator))];
  for (const simulator of simulators) simulator.control.trace.reset();
  const base = hosts.map((host) => ({
    connections: host.sandbox.sshConnections(),
    sessions: host.sandbox.sshSessions(),
  }));
  return () =>
    countByHost(
      hosts.map((host, index) => ({
        hostRef: host.hostRef,
        sshConnections: host.sandbox.sshConnections() - (base[index]?.connections ?? 0),
        sshExecs: host.sandbox.sshSessions() - (base[index]?.sessions ?? 0),
      })),
      simulators.flatMap((simulator) => simulator.control.trace.get().calls),
    );
}
