// The order of the benchmark's runs: round the layouts, so a slower stretch of the machine lands
// on one run of each layout instead of on every run of one.
import { join } from "node:path";
import type * as RunModule from "../../bench/dist/run";

// Loaded from the compiled benchmark: tests/dist and bench/dist sit side by side at run time.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { roundRobin } = require(
  join(__dirname, "..", "..", "..", "bench", "dist", "run.js"),
) as typeof RunModule;

/** Layouts named by their index, with these numbers of runs; the order as "layout.run". */
const layouts = (runs: number[]) => runs.map((count, index) => ({ name: String(index), runs: count }));
const order = (runs: number[]) => roundRobin(layouts(runs)).map(({ of, run }) => `${of.name}.${run}`);

test("run 1 of every layout comes before run 2 of any", () => {
  expect(order([3, 3])).toEqual(["0.1", "1.1", "0.2", "1.2", "0.3", "1.3"]);
});

test("a layout with fewer runs drops out of the later rounds; every run happens once", () => {
  expect(order([1, 3, 2])).toEqual(["0.1", "1.1", "2.1", "1.2", "2.2", "1.3"]);
  expect(roundRobin(layouts([5, 5, 5, 5]))).toHaveLength(20);
});

test("no layouts, no runs", () => {
  expect(roundRobin([])).toEqual([]);
  expect(roundRobin(layouts([0]))).toEqual([]);
});
