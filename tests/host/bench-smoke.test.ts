// The benchmark's machinery on its smallest layout, once, with no service time: the counts it
// reports must make sense (not its timings).
import { join } from "node:path";
import { zeroProfile } from "xen-sandbox";
import type * as LayoutsModule from "../../bench/dist/layouts";
import type * as RunModule from "../../bench/dist/run";

// Loaded from the compiled benchmark: tests/dist and bench/dist sit side by side at run time.
const bench = (name: string): unknown =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(join(__dirname, "..", "..", "..", "bench", "dist", `${name}.js`));
const { LAYOUTS } = bench("layouts") as typeof LayoutsModule;
const { runBench, samplesPerRun } = bench("run") as typeof RunModule;

let results: RunModule.ScenarioResult[] = [];

/** The pool layout's machinery, on one disk per host: every host of one pool, one trace. */
const SMALL_POOL: LayoutsModule.Layout = {
  name: "3-host pool, 1 disk each",
  pool: true,
  hosts: [{ disksPerVm: [1] }, { disksPerVm: [1] }, { disksPerVm: [1] }],
};

beforeAll(async () => {
  const smallest = LAYOUTS.find((layout) => layout.name === "1 disk");
  if (smallest === undefined) throw new Error('the benchmark has no "1 disk" layout');
  results = await runBench({
    layouts: [smallest, SMALL_POOL],
    runs: () => 1,
    profile: zeroProfile,
    oneWayDelayMs: 0,
    handRolled: true,
  });
}, 180_000);

function scenario(operation: string, layout = "1 disk"): RunModule.ScenarioResult {
  const found = results.find((result) => result.operation === operation && result.layout === layout);
  if (found === undefined) throw new Error(`the benchmark reported no ${operation} scenario`);
  return found;
}

const oursCounts = (operation: string) => scenario(operation).ours.samples[0]?.counts;
const theirCounts = (operation: string) => scenario(operation).handRolled?.samples[0]?.counts;

test("every scenario ran once (refresh: its samples per run, on each side), with a floor only where remote work is needed", () => {
  expect(
    results
      .filter((r) => r.layout === "1 disk")
      .map((r) => r.operation)
      .sort(),
  ).toEqual(["create", "delete", "preview", "refresh", "update"]);
  expect(samplesPerRun("refresh")).toBe(3);
  for (const result of results) {
    const samples = samplesPerRun(result.operation);
    expect(result.ours.samples).toHaveLength(samples);
    if (result.operation !== "preview") expect(result.handRolled?.samples).toHaveLength(samples);
  }
  expect(scenario("preview").floorMs).toBe(0);
  expect(scenario("preview").handRolled).toBeUndefined();
});

test("refresh carries the dynamic-provider host alone on the same states, once per run", () => {
  for (const layout of ["1 disk", SMALL_POOL.name]) {
    const alone = scenario("refresh", layout).hostAloneMs ?? [];
    expect(alone).toHaveLength(1);
    expect(alone[0]).toBeGreaterThan(0);
    expect(alone[0]).toBeLessThan(scenario("refresh", layout).ours.samples[0]?.wallMs ?? 0);
  }
  expect(scenario("create").hostAloneMs).toBeUndefined();
});

test("preview makes no remote call at all", () => {
  expect(oursCounts("preview")).toEqual({ sshConnections: 0, sshExecs: 0, xapiLogins: 0, xapiCalls: 0 });
});

test.each(["create", "refresh", "update", "delete"])(
  "%s: one SSH connection and one XAPI login for the provider process",
  (operation) => {
    const counts = oursCounts(operation);
    expect(counts).toMatchObject({ sshConnections: 1, xapiLogins: 1 });
    expect(counts?.sshExecs).toBeGreaterThanOrEqual(1);
    expect(counts?.xapiCalls).toBeGreaterThan(1);
  },
);

test("the hand-rolled chain dials once per disk and logs in once per xe call", () => {
  // create runs four xe commands (sr-scan, vdi-list, vbd-create, vbd-plug), delete three.
  expect(theirCounts("create")).toMatchObject({ sshConnections: 1, sshExecs: 1, xapiLogins: 4 });
  expect(theirCounts("delete")).toMatchObject({ sshConnections: 1, sshExecs: 1, xapiLogins: 3 });
  expect(theirCounts("refresh")).toMatchObject({ sshConnections: 1, sshExecs: 1, xapiLogins: 1 });
});

test("the provider host's peak RSS was read", () => {
  for (const result of results) expect(result.ours.peakRssKiB).toBeGreaterThan(10 * 1024);
});

describe("a pool: each resource reaches its own host", () => {
  const samples = (operation: string) => scenario(operation, SMALL_POOL.name);

  test("the pool's scenarios all ran, in the layouts' order after the standalone host's", () => {
    expect(results.map((r) => r.layout)).toEqual([
      ...Array.from({ length: 5 }, () => "1 disk"),
      ...Array.from({ length: 5 }, () => SMALL_POOL.name),
    ]);
  });

  test.each(["create", "refresh", "update", "delete"])(
    "%s: one SSH connection and one XAPI login on every host, XAPI calls on every host",
    (operation) => {
      const perHost = samples(operation).ours.samples[0]?.perHost ?? [];
      expect(perHost).toHaveLength(3);
      for (const counts of perHost) {
        expect(counts).toMatchObject({ sshConnections: 1, xapiLogins: 1 });
        expect(counts.xapiCalls).toBeGreaterThan(1);
      }
      // The total is the hosts' sum: nothing counted twice from the one shared trace.
      const total = samples(operation).ours.samples[0]?.counts;
      expect(total).toMatchObject({ sshConnections: 3, xapiLogins: 3 });
      expect(total?.xapiCalls).toBe(perHost.reduce((sum, counts) => sum + counts.xapiCalls, 0));
    },
  );

  test("the hand-rolled chain dials each host once for its one disk", () => {
    const perHost = samples("create").handRolled?.samples[0]?.perHost ?? [];
    expect(perHost).toHaveLength(3);
    for (const counts of perHost) expect(counts).toMatchObject({ sshConnections: 1, xapiLogins: 4 });
  });
});

test("the floor's probe measured each host of each layout once per run, and the floor counts its least", () => {
  const standalone = scenario("create").hostCosts;
  const pool = scenario("create", SMALL_POOL.name).hostCosts;
  expect(standalone).toHaveLength(1);
  expect(pool).toHaveLength(3);
  for (const costs of [...standalone, ...pool]) {
    expect(costs.disks).toBe(1);
    expect(costs.samples).toHaveLength(1);
    for (const step of ["sshSetupMs", "bareExecMs", "udevAddMs", "udevRemoveMs"] as const) {
      expect(costs.least[step]).toBeGreaterThan(0);
    }
  }
  // One measurement per layout, shared by its operations; the floor's first term is the least set-up.
  expect(scenario("delete").hostCosts).toBe(standalone);
  expect(scenario("create").floor.terms[0]).toEqual({
    name: "SSH connection set-up",
    ms: standalone[0]?.least.sshSetupMs,
    source: "probe",
  });
});

test("the provider's time to its first SSH byte is there for every operation that reaches a host", () => {
  for (const operation of ["create", "refresh", "update", "delete"]) {
    const firstByte = scenario(operation).ours.samples[0]?.firstSshByteMs;
    expect(firstByte).toBeGreaterThan(0);
  }
  expect(scenario("preview").ours.samples[0]?.firstSshByteMs).toBeUndefined();
});
