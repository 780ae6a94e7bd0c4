/**
 * The benchmark: for each layout and run, the floor's probe of the hosts, then every scenario by
 * our provider, then by the hand-rolled baseline (probe, ours, hand, probe, ours, hand...: a
 * machine that drifts during the bench hits all three alike), against the same hosts, with counts
 * of the remote work each did. Runs go round the layouts (run 1 of each, then run 2...): a few
 * slower minutes of the machine then cost one run of every layout, which the medians discount,
 * not every run of one layout.
 */
import { checksDbDuringScan, DEFAULT_SM_VERSION, type ServiceTimeProfile } from "xen-sandbox";
import { floorOf, type Floor, type Operation } from "./floor";
import { probeHost } from "./floor-probe";
import { runHandRolled } from "./handrolled";
import type { HandRolledOutputs } from "./handrolled-scripts";
import { startHosts, type BenchHost, type Counts, type Hosts } from "./hosts";
import { hostCostsOf, type HostCosts, type ProbeSample } from "./host-costs";
import { hostNeeds, placements, type Layout } from "./layouts";
import { runOurs, type PlacedDisk, type Stored } from "./ours";
import { hostAloneRefreshMs } from "./host-alone";
import { serializedProvider } from "./provider-host";

/** The order scenarios run in within one run (each needs the state the previous one left). */
export const RUN_ORDER: readonly Operation[] = ["create", "preview", "refresh", "update", "delete"];

/**
 * Samples of each operation per run, ours and the hand-rolled chain's alike. A refresh takes a few
 * hundred ms, so a few tens of ms of noise swing its ratios most: it is sampled more often.
 */
export function samplesPerRun(operation: Operation): number {
  return operation === "refresh" ? 3 : 1;
}

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
  /**
   * Ours only, for operations that reach a host: from the bench starting the provider process to
   * the first byte of its first SSH connection, as the latency proxy saw it.
   */
  readonly firstSshByteMs?: number;
  /**
   * Ours only: from the bench starting the provider process to the process ready for the
   * engine's first call (started and configured); wallMs starts there.
   */
  readonly readyMs?: number;
}

