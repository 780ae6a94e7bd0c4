// The benchmark's floor: the least time the host's own serialization allows, on cases small
// enough to work out by hand.
import { join } from "node:path";
import type * as FloorModule from "../../bench/dist/floor";

// Loaded from the compiled benchmark: tests/dist and bench/dist sit side by side at run time.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { floorOf, SSH_CONNECT_ROUND_TRIPS, SSH_EXEC_ROUND_TRIPS } = require(
  join(__dirname, "..", "..", "..", "bench", "dist", "floor.js"),
) as typeof FloorModule;

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

  test("the network adds the SSH set-up and exec round trips and one per call", () => {
    const rtt = 2 * 3;
    const slow = floorOf("delete", oneHost(1), profile, { oneWayDelayMs: 3 }).ms;
    const fast = floorOf("delete", oneHost(1), profile, noNetwork).ms;
    // set-up, login (channel + call), lookup, unplug, destroy, exec, scan
    const roundTrips = SSH_CONNECT_ROUND_TRIPS + 2 + 1 + 1 + 1 + SSH_EXEC_ROUND_TRIPS + 1;
    expect(slow - fast).toBe(roundTrips * rtt);
  });

  test("create changes nothing before both looks: the rules exec follows them", () => {
    const rtt = 2 * 3;
    const withNetwork = floorOf("create", oneHost(1), profile, { oneWayDelayMs: 3 });
    const names = withNetwork.terms.map((term) => term.name);
    expect(names.indexOf("one SSH exec: rules + trigger + wait")).toBe(
      names.indexOf("max(one SSH exec: dom0 look, XAPI login + lookup)") + 1,
    );
    expect(withNetwork.terms.find((term) => term.name.startsWith("one SSH exec: rules"))?.ms).toBe(2 * rtt);
  });

  test("every term is named and the terms add up to the floor", () => {
    const floor = floorOf("create", oneHost(4, 4), profile, { oneWayDelayMs: 1 });
    expect(floor.terms.every((term) => term.name.length > 0 && term.ms >= 0)).toBe(true);
    expect(floor.terms.reduce((sum, term) => sum + term.ms, 0)).toBe(floor.ms);
  });
});
