/**
 * The floor: the least wall time a scenario can take on the host, whatever the client does.
 * It is the longest chain of work the host itself serializes (plugs per VM, scans per SR, the
 * global VBD.create mutex) plus the round trips no client can avoid (SSH connection set-up, one
 * SSH exec, one XAPI login). Pure: from the simulator's profile, the network and the layout.
 *
 * What is left out on purpose (so the floor stays a lower bound): udev's own work (reload,
 * trigger, settle: no public figure, the profile has none), SSH crypto time, jitter, and the
 * engine's own gRPC calls to the provider host.
 */
import type { ServiceTimeProfile } from "xen-sandbox";

export type Operation = "create" | "refresh" | "update" | "delete" | "preview";

/** Disks per VM, for each host; hosts work in parallel. */
export interface Shape {
  readonly hosts: readonly { readonly disksPerVm: readonly number[] }[];
  /** The hosts form one pool: one master, whose VBD.create mutex every host's creates queue on. */
  readonly pool?: boolean;
}

export interface Network {
  /** Added to each packet in each direction (the latency proxy's setting). */
  readonly oneWayDelayMs: number;
}

/** The parts of the profile the floor uses. */
export type FloorProfile = Pick<ServiceTimeProfile, "baseLatencyMs" | "loginMs" | "methodExtraMs">;

export interface FloorTerm {
  readonly name: string;
  readonly ms: number;
}

export interface Floor {
  readonly ms: number;
  /** The terms of the slowest host's chain, in order (parallel branches already reduced to their max). */
  readonly terms: readonly FloorTerm[];
}

/**
 * Round trips of an SSH connection's set-up: key exchange, service request, public-key auth
 * (TCP's own handshake to the proxy is local and free). A real client needs at least these.
 */
export const SSH_CONNECT_ROUND_TRIPS = 3;
/** One exec: open a session channel, then the exec request whose reply carries output and exit. */
export const SSH_EXEC_ROUND_TRIPS = 2;

export function floorOf(operation: Operation, shape: Shape, profile: FloorProfile, network: Network): Floor {
  // Preview is check + diff in the provider host: no remote call is needed at all.
  if (operation === "preview") return { ms: 0, terms: [] };
  // Hosts work in parallel (each its own SSH connection, dom0, udev SR and VMs), so the floor is
  // the slowest host's chain. A pool is no different but for one thing: VBD.create takes a mutex
  // on the pool master (docs/timing.md: "one global device-autodetect mutex on the pool master"), so
  // in a pool that queue holds every host's creates. Left out: a member forwards its calls to the
  // master (xen-api api_server.ml), a hop the simulator does not charge; the floor follows the
  // simulator's profile, so it stays a lower bound of what the simulator allows.
  const poolCreates = shape.pool === true ? sum(shape.hosts.flatMap((host) => host.disksPerVm)) : undefined;
  const chains = shape.hosts.map((host) =>
    hostChain(operation, host.disksPerVm, profile, network, poolCreates),
  );
  return chains.reduce<Floor>((slowest, chain) => (chain.ms > slowest.ms ? chain : slowest), {
    ms: 0,
    terms: [],
  });
}

function hostChain(
  operation: Exclude<Operation, "preview">,
  disksPerVm: readonly number[],
  profile: FloorProfile,
  network: Network,
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
  const add = (name: string, ms: number) => terms.push({ name, ms });

  add("SSH connection set-up", SSH_CONNECT_ROUND_TRIPS * rtt);
  // The XAPI login (through a forwarded channel: one round trip to open it) and the one lookup
  // every operation needs (records of VMs/VBDs/VDIs in one batch) run while the SSH exec runs.
  const login = rtt + call + profile.loginMs.local;
  const lookup = call;
  const exec = SSH_EXEC_ROUND_TRIPS * rtt;

  switch (operation) {
    case "create": {
      // Nothing may change before bad input is refused (the boot disk, a disk in use, a VM that
      // cannot take it): one look at dom0 and one at XAPI come first, side by side.
      add("max(one SSH exec: dom0 look, XAPI login + lookup)", Math.max(exec, login + lookup));
      // The rule write + reload + trigger + wait is one exec; XAPI only sees the VDI after it.
      add("one SSH exec: rules + trigger + wait", exec);
      // One scan of the udev SR finds every new VDI (scans on one SR serialize: one is the least).
      add("SR.scan (serialized per SR)", call + extra("SR.scan"));
      add("VDI lookup after the scan", call);
      // Creates queue on one global mutex; plugs queue per VM and start once their VBD exists.
      // Longest of: every create then one plug, or one create then the busiest VM's plugs.
      const createExtra = extra("VBD.create");
      const plug = extra("VBD.plug");
      add(
        "max(VBD.create mutex chain + 1 plug, 1 create + busiest VM's plug chain)",
        call + Math.max(queuedCreates * createExtra + plug, createExtra + busiestVm * plug) + call,
      );
      break;
    }
    case "refresh":
      // One probe exec (rules, symlinks, disks) and one batched XAPI read, in parallel.
      add("max(one SSH exec probe, XAPI login + one batched read)", Math.max(exec, login + lookup));
      break;
    case "update": {
      // A mode change means a new VBD: unplug, destroy, create, plug, on the VM's queue.
      add("max(one SSH exec probe, XAPI login + lookup)", Math.max(exec, login + lookup));
      const perVm = busiestVm * (extra("VBD.unplug") + extra("VBD.plug"));
      add("busiest VM's unplug + plug chain", call + perVm + call);
      add("VBD.destroy + VBD.create (mutex chain)", 2 * call + queuedCreates * extra("VBD.create"));
      break;
    }
    case "delete":
      add("XAPI login + lookup", login + lookup);
      add("busiest VM's unplug chain", call + busiestVm * extra("VBD.unplug"));
      add("VBD.destroy", call + extra("VBD.destroy"));
      // The symlink must stay until the VBD is gone; then one exec removes rules and triggers.
      add("one SSH exec: remove rules + trigger", exec);
      // Then the SR forgets the VDI: by a scan, or by VDI.forget (a record only), whichever is cheaper.
      add("min(SR.scan, VDI.forget)", call + Math.min(extra("SR.scan"), extra("VDI.forget")));
      break;
  }
  return { ms: terms.reduce((sum, term) => sum + term.ms, 0), terms };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, n) => total + n, 0);
}
