// The CI slice of the seeded chaos run (`npm run chaos:ci` runs the same slice outside Jest):
// seed 1, 10 cycles of random operations, faults, cuts, provider kills and drift against a host
// sandbox, then a final clean converge. Nothing may leak, no invariant may break, all ends in sync.
import { join } from "node:path";
import type * as RunModule from "../../chaos/dist/run";
import type * as SummaryModule from "../../chaos/dist/summary";

// Loaded from the compiled chaos driver: tests/dist and chaos/dist sit side by side at run time.
const chaos = (name: string): unknown =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(join(__dirname, "..", "..", "..", "chaos", "dist", `${name}.js`));
const { runChaos } = chaos("run") as typeof RunModule;
const { formatSummary } = chaos("summary") as typeof SummaryModule;

test("chaos slice: seed 1, 10 cycles end with no leak, no invariant break, all in sync", async () => {
  const tally = await runChaos({ seed: 1, cycles: 10, sameDisk: false });
  console.log(formatSummary(tally));
  expect(tally.cycles).toBe(10);
  // The slice must actually stress the provider: faults struck and operations failed.
  expect(Object.values(tally.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  expect(Object.values(tally.failures).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  expect({ leaks: tally.leaks, invariantBreaks: tally.invariantBreaks, outOfSync: tally.outOfSync }).toEqual({
    leaks: [],
    invariantBreaks: [],
    outOfSync: [],
  });
}, 300_000);
