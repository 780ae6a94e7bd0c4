// The benchmark's floor: the least time the host's own serialization allows plus what the host's
// sshd and udevd cost as the floor's probe measured them, on cases small enough to work out by
// hand; and why it stays a lower bound.
import { join } from "node:path";
import type * as FloorModule from "../../bench/dist/floor";
import type * as HostCostsModule from "../../bench/dist/host-costs";

// Loaded from the compiled benchmark: tests/dist and bench/dist sit side by side at run time.
const bench = (name: string): unknown =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(join(__dirname, "..", "..", "..", "bench", "dist", `${name}.js`));
const { floorOf: floorWith } = bench("floor") as typeof FloorModule;
const { leastOf, hostCostsOf } = bench("host-costs") as typeof HostCostsModule;
type ProbeSample = HostCostsModule.ProbeSample;
type Shape = FloorModule.Shape;
type Operation = FloorModule.Operation;

const FREE_HOST: ProbeSample = { sshSetupMs: 0, bareExecMs: 0, udevAddMs: 0, udevRemoveMs: 0 };
/** The floor with a host that costs nothing by itself: the profile's chains alone. */
const floorOf = (
  operation: Operation,
  shape: Shape,
  p: FloorModule.FloorProfile,
  network: FloorModule.Network,
) =>
  floorWith(
    operation,
    shape,
    p,
    network,
    shape.hosts.map(() => FREE_HOST),
  );

const profile = {
  baseLatencyMs: 10,
  loginMs: { remote: 1000, local: 5 },
  methodExtraMs: { "VBD.plug": 1000, "VBD.unplug": 700, "SR.scan": 500, "VDI.forget": 40, "VBD.create": 0 },
};
const noNetwork = { oneWayDelayMs: 0 };
const oneHost = (...disksPerVm: number[]) => ({ hosts: [{ disksPerVm }] });

