/**
 * Pure: the table's rows from the raw samples (medians, minima, ratios), the table as text, and
 * the notes that say where each term of the floor comes from.
 */
import { perHostText, type Counts } from "./counts";
import type { Operation } from "./floor";
import type { HostCosts } from "./host-costs";
import type { Sample, ScenarioResult } from "./run";

export interface Row {
  readonly scenario: Operation;
  readonly layout: string;
  readonly runs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly floorMs: number;
  /** medianMs / floorMs; undefined when the floor is 0 (preview). */
  readonly ratioToFloor: number | undefined;
  /** Median over the runs of the provider process's start to its first SSH byte; undefined when it sent none (preview). */
  readonly firstSshByteMs: number | undefined;
  /** Median over the runs of the provider process's start to ready for the engine's first call. */
  readonly readyMs: number | undefined;
  /** Counts of the median run. */
  readonly counts: Counts;
  /** The same run's counts on each host of the layout. */
  readonly perHost: readonly Counts[];
  readonly peakRssMiB: number;
  readonly handRolled?: {
    readonly medianMs: number;
    readonly minMs: number;
    readonly counts: Counts;
    /** Their median / our median. */
    readonly speedUp: number;
  };
}

/** The order rows are printed in. */
export const SCENARIO_ORDER: readonly Operation[] = ["create", "refresh", "update", "delete", "preview"];

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
}

/** The sample whose wall time is the (lower) median: its counts stand for the scenario. */
function medianSample(samples: readonly Sample[]): Sample {
  const sorted = [...samples].sort((a, b) => a.wallMs - b.wallMs);
  const sample = sorted[Math.floor((sorted.length - 1) / 2)];
  if (sample === undefined) throw new Error("internal error: a scenario has no samples");
  return sample;
}

export function toRows(results: readonly ScenarioResult[]): Row[] {
  const rows = results.map((result): Row => {
    const walls = result.ours.samples.map((s) => s.wallMs);
    const medianMs = median(walls);
    const firstBytes = result.ours.samples.flatMap((s) =>
      s.firstSshByteMs === undefined ? [] : [s.firstSshByteMs],
    );
    const ready = result.ours.samples.flatMap((s) => (s.readyMs === undefined ? [] : [s.readyMs]));
    const theirs = result.handRolled;
    const theirMedian = theirs === undefined ? undefined : median(theirs.samples.map((s) => s.wallMs));
    const typical = medianSample(result.ours.samples);
    return {
      scenario: result.operation,
      layout: result.layout,
      runs: result.runs,
      medianMs,
      minMs: Math.min(...walls),
      floorMs: result.floorMs,
      ratioToFloor: result.floorMs > 0 ? medianMs / result.floorMs : undefined,
      firstSshByteMs: firstBytes.length > 0 ? median(firstBytes) : undefined,
      readyMs: ready.length > 0 ? median(ready) : undefined,
      counts: typical.counts,
      perHost: typical.perHost,
      peakRssMiB: result.ours.peakRssKiB / 1024,
      ...(theirs === undefined || theirMedian === undefined
        ? {}
        : {
            handRolled: {
              medianMs: theirMedian,
              minMs: Math.min(...theirs.samples.map((s) => s.wallMs)),
              counts: medianSample(theirs.samples).counts,
              speedUp: theirMedian / medianMs,
            },
          }),
    };
  });
  const rank = (row: Row) => SCENARIO_ORDER.indexOf(row.scenario);
  return rows.sort((a, b) => rank(a) - rank(b));
}

const HEADER = [
  "scenario",
  "layout",
  "runs",
  "ours med",
  "ours min",
  "floor ms",
  "x floor",
  "ready",
  "1st SSH byte",
  "ssh conn",
  "ssh exec",
  "xapi login",
  "xapi calls",
  "per host conn/login",
  "host RSS MiB",
  "hand med",
  "hand min",
  "hand conn/exec/login/calls",
  "speed-up",
];

