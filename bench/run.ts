/**
 * The benchmark: for each layout and run, every scenario by our provider and by the hand-rolled
 * baseline, against the same hosts, with counts of the remote work each did.
 */
import type { ServiceTimeProfile } from "xen-sandbox";
import { floorOf, type Operation } from "./floor";
import { runHandRolled } from "./handrolled";
import type { HandRolledOutputs } from "./handrolled-scripts";
import { startHosts, type Counts, type Hosts } from "./hosts";
import { measureHostCosts, type HostCosts } from "./host-costs";
import { hostNeeds, placements, type Layout } from "./layouts";
import { runOurs, type PlacedDisk, type Stored } from "./ours";
import { serializedProvider } from "./provider-host";

/** The order scenarios run in within one run (each needs the state the previous one left). */
export const RUN_ORDER: readonly Operation[] = ["create", "preview", "refresh", "update", "delete"];

export interface BenchOptions {
  readonly layouts: readonly Layout[];
  /** Runs per layout. */
  readonly runs: (layout: Layout) => number;
  readonly profile: ServiceTimeProfile;
  readonly oneWayDelayMs: number;
  /** Also run the hand-rolled baseline. */
  readonly handRolled: boolean;
  /** Progress lines (stderr in the CLI). */
  readonly progress?: (line: string) => void;
}

export interface Sample {
  readonly wallMs: number;
  /** All hosts of the layout together. */
  readonly counts: Counts;
  /** Each host of the layout, in its order. */
  readonly perHost: readonly Counts[];
}

export interface ScenarioResult {
  readonly layout: string;
  readonly operation: Operation;
  readonly runs: number;
  readonly floorMs: number;
  readonly ours: { readonly samples: Sample[]; readonly peakRssKiB: number };
  /** Absent for preview (nothing remote to run) and when the baseline was not asked for. */
  readonly handRolled?: { readonly samples: Sample[] };
  /** The first host's sshd by itself (host-costs.ts), measured on the hosts this layout ran on. */
  readonly hostCosts: HostCosts;
}

export async function runBench(options: BenchOptions): Promise<ScenarioResult[]> {
  const say = options.progress ?? (() => undefined);
  const provider = await serializedProvider();
  const results: ScenarioResult[] = [];
  // Standalone hosts first, then the pool: one set of sandboxes at a time (loop devices, and
  // sandboxes reap strays when they start). Results keep the order the layouts were given in.
  for (const pool of [false, true]) {
    const layouts = options.layouts.filter((layout) => (layout.pool === true) === pool);
    if (layouts.length > 0) results.push(...(await runOnHosts(layouts, pool, provider, options, say)));
  }
  const order = (result: ScenarioResult) =>
    options.layouts.findIndex((layout) => layout.name === result.layout);
  return results.sort((a, b) => order(a) - order(b));
}

async function runOnHosts(
  layouts: readonly Layout[],
  pool: boolean,
  provider: string,
  options: BenchOptions,
  say: (line: string) => void,
): Promise<ScenarioResult[]> {
  const needs = hostNeeds(layouts);
  say(pool ? `starting a pool of ${needs.length} sandbox hosts` : `starting ${needs.length} sandbox host(s)`);
  const hosts = await startHosts({
    needs,
    profile: options.profile,
    oneWayDelayMs: options.oneWayDelayMs,
    pool,
  });
  // Ctrl-C (or a timeout's TERM) still removes the sandboxes: loop devices, mounts, processes.
  const onSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: stopping the sandboxes`);
    void hosts.stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const first = hosts.hosts[0];
    if (first === undefined) throw new Error("internal error: no host started");
    const hostCosts = await measureHostCosts(first.ssh);
    const results: ScenarioResult[] = [];
    for (const layout of layouts) {
      results.push(...(await runLayout(layout, hosts, provider, options, say, hostCosts)));
    }
    return results;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await hosts.stop();
  }
}

function placeDisks(layout: Layout, hosts: Hosts): PlacedDisk[] {
  const used = new Map<number, number>();
  return placements(layout).map(({ host: hostIndex, vm }) => {
    const host = hosts.hosts[hostIndex];
    const next = used.get(hostIndex) ?? 0;
    const disk = host?.disks[next];
    if (host === undefined || disk === undefined) {
      throw new Error(`layout "${layout.name}" needs more disks on host ${hostIndex + 1} than it has`);
    }
    used.set(hostIndex, next + 1);
    return { host, vm, serial: disk.serial, byId: disk.byId };
  });
}

async function runLayout(
  layout: Layout,
  hosts: Hosts,
  provider: string,
  options: BenchOptions,
  say: (line: string) => void,
  hostCosts: HostCosts,
): Promise<ScenarioResult[]> {
  const disks = placeDisks(layout, hosts);
  const runs = options.runs(layout);
  const ours = new Map<Operation, Sample[]>(RUN_ORDER.map((op) => [op, []]));
  const theirs = new Map<Operation, Sample[]>(RUN_ORDER.map((op) => [op, []]));
  const rss = new Map<Operation, number>();

  for (let run = 1; run <= runs; run++) {
    say(`${layout.name}: run ${run}/${runs}`);
    let stored: readonly Stored[] | undefined;
    for (const operation of RUN_ORDER) {
      say(`${layout.name}: ours ${operation}`);
      const count = hosts.startCounting(layout.hosts.length);
      const result = await runOurs(operation, disks, provider, operation === "update" ? "RO" : "RW", stored);
      const { total, perHost } = count();
      ours.get(operation)?.push({ wallMs: result.wallMs, counts: total, perHost });
      rss.set(operation, Math.max(rss.get(operation) ?? 0, result.peakRssKiB));
      stored = result.stored;
    }
    if (!options.handRolled) continue;
    let outputs: readonly HandRolledOutputs[] | undefined;
    for (const operation of RUN_ORDER) {
      if (operation === "preview") continue;
      say(`${layout.name}: hand-rolled ${operation}`);
      const count = hosts.startCounting(layout.hosts.length);
      const result = await runHandRolled(operation, disks, operation === "update" ? "RO" : "RW", outputs);
      const { total, perHost } = count();
      theirs.get(operation)?.push({ wallMs: result.wallMs, counts: total, perHost });
      outputs = result.outputs;
    }
  }

  return RUN_ORDER.map((operation) => {
    const handRolled = theirs.get(operation) ?? [];
    return {
      layout: layout.name,
      operation,
      runs,
      floorMs: floorOf(operation, layout, options.profile, { oneWayDelayMs: options.oneWayDelayMs }).ms,
      ours: { samples: ours.get(operation) ?? [], peakRssKiB: rss.get(operation) ?? 0 },
      ...(handRolled.length > 0 ? { handRolled: { samples: handRolled } } : {}),
      hostCosts,
    };
  });
}
