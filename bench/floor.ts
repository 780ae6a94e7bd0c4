/**
 * The floor: the least wall time a scenario can take on the host, whatever the client does.
 * It is the longest chain of work the host itself serializes (plugs per VM, scans per SR, the
 * global VBD.create mutex), from the simulator's profile, plus what the host's sshd and udevd
 * cost, measured on the same hosts through the same latency proxy by a minimal client
 * (floor-probe.ts): SSH connection set-up, a bare exec, one udev round for the layout's disks and
 * its removal. Pure: from the profile, the network, the layout and the measured least costs.
 *
 * Each term says where it comes from: "probe" (measured, the least of the samples) or "profile"
 * (the simulator's service times plus the proxy's round trips). What is left out on purpose (so
 * the floor stays a lower bound): jitter, the provider host's own start-up, and the engine's
 * gRPC calls to it.
 */
import type { ServiceTimeProfile } from "xen-sandbox";
import type { ProbeSample } from "./host-costs";

export type Operation = "create" | "refresh" | "update" | "delete" | "preview";

/** Disks per VM, for each host; hosts work in parallel. */
export interface Shape {
  readonly hosts: readonly {
    readonly disksPerVm: readonly number[];
    /**
     * sm passes of the SR.scan that finds the new disks (default 1): 2 where xapi scans again when
     * the SR's VDIs changed during a pass, as sm's own db_introduce of the new VDIs does
     * (xen-api `xapi_sr.ml` scan, CA-399757, v24.40.0 and later: XCP-ng 8.3 / XenServer 8).
     */
    readonly scanPasses?: number;
  }[];
  /** The hosts form one pool: one master, whose VBD.create mutex every host's creates queue on. */
  readonly pool?: boolean;
}

export interface Network {
  /** Added to each packet in each direction (the latency proxy's setting). */
  readonly oneWayDelayMs: number;
}

/** The parts of the profile the floor uses. */
export type FloorProfile = Pick<ServiceTimeProfile, "baseLatencyMs" | "loginMs" | "methodExtraMs">;

/** "probe": measured on the host by the floor's probe; "profile": the simulator's profile and the network. */
export type TermSource = "probe" | "profile";

export interface FloorTerm {
  readonly name: string;
  readonly ms: number;
  /** Where the term's figure comes from (for a max or min: the branch that won). */
  readonly source: TermSource;
}

export interface Floor {
  readonly ms: number;
  /** The terms of the slowest host's chain, in order (parallel branches already reduced to their max). */
  readonly terms: readonly FloorTerm[];
}

/** What the probe measured on each host of the shape, in its order: the least of the samples. */
export type MeasuredHosts = readonly ProbeSample[];

export function floorOf(
  operation: Operation,
  shape: Shape,
  profile: FloorProfile,
  network: Network,
  measured: MeasuredHosts,
): Floor {
  // Preview is check + diff in the provider host: no remote call is needed at all.
  if (operation === "preview") return { ms: 0, terms: [] };
  // Hosts work in parallel (each its own SSH connection, dom0, udev SR and VMs), so the floor is
  // the slowest host's chain. A pool is no different but for one thing: VBD.create takes a mutex
  // on the pool master (docs/timing.md: "one global device-autodetect mutex on the pool master"), so
  // in a pool that queue holds every host's creates. Left out: a member forwards its calls to the
  // master (xen-api api_server.ml), a hop the simulator does not charge; the floor follows the
  // simulator's profile, so it stays a lower bound of what the simulator allows.
  const poolCreates = shape.pool === true ? sum(shape.hosts.flatMap((host) => host.disksPerVm)) : undefined;
  const chains = shape.hosts.map((host, index) => {
    const costs = measured[index];
    if (costs === undefined) throw new Error(`internal error: no measured host costs for host ${index + 1}`);
    return hostChain(operation, host.disksPerVm, host.scanPasses ?? 1, profile, network, costs, poolCreates);
  });
  return chains.reduce<Floor>((slowest, chain) => (chain.ms > slowest.ms ? chain : slowest), {
    ms: 0,
    terms: [],
  });
}