export function formatTable(rows: readonly Row[]): string {
  const lines = rows.map((row) => [
    row.scenario,
    row.layout,
    String(row.runs),
    row.medianMs.toFixed(0),
    row.minMs.toFixed(0),
    row.floorMs.toFixed(0),
    row.ratioToFloor === undefined ? "-" : `${row.ratioToFloor.toFixed(2)}x`,
    row.readyMs === undefined ? "-" : row.readyMs.toFixed(0),
    row.firstSshByteMs === undefined ? "-" : row.firstSshByteMs.toFixed(0),
    String(row.counts.sshConnections),
    String(row.counts.sshExecs),
    String(row.counts.xapiLogins),
    String(row.counts.xapiCalls),
    perHostText(row.perHost),
    row.peakRssMiB.toFixed(0),
    row.handRolled === undefined ? "-" : row.handRolled.medianMs.toFixed(0),
    row.handRolled === undefined ? "-" : row.handRolled.minMs.toFixed(0),
    row.handRolled === undefined
      ? "-"
      : [
          row.handRolled.counts.sshConnections,
          row.handRolled.counts.sshExecs,
          row.handRolled.counts.xapiLogins,
          row.handRolled.counts.xapiCalls,
        ].join("/"),
    row.handRolled === undefined ? "-" : `${row.handRolled.speedUp.toFixed(2)}x`,
  ]);
  const widths = HEADER.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => (line[column] ?? "").length)),
  );
  const render = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column < 2 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join("  ")
      .trimEnd();
  return [render(HEADER), render(widths.map((w) => "-".repeat(w))), ...lines.map(render)].join("\n");
}

/**
 * The notes under the table: per layout, what each host cost by itself (least and median of the
 * probe's samples) and each operation's floor as its terms, each tagged with where it comes from.
 */
export function floorNotes(
  results: readonly Pick<ScenarioResult, "layout" | "operation" | "floor" | "hostCosts" | "hostAloneMs">[],
  oneWayDelayMs: number,
): string {
  const lines = [
    `Floor terms: [probe] measured on the layout's hosts before each run by a minimal client through ` +
      `the latency proxy, the least of the runs' samples; [profile] the simulator's service-time profile ` +
      `plus the proxy's round trips (${oneWayDelayMs} ms each way). Hosts work in parallel: the floor is ` +
      `the slowest host's chain.`,
  ];
  const layouts = [...new Set(results.map((result) => result.layout))];
  for (const layout of layouts) {
    const ofLayout = results.filter((result) => result.layout === layout);
    lines.push(`"${layout}"`);
    ofLayout[0]?.hostCosts.forEach((costs, index) => lines.push(`  ${hostCostsLine(costs, index)}`));
    for (const operation of SCENARIO_ORDER) {
      const result = ofLayout.find((candidate) => candidate.operation === operation);
      if (result === undefined || result.floor.terms.length === 0) continue;
      const terms = result.floor.terms.map((term) => `${term.name} ${term.ms.toFixed(0)} [${term.source}]`);
      lines.push(`  ${operation.padEnd(7)} ${result.floor.ms.toFixed(0)} ms = ${terms.join(" + ")}`);
      const alone = result.hostAloneMs ?? [];
      if (alone.length > 0)
        lines.push(
          `          not in the floor: the dynamic-provider host alone (a provider whose read answers at once, ` +
            `same states) ${median(alone).toFixed(0)} / ${Math.min(...alone).toFixed(0)} ms (median / least)`,
        );
    }
  }
  return lines.join("\n");
}

function hostCostsLine(costs: HostCosts, index: number): string {
  const step = (name: string, pick: (sample: HostCosts["least"]) => number) =>
    `${name} ${pick(costs.least).toFixed(0)} / ${median(costs.samples.map(pick)).toFixed(0)} ms`;
  const disks = `${costs.disks} disk${costs.disks === 1 ? "" : "s"}`;
  return (
    `host ${index + 1}, least / median of ${costs.samples.length}: ` +
    [
      step("SSH set-up", (s) => s.sshSetupMs),
      step("exec of `true`", (s) => s.bareExecMs),
      step(`udev round for ${disks}`, (s) => s.udevAddMs),
      step("its removal", (s) => s.udevRemoveMs),
    ].join(", ")
  );
}
