// The benchmark's summary: median and least of the runs, the provider's time to its first SSH
// byte, and the notes that say where each term of the floor comes from.
import { join } from "node:path";
import type * as RunModule from "../../bench/dist/run";
import type * as SummaryModule from "../../bench/dist/summary";

// Loaded from the compiled benchmark: tests/dist and bench/dist sit side by side at run time.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { floorNotes, toRows } = require(
  join(__dirname, "..", "..", "..", "bench", "dist", "summary.js"),
) as typeof SummaryModule;

const counts = { sshConnections: 1, sshExecs: 2, xapiLogins: 1, xapiCalls: 9 };
const sample = (wallMs: number, firstSshByteMs?: number): RunModule.Sample => ({
  wallMs,
  counts,
  perHost: [counts],
  ...(firstSshByteMs === undefined ? {} : { firstSshByteMs, readyMs: firstSshByteMs - 100 }),
});
const costs = {
  disks: 1,
  samples: [
    { sshSetupMs: 110, bareExecMs: 12, udevAddMs: 320, udevRemoveMs: 290 },
    { sshSetupMs: 95, bareExecMs: 15, udevAddMs: 300, udevRemoveMs: 310 },
    { sshSetupMs: 130, bareExecMs: 11, udevAddMs: 340, udevRemoveMs: 280 },
  ],
  least: { sshSetupMs: 95, bareExecMs: 11, udevAddMs: 300, udevRemoveMs: 280 },
};
const createFloor = {
  ms: 1000,
  terms: [
    { name: "SSH connection set-up", ms: 95, source: "probe" as const },
    { name: "SR.scan (serialized per SR)", ms: 905, source: "profile" as const },
  ],
};

function result(
  operation: "create" | "preview",
  floor: RunModule.ScenarioResult["floor"],
): RunModule.ScenarioResult {
  const firstByte = (ms: number) => (operation === "preview" ? undefined : ms);
  return {
    layout: "1 disk",
    operation,
    runs: 3,
    floorMs: floor.ms,
    floor,
    ours: {
      samples: [sample(1300, firstByte(400)), sample(1100, firstByte(380)), sample(1200, firstByte(500))],
      peakRssKiB: 81920,
    },
    ...(operation === "preview"
      ? {}
      : { handRolled: { samples: [sample(1500), sample(1400), sample(2600)] } }),
    hostCosts: [costs],
  };
}

describe("toRows", () => {
  test("median and least of ours and of the hand-rolled chain; the ratio and speed-up on medians", () => {
    const [row] = toRows([result("create", createFloor)]);
    expect(row).toMatchObject({
      medianMs: 1200,
      minMs: 1100,
      floorMs: 1000,
      firstSshByteMs: 400,
      readyMs: 300,
    });
    expect(row?.ratioToFloor).toBeCloseTo(1.2);
    expect(row?.handRolled).toMatchObject({ medianMs: 1500, minMs: 1400, speedUp: 1.25 });
  });

  test("preview sent no SSH byte and has no floor: neither figure is made up", () => {
    const [row] = toRows([result("preview", { ms: 0, terms: [] })]);
    expect(row?.firstSshByteMs).toBeUndefined();
    expect(row?.ratioToFloor).toBeUndefined();
  });
});

describe("floorNotes", () => {
  test("per layout: each host's least / median, then each operation's terms tagged with their source", () => {
    const text = floorNotes([result("create", createFloor), result("preview", { ms: 0, terms: [] })], 1);
    expect(text.split("\n").slice(1)).toEqual([
      '"1 disk"',
      "  host 1, least / median of 3: SSH set-up 95 / 110 ms, exec of `true` 11 / 12 ms, " +
        "udev round for 1 disk 300 / 320 ms, its removal 280 / 290 ms",
      "  create  1000 ms = SSH connection set-up 95 [probe] + SR.scan (serialized per SR) 905 [profile]",
    ]);
    expect(text.split("\n")[0]).toMatch(
      /\[probe\] measured .* least .*\[profile\] the simulator's .*1 ms each way/,
    );
  });

  test("under refresh, the dynamic-provider host alone, said to be outside the floor", () => {
    const refreshFloor = {
      ms: 140,
      terms: [{ name: "SSH connection set-up", ms: 95, source: "probe" as const }],
    };
    const refresh = {
      ...result("create", refreshFloor),
      operation: "refresh" as const,
      hostAloneMs: [30, 18, 22],
    };
    const lines = floorNotes([refresh], 1).split("\n");
    expect(lines.at(-2)).toBe("  refresh 140 ms = SSH connection set-up 95 [probe]");
    expect(lines.at(-1)).toMatch(
      /^ +not in the floor: the dynamic-provider host alone .* 22 \/ 18 ms \(median \/ least\)$/,
    );
  });
});
