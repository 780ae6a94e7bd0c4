// The benchmark's report of what the host's sshd costs alone, beside the floor's round trips.
import { join } from "node:path";
import type * as SummaryModule from "../../bench/dist/summary";

// Loaded from the compiled benchmark: tests/dist and bench/dist sit side by side at run time.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { hostCostsText } = require(
  join(__dirname, "..", "..", "..", "bench", "dist", "summary.js"),
) as typeof SummaryModule;

describe("hostCostsText", () => {
  const standalone = { sshSetupMs: 111.4, bareExecMs: 28.2, samples: 5 };
  const pool = { sshSetupMs: 130, bareExecMs: 31, samples: 5 };

  test("one line per set of hosts, naming each layout once, with the floor's round trips beside", () => {
    const text = hostCostsText(
      [
        { layout: "1 disk", hostCosts: standalone },
        { layout: "1 disk", hostCosts: standalone },
        { layout: "4 disks on 1 VM", hostCosts: standalone },
        { layout: "3-host pool, 8 disks each", hostCosts: pool },
      ],
      1,
    );
    expect(text.split("\n")).toEqual([
      'sshd alone on the hosts of "1 disk", "4 disks on 1 VM" (a warm client, median of 5): connection ' +
        "set-up 111 ms, exec of `true` 28 ms; the floor counts 6 ms and 4 ms for them (round trips alone)",
      'sshd alone on the hosts of "3-host pool, 8 disks each" (a warm client, median of 5): connection ' +
        "set-up 130 ms, exec of `true` 31 ms; the floor counts 6 ms and 4 ms for them (round trips alone)",
    ]);
  });
});
