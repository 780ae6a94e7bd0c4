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
const { runBench } = bench("run") as typeof RunModule;

let results: RunModule.ScenarioResult[] = [];

beforeAll(async () => {
  const smallest = LAYOUTS.find((layout) => layout.name === "1 disk");
  if (smallest === undefined) throw new Error('the benchmark has no "1 disk" layout');
  results = await runBench({
    layouts: [smallest],
    runs: () => 1,
    profile: zeroProfile,
    oneWayDelayMs: 0,
    handRolled: true,
  });
}, 60_000);

function scenario(operation: string): RunModule.ScenarioResult {
  const found = results.find((result) => result.operation === operation);
  if (found === undefined) throw new Error(`the benchmark reported no ${operation} scenario`);
  return found;
}

const oursCounts = (operation: string) => scenario(operation).ours.samples[0]?.counts;
const theirCounts = (operation: string) => scenario(operation).handRolled?.samples[0]?.counts;

test("every scenario ran once, with a floor only where remote work is needed", () => {
  expect(results.map((r) => r.operation).sort()).toEqual([
    "create",
    "delete",
    "preview",
    "refresh",
    "update",
  ]);
  for (const result of results) expect(result.ours.samples).toHaveLength(1);
  expect(scenario("preview").floorMs).toBe(0);
  expect(scenario("preview").handRolled).toBeUndefined();
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