describe("floorOf", () => {
  test("preview needs no remote call: its floor is zero", () => {
    expect(floorOf("preview", oneHost(4, 4), profile, { oneWayDelayMs: 5 })).toEqual({ ms: 0, terms: [] });
  });

  test("create of one disk without network: login + lookup, one scan, a lookup, create, plug", () => {
    // login (10 + 5) + lookup 10 | scan 10 + 500 | lookup 10 | create 10 + plug 1000 + plug call 10
    expect(floorOf("create", oneHost(1), profile, noNetwork).ms).toBe(25 + 510 + 10 + 1020);
  });

  test("on xapi that re-scans after sm introduced VDIs (8.3), the create's scan counts its two sm passes", () => {
    const twoPasses = { hosts: [{ disksPerVm: [1], scanPasses: 2 }] };
    const floor = floorOf("create", twoPasses, profile, noNetwork);
    expect(floor.ms - floorOf("create", oneHost(1), profile, noNetwork).ms).toBe(500);
    expect(floor.terms.map((term) => term.name)).toContain(
      "SR.scan: 2 sm passes (xapi re-scans after sm introduced VDIs)",
    );
    // Only the scan that finds new disks: refresh, update and delete have none.
    for (const operation of ["refresh", "update", "delete"] as const)
      expect(floorOf(operation, twoPasses, profile, noNetwork).ms).toBe(
        floorOf(operation, oneHost(1), profile, noNetwork).ms,
      );
  });

  test("plugs on one VM add up; plugs on different VMs do not", () => {
    const oneVm = floorOf("create", oneHost(4), profile, noNetwork).ms;
    const fourVms = floorOf("create", oneHost(1, 1, 1, 1), profile, noNetwork).ms;
    expect(oneVm - fourVms).toBe(3 * 1000);
    expect(fourVms).toBe(floorOf("create", oneHost(1), profile, noNetwork).ms);
  });

  test("one scan serves every disk: the floor does not grow with disks spread over VMs", () => {
    const sixteen = floorOf("create", oneHost(4, 4, 4, 4), profile, noNetwork).ms;
    expect(sixteen).toBe(floorOf("create", oneHost(4), profile, noNetwork).ms);
  });

  test("a slow global VBD.create mutex becomes the longest chain", () => {
    const slowCreate = { ...profile, methodExtraMs: { ...profile.methodExtraMs, "VBD.create": 300 } };
    // 8 disks on 8 VMs: 8 creates in a row (2400) + one plug (1000) beat 1 create + 1 plug.
    const floor = floorOf("create", oneHost(1, 1, 1, 1, 1, 1, 1, 1), slowCreate, noNetwork);
    expect(floor.ms).toBe(25 + 510 + 10 + 10 + 8 * 300 + 1000 + 10);
  });

  test("hosts work in parallel: two equal hosts cost what one does", () => {
    const one = floorOf("delete", oneHost(4, 4), profile, noNetwork).ms;
    const two = floorOf(
      "delete",
      { hosts: [{ disksPerVm: [4, 4] }, { disksPerVm: [4, 4] }] },
      profile,
      noNetwork,
    );
    expect(two.ms).toBe(one);
  });

  test("the slowest host sets the floor", () => {
    const floor = floorOf(
      "delete",
      { hosts: [{ disksPerVm: [1] }, { disksPerVm: [3] }] },
      profile,
      noNetwork,
    );
    expect(floor.ms).toBe(floorOf("delete", oneHost(3), profile, noNetwork).ms);
  });

  test("a pool's hosts work in parallel, but every create queues on the master's one VBD.create mutex", () => {
    const slowCreate = { ...profile, methodExtraMs: { ...profile.methodExtraMs, "VBD.create": 300 } };
    const perHost = { disksPerVm: [1, 1, 1, 1] };
    const standalone = floorOf("create", { hosts: [perHost, perHost, perHost] }, slowCreate, noNetwork);
    const pool = floorOf("create", { pool: true, hosts: [perHost, perHost, perHost] }, slowCreate, noNetwork);
    // Standalone: 4 creates in a row on each host (1200) + one plug; in a pool, all 12 (3600).
    expect(standalone.ms).toBe(25 + 510 + 10 + 10 + 4 * 300 + 1000 + 10);
    expect(pool.ms).toBe(25 + 510 + 10 + 10 + 12 * 300 + 1000 + 10);
  });

  test("with no VBD.create cost, a pool's floor is its slowest host's", () => {
    const hosts = [{ disksPerVm: [4, 4] }, { disksPerVm: [4, 4] }, { disksPerVm: [4, 4] }];
    for (const operation of ["create", "refresh", "update", "delete"] as const) {
      expect(floorOf(operation, { pool: true, hosts }, profile, noNetwork).ms).toBe(
        floorOf(operation, oneHost(4, 4), profile, noNetwork).ms,
      );
    }
  });

  test("refresh does not grow with the number of disks", () => {
    const one = floorOf("refresh", oneHost(1), profile, noNetwork).ms;
    expect(floorOf("refresh", oneHost(4, 4, 4, 4), profile, noNetwork).ms).toBe(one);
    expect(one).toBe(10 + 5 + 10);
  });

  test("update re-plugs: unplug and plug of every disk on the busiest VM", () => {
    const floor = floorOf("update", oneHost(2, 1), profile, noNetwork);
    expect(floor.ms).toBe(25 + (10 + 2 * (700 + 1000) + 10) + 2 * 10);
  });

  test("delete: unplugs, destroy, one exec, then the cheaper of a scan and a VDI.forget", () => {
    expect(floorOf("delete", oneHost(2), profile, noNetwork).ms).toBe(25 + (10 + 1400) + 10 + 0 + 50);
    const scanOnly = { ...profile, methodExtraMs: { ...profile.methodExtraMs, "VDI.forget": 600 } };
    expect(floorOf("delete", oneHost(2), scanOnly, noNetwork).ms).toBe(25 + (10 + 1400) + 10 + 0 + 510);
  });

  test("the network adds one round trip per XAPI call, none to the measured SSH and udev steps", () => {
    const rtt = 2 * 3;
    const measured = [{ sshSetupMs: 100, bareExecMs: 1, udevAddMs: 300, udevRemoveMs: 200 }];
    const slow = floorWith("delete", oneHost(1), profile, { oneWayDelayMs: 3 }, measured).ms;
    const fast = floorWith("delete", oneHost(1), profile, noNetwork, measured).ms;
    // login (channel + call), lookup, unplug, destroy, scan: the probe's figures already hold
    // the proxy's round trips of the SSH set-up and the udev exec.
    expect(slow - fast).toBe((2 + 1 + 1 + 1 + 1) * rtt);
  });

  test("create changes nothing before both looks: the measured udev round follows them", () => {
    const measured = [{ sshSetupMs: 100, bareExecMs: 20, udevAddMs: 300, udevRemoveMs: 200 }];
    const floor = floorWith("create", oneHost(1), profile, { oneWayDelayMs: 3 }, measured);
    expect(floor.terms.map((term) => [term.source, term.ms]).slice(0, 3)).toEqual([
      ["probe", 100],
      // login (6 + 6 + 10 + 5) + lookup (6 + 10) beat the exec of 20
      ["profile", 43],
      ["probe", 300],
    ]);
  });

  test("every term is named and the terms add up to the floor", () => {
    const floor = floorOf("create", oneHost(4, 4), profile, { oneWayDelayMs: 1 });
    expect(floor.terms.every((term) => term.name.length > 0 && term.ms >= 0)).toBe(true);
    expect(floor.terms.reduce((sum, term) => sum + term.ms, 0)).toBe(floor.ms);
  });
});

