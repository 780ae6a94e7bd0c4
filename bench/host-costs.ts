/**
 * Pure: what the host itself costs, as the floor's probe (floor-probe.ts) measured it, and the
 * least of the samples, which is what the floor counts. A minimum, not a median: the floor must
 * stay below what any client can reach, and a quiet moment of the machine is the host's real
 * cost, a busy one is not.
 */

/** One probe of one host: a minimal client's steps, each timed alone. */
export interface ProbeSample {
  /** From dialling (through the latency proxy) to an authenticated connection. */
  readonly sshSetupMs: number;
  /** `exec true` on the open connection, from the request to the channel's close. */
  readonly bareExecMs: number;
  /** One exec: write the rules of the host's disks in the layout, reload, trigger them, wait for the links. */
  readonly udevAddMs: number;
  /** One exec: remove those rules, reload, trigger the disks, wait for the links to go. */
  readonly udevRemoveMs: number;
}

export const PROBE_STEPS: readonly (keyof ProbeSample)[] = [
  "sshSetupMs",
  "bareExecMs",
  "udevAddMs",
  "udevRemoveMs",
];

/** One host of a layout: every probe sample of the bench's runs, and their least. */
export interface HostCosts {
  /** The layout's disks on this host (the udev round's size). */
  readonly disks: number;
  readonly samples: readonly ProbeSample[];
  /** Each step's least over the samples (steps apart: the least set-up may come from another run than the least exec). */
  readonly least: ProbeSample;
}

export function hostCostsOf(disks: number, samples: readonly ProbeSample[]): HostCosts {
  return { disks, samples: [...samples], least: leastOf(samples) };
}

/** Each step's minimum over the samples. */
export function leastOf(samples: readonly ProbeSample[]): ProbeSample {
  if (samples.length === 0) throw new Error("internal error: the floor's probe took no sample");
  const least = (step: keyof ProbeSample) => Math.min(...samples.map((sample) => sample[step]));
  return {
    sshSetupMs: least("sshSetupMs"),
    bareExecMs: least("bareExecMs"),
    udevAddMs: least("udevAddMs"),
    udevRemoveMs: least("udevRemoveMs"),
  };
}