function hostChain(
  operation: Exclude<Operation, "preview">,
  disksPerVm: readonly number[],
  scanPasses: number,
  profile: FloorProfile,
  network: Network,
  host: ProbeSample,
  /** In a pool: the creates of every host, which queue on the master's VBD.create mutex. */
  poolCreates: number | undefined,
): Floor {
  const rtt = 2 * network.oneWayDelayMs;
  const extra = (method: string) => profile.methodExtraMs[method] ?? 0;
  // One XAPI call through the SSH tunnel (keep-alive: the channel is already open): a round trip
  // plus the host's per-call latency.
  const call = rtt + profile.baseLatencyMs;
  // The creates that queue on this host's VBD.create mutex (the master's, in a pool).
  const queuedCreates = poolCreates ?? sum(disksPerVm);
  const busiestVm = Math.max(0, ...disksPerVm);

  const terms: FloorTerm[] = [];
  const add = (name: string, ms: number, source: TermSource) => terms.push({ name, ms, source });
  /** The longer of a measured and a profile branch that run side by side. */
  const addMax = (name: string, probe: number, fromProfile: number) =>
    add(name, Math.max(probe, fromProfile), probe >= fromProfile ? "probe" : "profile");

  // Everything goes over the one SSH connection (XAPI through a forwarded channel), so its set-up
  // comes first; the measured figure includes the proxy's round trips.
  add("SSH connection set-up", host.sshSetupMs, "probe");
  // The XAPI login (through a forwarded channel: one round trip to open it) and the one lookup
  // every operation needs (records of VMs/VBDs/VDIs in one batch) run while an SSH exec runs.
  const login = rtt + call + profile.loginMs.local;
  const lookup = call;

  switch (operation) {
    case "create": {
      // Nothing may change before bad input is refused (the boot disk, a disk in use, a VM that
      // cannot take it): one look at dom0 (an exec: at least a bare one) and one at XAPI come
      // first, side by side.
      addMax("max(exec of `true` for the dom0 look, XAPI login + lookup)", host.bareExecMs, login + lookup);
      // Rules written, udev reloaded, the disks triggered, the links there: one exec, measured
      // whole. XAPI only sees the VDI after it.
      add("udev round: rules, reload, trigger, links (one exec)", host.udevAddMs, "probe");
      // One scan of the udev SR finds every new VDI (scans on one SR serialize: one is the least);
      // on xapi that re-scans after a pass that changed the SR's VDIs, the scan that introduces
      // them runs sm twice.
      add(
        scanPasses === 1
          ? "SR.scan (serialized per SR)"
          : `SR.scan: ${scanPasses} sm passes (xapi re-scans after sm introduced VDIs)`,
        call + scanPasses * extra("SR.scan"),
        "profile",
      );
      add("VDI lookup after the scan", call, "profile");
      // Creates queue on one global mutex; plugs queue per VM and start once their VBD exists.
      // Longest of: every create then one plug, or one create then the busiest VM's plugs.
      const createExtra = extra("VBD.create");
      const plug = extra("VBD.plug");
      add(
        "max(VBD.create mutex chain + 1 plug, 1 create + busiest VM's plug chain)",
        call + Math.max(queuedCreates * createExtra + plug, createExtra + busiestVm * plug) + call,
        "profile",
      );
      break;
    }
    case "refresh":
      // One probe exec (rules, symlinks, disks) and one batched XAPI read, in parallel.
      addMax(
        "max(exec of `true` for the dom0 probe, XAPI login + one batched read)",
        host.bareExecMs,
        login + lookup,
      );
      break;
    case "update": {
      // A mode change means a new VBD: unplug, destroy, create, plug, on the VM's queue.
      addMax("max(exec of `true` for the dom0 probe, XAPI login + lookup)", host.bareExecMs, login + lookup);
      const perVm = busiestVm * (extra("VBD.unplug") + extra("VBD.plug"));
      add("busiest VM's unplug + plug chain", call + perVm + call, "profile");
      add(
        "VBD.destroy + VBD.create (mutex chain)",
        2 * call + queuedCreates * extra("VBD.create"),
        "profile",
      );
      break;
    }
    case "delete":
      add("XAPI login + lookup", login + lookup, "profile");
      add("busiest VM's unplug chain", call + busiestVm * extra("VBD.unplug"), "profile");
      add("VBD.destroy", call + extra("VBD.destroy"), "profile");
      // The symlink must stay until the VBD is gone; then one exec removes the rules, reloads,
      // triggers and waits for the links to go (the SR can only forget a VDI whose link is gone).
      add("udev round: remove rules, reload, trigger, links gone (one exec)", host.udevRemoveMs, "probe");
      // Then the SR forgets the VDI: by a scan, or by VDI.forget (a record only), whichever is cheaper.
      add("min(SR.scan, VDI.forget)", call + Math.min(extra("SR.scan"), extra("VDI.forget")), "profile");
      break;
  }
  return { ms: terms.reduce((sum, term) => sum + term.ms, 0), terms };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, n) => total + n, 0);
}
