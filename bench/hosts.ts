/**
 * The hosts the benchmark runs against: one dom0 sandbox per host (real sshd, udevd, loop disks,
 * the XAPI simulator with a service-time profile), each behind a latency proxy, and the counters
 * the table reports (SSH connections and execs from sshd's log, XAPI logins and calls from the
 * simulator's trace).
 */
import { readFileSync } from "node:fs";
import { startLatencyProxy, startSandbox } from "xen-sandbox";
import type { LatencyProxy, Sandbox, SandboxDisk, ServiceTimeProfile } from "xen-sandbox";
import type { SshTarget } from "./ssh-command";
import { vmName } from "./layouts";

export interface BenchHost {
  readonly index: number;
  /** SSH through the latency proxy (what both our provider and the baseline dial). */
  readonly ssh: SshTarget;
  /** Free disks (the in-use one left out), in a fixed order. */
  readonly disks: readonly SandboxDisk[];
  /** UUIDs of bench-vm-1, bench-vm-2, ... */
  readonly vmUuids: readonly string[];
  /** The udev "Removable storage" SR. */
  readonly srUuid: string;
  readonly sandbox: Sandbox;
}

/** Remote work counted on all hosts together. */
export interface Counts {
  sshConnections: number;
  sshExecs: number;
  xapiLogins: number;
  xapiCalls: number;
}

export interface Hosts {
  readonly hosts: readonly BenchHost[];
  /** Starts counting from zero (resets the simulators' traces). */
  startCounting(): () => Counts;
  stop(): Promise<void>;
}

export interface HostsOptions {
  /** Per host: VMs (all Running) and free disks it needs. */
  readonly needs: readonly { vms: number; disks: number }[];
  readonly profile: ServiceTimeProfile | string;
  readonly oneWayDelayMs: number;
}

export async function startHosts(options: HostsOptions): Promise<Hosts> {
  const started: { sandbox: Sandbox; proxy?: LatencyProxy }[] = [];
  const stop = async () => {
    const results = await Promise.allSettled(
      started.flatMap(({ sandbox, proxy }) => [proxy?.stop() ?? Promise.resolve(), sandbox.stop()]),
    );
    const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as Error] : []));
    if (failures.length > 0) throw new AggregateError(failures, "stopping the benchmark's hosts failed");
  };
  try {
    const hosts: BenchHost[] = [];
    // One after another: two sandboxes starting at once would compete for loop devices.
    for (const [index, need] of options.needs.entries()) {
      const sandbox = await startSandbox({
        disks: need.disks,
        hostNameLabel: `bench-host-${index + 1}`,
        model: {
          vms: Array.from({ length: need.vms }, (_, vm) => ({
            nameLabel: vmName(vm),
            powerState: "Running",
            // PV guests: the update scenario switches disks to RO, which XAPI refuses on HVM
            // guests (DISK_VBD_MUST_BE_READWRITE_FOR_HVM, xen-api xapi_vbd.ml plug).
            guest: "pv" as const,
          })),
        },
      });
      const entry: { sandbox: Sandbox; proxy?: LatencyProxy } = { sandbox };
      started.push(entry);
      sandbox.simulator.control.profile.set(options.profile);
      const proxy = await startLatencyProxy({
        target: { host: sandbox.ssh.host, port: sandbox.ssh.port },
        oneWayDelayMs: options.oneWayDelayMs,
      });
      entry.proxy = proxy;
      hosts.push(describeHost(index, sandbox, proxy, need.vms));
    }
    return { hosts, startCounting: () => startCounting(hosts), stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

function describeHost(index: number, sandbox: Sandbox, proxy: LatencyProxy, vms: number): BenchHost {
  const state = sandbox.simulator.control.state();
  const vmUuids = Array.from({ length: vms }, (_, vm) => {
    const found = state.vms.find((candidate) => candidate.nameLabel === vmName(vm));
    if (found === undefined) throw new Error(`sandbox ${index + 1} has no VM named ${vmName(vm)}`);
    return found.uuid;
  });
  const sr = state.srs.find(
    (candidate) => candidate.type === "udev" && candidate.nameLabel === "Removable storage",
  );
  if (sr === undefined) throw new Error(`sandbox ${index + 1} has no "Removable storage" udev SR`);
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
    vmUuids,
    srUuid: sr.uuid,
    sandbox,
  };
}

function startCounting(hosts: readonly BenchHost[]): () => Counts {
  const base = hosts.map((host) => {
    host.sandbox.simulator.control.trace.reset();
    return { connections: host.sandbox.sshConnections(), sessions: host.sandbox.sshSessions() };
  });
  return () => {
    const counts: Counts = { sshConnections: 0, sshExecs: 0, xapiLogins: 0, xapiCalls: 0 };
    hosts.forEach((host, index) => {
      const trace = host.sandbox.simulator.control.trace.get();
      counts.sshConnections += host.sandbox.sshConnections() - (base[index]?.connections ?? 0);
      counts.sshExecs += host.sandbox.sshSessions() - (base[index]?.sessions ?? 0);
      counts.xapiLogins += trace.logins;
      counts.xapiCalls += trace.calls.length;
    });
    return counts;
  };
}
