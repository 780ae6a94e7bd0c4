/**
 * Pure: the table's rows from the raw samples (medians, ratios), and the table as text.
 */
import { perHostText, type Counts } from "./counts";
import { SSH_CONNECT_ROUND_TRIPS, SSH_EXEC_ROUND_TRIPS, type Operation } from "./floor";
import type { HostCosts } from "./host-costs";
import type { Sample, ScenarioResult } from "./run";

export interface Row {
  readonly scenario: Operation;
  readonly layout: string;
  readonly runs: number;
  readonly medianMs: number;
  readonly floorMs: number;
  /** medianMs / floorMs; undefined when the floor is 0 (preview). */
  readonly ratioToFloor: number | undefined;
  /** Counts of the median run. */
  readonly counts: Counts;
  /** The same run's counts on each host of the layout. */
  readonly perHost: readonly Counts[];
  readonly peakRssMiB: number;
  readonly handRolled?: { readonly medianMs: number; readonly counts: Counts; readonly speedUp: number };
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
    const medianMs = median(result.ours.samples.map((s) => s.wallMs));
    const theirs = result.handRolled;
    const theirMedian = theirs === undefined ? undefined : median(theirs.samples.map((s) => s.wallMs));
    const typical = medianSample(result.ours.samples);
    return {
      scenario: result.operation,
      layout: result.layout,
      runs: result.runs,
      medianMs,
      floorMs: result.floorMs,
      ratioToFloor: result.floorMs > 0 ? medianMs / result.floorMs : undefined,
      counts: typical.counts,
      perHost: typical.perHost,
      peakRssMiB: result.ours.peakRssKiB / 1024,
      ...(theirs === undefined || theirMedian === undefined
        ? {}
        : {
            handRolled: {
              medianMs: theirMedian,
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
  "ours ms",
  "floor ms",
  "x floor",
  "ssh conn",
  "ssh exec",
  "xapi login",
  "xapi calls",
  "per host conn/login",
  "host RSS MiB",
  "hand ms",
  "hand conn/exec/login/calls",
  "speed-up",
];

export function formatTable(rows: readonly Row[]): string {
  const lines = rows.map((row) => [
    row.scenario,
    row.layout,
    String(row.runs),
    row.medianMs.toFixed(0),
    row.floorMs.toFixed(0),
    row.ratioToFloor === undefined ? "-" : `${row.ratioToFloor.toFixed(2)}x`,
    String(row.counts.sshConnections),
    String(row.counts.sshExecs),
    String(row.counts.xapiLogins),
    String(row.counts.xapiCalls),
    perHostText(row.perHost),
    row.peakRssMiB.toFixed(0),
    row.handRolled === undefined ? "-" : row.handRolled.medianMs.toFixed(0),
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
 * One line per set of hosts: what their sshd costs alone, next to what the floor counts for the
 * same step (round trips alone), so a reader sees which part of the gap is the host's.
 */
export function hostCostsText(
  results: readonly Pick<ScenarioResult, "layout" | "hostCosts">[],
  oneWayDelayMs: number,
): string {
  const layoutsOf = new Map<HostCosts, string[]>();
  for (const { layout, hostCosts } of results) {
    const layouts = layoutsOf.get(hostCosts) ?? [];
    if (!layouts.includes(layout)) layouts.push(layout);
    layoutsOf.set(hostCosts, layouts);
  }
  const rtt = 2 * oneWayDelayMs;
  return [...layoutsOf]
    .map(
      ([costs, layouts]) =>
        `sshd alone on the hosts of ${layouts.map((name) => `"${name}"`).join(", ")} (a warm client, median of ` +
        `${costs.samples}): connection set-up ${costs.sshSetupMs.toFixed(0)} ms, exec of \`true\` ` +
        `${costs.bareExecMs.toFixed(0)} ms; the floor counts ${SSH_CONNECT_ROUND_TRIPS * rtt} ms and ` +
        `${SSH_EXEC_ROUND_TRIPS * rtt} ms for them (round trips alone)`,
    )
    .join("\n");
}