export interface ScenarioResult {
  readonly layout: string;
  readonly operation: Operation;
  readonly runs: number;
  /** floor.ms, kept apart for readers of the JSON. */
  readonly floorMs: number;
  /** The floor's terms, each with its source (floor.ts). */
  readonly floor: Floor;
  readonly ours: { readonly samples: Sample[]; readonly peakRssKiB: number };
  /** Absent for preview (nothing remote to run) and when the baseline was not asked for. */
  readonly handRolled?: { readonly samples: Sample[] };
  /**
   * What each host of the layout costs by itself, every probe sample (one per run) and their least
   * (host-costs.ts); the same object for every operation of the layout.
   */
  readonly hostCosts: readonly HostCosts[];
  /** refresh: the dynamic-provider host alone on the same states, one sample per run (host-alone.ts). */
  readonly hostAloneMs?: readonly number[];
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
    // The layouts take turns run by run (see the top of this file): each run leaves its hosts as
    // it found them.
    const all = layouts.map((layout) => layoutRuns(layout, hosts, options.runs(layout)));
    for (const { of: at, run } of roundRobin(all)) await runOnce(at, run, hosts, provider, options, say);
    return all.flatMap((at) => resultsOf(at, options));
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

/**
 * The order of the runs of layouts that each have their number of runs: run 1 of every layout,
 * then run 2 of every layout that has one, and so on.
 */
export function roundRobin<T extends { readonly runs: number }>(
  layouts: readonly T[],
): { of: T; run: number }[] {
  const rounds = Math.max(0, ...layouts.map((layout) => layout.runs));
  return Array.from({ length: rounds }, (_, round) => round + 1).flatMap((run) =>
    layouts.filter((layout) => run <= layout.runs).map((layout) => ({ of: layout, run })),
  );
}

/** One layout on its hosts, and what its runs gathered so far. */
interface LayoutRuns {
  readonly layout: Layout;
  readonly disks: readonly PlacedDisk[];
  readonly layoutHosts: readonly BenchHost[];
  readonly runs: number;
  /** Per host of the layout, one probe sample per run. */
  readonly probes: ProbeSample[][];
  readonly ours: Map<Operation, Sample[]>;
  readonly theirs: Map<Operation, Sample[]>;
  readonly rss: Map<Operation, number>;
  readonly hostAlone: number[];
}

function layoutRuns(layout: Layout, hosts: Hosts, runs: number): LayoutRuns {
  const layoutHosts = hosts.hosts.slice(0, layout.hosts.length);
  return {
    layout,
    disks: placeDisks(layout, hosts),
    layoutHosts,
    runs,
    probes: layoutHosts.map(() => []),
    ours: new Map(RUN_ORDER.map((op) => [op, []])),
    theirs: new Map(RUN_ORDER.map((op) => [op, []])),
    rss: new Map(),
    hostAlone: [],
  };
}

const disksOn = (at: LayoutRuns, host: number) => at.disks.filter((disk) => disk.host.index === host);

/** One run of a layout: the floor's probe, every scenario by ours, then by the hand-rolled chain. */
async function runOnce(
  at: LayoutRuns,
  run: number,
  hosts: Hosts,
  provider: string,
  options: BenchOptions,
  say: (line: string) => void,
): Promise<void> {
  const { layout, disks, layoutHosts } = at;
  say(`${layout.name}: run ${run}/${at.runs}`);
  say(`${layout.name}: the floor's probe`);
  // Every host at once, as the scenarios reach them.
  const sampled = await Promise.all(layoutHosts.map((host) => probeHost(host.ssh, disksOn(at, host.index))));
  sampled.forEach((sample, index) => at.probes[index]?.push(sample));
  let stored: readonly Stored[] | undefined;
  for (const operation of RUN_ORDER) {
    for (let sample = 0; sample < samplesPerRun(operation); sample++) {
      say(`${layout.name}: ours ${operation}`);
      const count = hosts.startCounting(layout.hosts.length);
      const mode = operation === "update" ? "RO" : "RW";
      const result = await runOurs(operation, disks, provider, mode, stored);
      const { total, perHost } = count();
      const firstByte = firstByteAfter(layoutHosts, result.spawnedAt);
      at.ours.get(operation)?.push({
        wallMs: result.wallMs,
        counts: total,
        perHost,
        readyMs: result.readyAt - result.spawnedAt,
        ...(firstByte === undefined ? {} : { firstSshByteMs: firstByte - result.spawnedAt }),
      });
      at.rss.set(operation, Math.max(at.rss.get(operation) ?? 0, result.peakRssKiB));
      stored = result.stored;
    }
    if (operation === "refresh" && stored !== undefined) {
      say(`${layout.name}: the dynamic-provider host alone`);
      at.hostAlone.push(await hostAloneRefreshMs(stored));
    }
  }
  if (!options.handRolled) return;
  let outputs: readonly HandRolledOutputs[] | undefined;
  for (const operation of RUN_ORDER) {
    if (operation === "preview") continue;
    for (let sample = 0; sample < samplesPerRun(operation); sample++) {
      say(`${layout.name}: hand-rolled ${operation}`);
      const count = hosts.startCounting(layout.hosts.length);
      const mode = operation === "update" ? "RO" : "RW";
      const result = await runHandRolled(operation, disks, mode, outputs);
      const { total, perHost } = count();
      at.theirs.get(operation)?.push({ wallMs: result.wallMs, counts: total, perHost });
      outputs = result.outputs;
    }
  }
}

/** A layout's scenarios, judged on the floor of the least probe samples of all its runs. */
function resultsOf(at: LayoutRuns, options: BenchOptions): ScenarioResult[] {
  const { layout, layoutHosts } = at;
  const hostCosts = at.probes.map((samples, index) => hostCostsOf(disksOn(at, index).length, samples));
  const least = hostCosts.map((costs) => costs.least);
  return RUN_ORDER.map((operation) => {
    const handRolled = at.theirs.get(operation) ?? [];
    const floor = floorOf(
      operation,
      {
        ...layout,
        hosts: layout.hosts.map((host, index) => ({
          ...host,
          scanPasses: checksDbDuringScan(layoutHosts[index]?.sandbox.smVersion ?? DEFAULT_SM_VERSION) ? 2 : 1,
        })),
      },
      options.profile,
      { oneWayDelayMs: options.oneWayDelayMs },
      least,
    );
    return {
      layout: layout.name,
      operation,
      runs: at.runs,
      floorMs: floor.ms,
      floor,
      ours: { samples: at.ours.get(operation) ?? [], peakRssKiB: at.rss.get(operation) ?? 0 },
      ...(handRolled.length > 0 ? { handRolled: { samples: handRolled } } : {}),
      hostCosts,
      ...(operation === "refresh" && at.hostAlone.length > 0 ? { hostAloneMs: at.hostAlone } : {}),
    };
  });
}

/** The first client byte any of the hosts' proxies saw since `since` (only ours runs meanwhile). */
function firstByteAfter(hosts: readonly BenchHost[], since: number): number | undefined {
  const after = hosts.flatMap((host) => host.firstClientBytes().filter((at) => at >= since));
  return after.length === 0 ? undefined : Math.min(...after);
}
