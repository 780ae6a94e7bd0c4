// The run's tally and its printed summary (pure).

export interface Tally {
  seed: number;
  cycles: number;
  operations: Record<string, number>;
  faults: Record<string, number>;
  failures: Record<string, number>;
  drifts: Record<string, number>;
  /** Pieces left on the host after the final converge and destroy. */
  leaks: string[];
  invariantBreaks: string[];
  /** The final converge: resources that did not end in sync, with why. */
  outOfSync: string[];
  /** The final converge: second claimants of a disk (--same-disk), refused as they must be. */
  refusedClaimants: string[];
  elapsedMs: number;
}

export function newTally(seed: number): Tally {
  return {
    seed,
    cycles: 0,
    operations: {},
    faults: {},
    failures: {},
    drifts: {},
    leaks: [],
    invariantBreaks: [],
    outOfSync: [],
    refusedClaimants: [],
    elapsedMs: 0,
  };
}

export function count(into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1;
}

const line = (counts: Record<string, number>): string => {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  return `${total}${entries.length === 0 ? "" : ` (${entries.map(([k, n]) => `${k} ${n}`).join(", ")})`}`;
};

export function formatSummary(tally: Tally): string {
  const shown = (items: string[]) => items.slice(0, 10).map((item) => `    ${item}`);
  return [
    `chaos run, seed ${tally.seed}: ${tally.cycles} cycles in ${(tally.elapsedMs / 1000).toFixed(1)} s`,
    `  operations: ${line(tally.operations)}`,
    `  faults injected: ${line(tally.faults)}`,
    `  drift: ${line(tally.drifts)}`,
    `  failures: ${line(tally.failures)}`,
    `  out of sync after the final converge: ${tally.outOfSync.length}`,
    ...shown(tally.outOfSync),
    ...(tally.refusedClaimants.length === 0
      ? []
      : [`  refused as a disk's second owner (as they must be): ${tally.refusedClaimants.length}`]),
    ...shown(tally.refusedClaimants),
    `  leaks: ${tally.leaks.length}`,
    ...shown(tally.leaks),
    `  invariant breaks: ${tally.invariantBreaks.length}`,
    ...shown(tally.invariantBreaks),
  ].join("\n");
}

/** The run passed: nothing leaked, no invariant broke, all in sync at the end. */
export function passed(tally: Tally): boolean {
  return tally.leaks.length === 0 && tally.invariantBreaks.length === 0 && tally.outOfSync.length === 0;
}