describe("the measured terms keep the floor a lower bound", () => {
  /** A deterministic stream of samples (no flaky seeds): linear congruential, 31 bits. */
  function samplesOf(seed: number, count: number): ProbeSample[] {
    let state = seed;
    const next = (low: number, high: number) => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return low + (state / 2 ** 31) * (high - low);
    };
    return Array.from({ length: count }, () => ({
      sshSetupMs: next(80, 140),
      bareExecMs: next(8, 30),
      udevAddMs: next(150, 600),
      udevRemoveMs: next(120, 500),
    }));
  }

  /** The steps a client of each operation must take on the host, in one probe's figures. */
  const stepsOf: Record<Exclude<Operation, "preview">, (sample: ProbeSample) => number> = {
    create: (s) => s.sshSetupMs + s.bareExecMs + s.udevAddMs,
    refresh: (s) => s.sshSetupMs + s.bareExecMs,
    update: (s) => s.sshSetupMs + s.bareExecMs,
    delete: (s) => s.sshSetupMs + s.udevRemoveMs,
  };
  const free = { baseLatencyMs: 0, loginMs: { remote: 0, local: 0 }, methodExtraMs: {} };

  test("each step's least is the minimum of its samples, steps taken apart", () => {
    const samples = [
      { sshSetupMs: 90, bareExecMs: 30, udevAddMs: 400, udevRemoveMs: 300 },
      { sshSetupMs: 120, bareExecMs: 10, udevAddMs: 350, udevRemoveMs: 310 },
    ];
    expect(leastOf(samples)).toEqual({ sshSetupMs: 90, bareExecMs: 10, udevAddMs: 350, udevRemoveMs: 300 });
    expect(hostCostsOf(2, samples)).toEqual({ disks: 2, samples, least: leastOf(samples) });
    expect(() => leastOf([])).toThrow(/no sample/);
  });

  test.each(["create", "refresh", "update", "delete"] as const)(
    "%s: with a free profile, the floor never exceeds the steps of any single probe",
    (operation) => {
      for (let seed = 1; seed <= 50; seed++) {
        const samples = samplesOf(seed, 5);
        const floor = floorWith(operation, oneHost(4), free, noNetwork, [leastOf(samples)]).ms;
        // A median, a mean or a round trip counted on top of a measured step would break this.
        for (const sample of samples) expect(floor).toBeLessThanOrEqual(stepsOf[operation](sample) + 1e-9);
        expect(floor).toBeGreaterThan(0);
      }
    },
  );

  test.each(["create", "refresh", "update", "delete"] as const)(
    "%s: the floor is at most the host's steps plus the profile's chain, and at least the larger of the two",
    (operation) => {
      const least = leastOf(samplesOf(7, 5));
      const both = floorWith(operation, oneHost(2, 1), profile, noNetwork, [least]).ms;
      const hostOnly = floorWith(operation, oneHost(2, 1), free, noNetwork, [least]).ms;
      const profileOnly = floorOf(operation, oneHost(2, 1), profile, noNetwork).ms;
      expect(both).toBeLessThanOrEqual(hostOnly + profileOnly + 1e-9);
      expect(both).toBeGreaterThanOrEqual(Math.max(hostOnly, profileOnly));
    },
  );

  test("every term names its source, and a measured term is the least of the samples", () => {
    const samples = samplesOf(3, 5);
    const floor = floorWith("create", oneHost(1), free, noNetwork, [leastOf(samples)]);
    expect(floor.terms.every((term) => term.source === "probe" || term.source === "profile")).toBe(true);
    const setUp = floor.terms.find((term) => term.name === "SSH connection set-up");
    expect(setUp).toMatchObject({ source: "probe", ms: Math.min(...samples.map((s) => s.sshSetupMs)) });
  });

  test("each host's chain uses that host's own measured costs: the slowest host sets the floor", () => {
    const fast = { sshSetupMs: 50, bareExecMs: 5, udevAddMs: 100, udevRemoveMs: 100 };
    const slow = { sshSetupMs: 150, bareExecMs: 5, udevAddMs: 600, udevRemoveMs: 100 };
    const shape = { hosts: [{ disksPerVm: [1] }, { disksPerVm: [1] }] };
    const floor = floorWith("create", shape, free, noNetwork, [fast, slow]);
    expect(floor.ms).toBe(150 + 5 + 600);
    expect(() => floorWith("create", shape, free, noNetwork, [fast])).toThrow(/host 2/);
  });
});
