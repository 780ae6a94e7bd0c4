// The chaos run's pure parts: the seeded PRNG and the cycle plan (same seed, same run), the
// invariants over a host's pieces, the pieces listing parser, and the command line.
import { join } from "node:path";
import type { SandboxDisk, SimulatorState } from "xen-sandbox";
import { parsePieces } from "xen-sandbox";
import type * as InvariantsModule from "../../chaos/dist/invariants";
import type * as MainModule from "../../chaos/dist/main";
import type * as PlanModule from "../../chaos/dist/plan";
import type * as PrngModule from "../../chaos/dist/prng";

// Loaded from the compiled chaos driver: tests/dist and chaos/dist sit side by side at run time.
const chaos = (name: string): unknown =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(join(__dirname, "..", "..", "..", "chaos", "dist", `${name}.js`));
const { checkInvariants, checkUsbInvariants } = chaos("invariants") as typeof InvariantsModule;
const { parseChaosArgs } = chaos("main") as typeof MainModule;
const { planCycle } = chaos("plan") as typeof PlanModule;
const { seededRandom } = chaos("prng") as typeof PrngModule;

describe("seeded PRNG and plan", () => {
  const plan = (seed: number) => {
    const random = seededRandom(seed);
    const held = [false, true, true, false];
    return Array.from({ length: 50 }, () => planCycle(random, held, []));
  };

  test("the same seed plans the same cycles; another seed, others", () => {
    expect(plan(1)).toEqual(plan(1));
    expect(plan(2)).not.toEqual(plan(1));
  });

  test("a resource the engine does not hold can only be created; drift only hits held ones", () => {
    for (const cycle of plan(3)) {
      if (cycle.resource === 0 || cycle.resource === 3) expect(cycle.operation).toBe("create");
      if (cycle.drift !== undefined) expect([1, 2]).toContain(cycle.drift.resource);
    }
  });
});

describe("invariants", () => {
  const disks: SandboxDisk[] = [
    {
      bus: "sata",
      serial: "S1",
      wwn: "0x1",
      byId: "ata-S1",
      kernelName: "loop7",
      sizeBytes: 1,
      inUse: false,
    },
    {
      bus: "sata",
      serial: "S2",
      wwn: "0x2",
      byId: "ata-S2",
      kernelName: "loop8",
      sizeBytes: 1,
      inUse: false,
    },
  ];
  const state = (vbds: SimulatorState["vbds"]): SimulatorState => ({
    host: { ref: "OpaqueRef:h", uuid: "h", nameLabel: "h" },
    hosts: [{ ref: "OpaqueRef:h", uuid: "h", nameLabel: "h", isMaster: true, removableSr: "OpaqueRef:sr" }],
    vms: [],
    srs: [{ ref: "OpaqueRef:sr", uuid: "sr", nameLabel: "Removable storage", type: "udev" }],
    vdis: [
      {
        ref: "OpaqueRef:vdi",
        uuid: "vdi-1",
        nameLabel: "",
        sr: "OpaqueRef:sr",
        location: "/dev/xapi/block/loop7",
        virtualSize: 1,
      },
    ],
    vbds,
    pusbs: [],
    vusbs: [],
    sessions: 0,
  });
  const vbd = (uuid: string) => ({
    ref: `OpaqueRef:${uuid}`,
    uuid,
    vm: "OpaqueRef:vm",
    vdi: "OpaqueRef:vdi",
    userdevice: "1",
    device: "xvdb",
    currentlyAttached: true,
    otherConfig: { "xen-passthrough": "tag" },
  });
  const listing =
    "\u0000rule /etc/udev/rules.d/65-xen-passthrough-serial-S1-0.rules\n# pulumi-xen-passthrough rule v1: serial=S1\n" +
    "\u0000link /dev/xapi/block/loop7 -> ../../loop7\n";

  test("pieces of a disk a held resource names are owned; without it they are orphans", () => {
    const pieces = parsePieces(listing, state([vbd("vbd-1")]));
    const held = [{ name: "a", serial: "S1", state: { vbdUuid: "vbd-1" } }];
    expect(checkInvariants(pieces, disks, held)).toEqual({ ownershipBreaks: [], orphans: [] });
    expect(checkInvariants(pieces, disks, []).orphans).toEqual([
      "rule /etc/udev/rules.d/65-xen-passthrough-serial-S1-0.rules",
      "symlink /dev/xapi/block/loop7",
      "VDI vdi-1 at /dev/xapi/block/loop7",
      "tagged VBD vbd-1",
    ]);
  });

  test("a VDI at a stable name belongs to the disk its symlink points at", () => {
    const stable = state([vbd("vbd-1")]);
    const location = "/dev/xapi/block/xp-serial-S1";
    const pieces = parsePieces(`\u0000link ${location} -> ../../loop7\n`, {
      ...stable,
      vdis: stable.vdis.map((vdi) => ({ ...vdi, location })),
    });
    const held = [{ name: "a", serial: "S1", state: undefined }];
    expect(checkInvariants(pieces, disks, held)).toEqual({ ownershipBreaks: [], orphans: [] });
    expect(checkInvariants(pieces, disks, []).orphans).toEqual([
      `symlink ${location}`,
      `VDI vdi-1 at ${location}`,
      "tagged VBD vbd-1",
    ]);
  });

  test("two tagged VBDs on one disk, or two resources holding it, break ownership", () => {
    const pieces = parsePieces(listing, state([vbd("vbd-1"), vbd("vbd-2")]));
    const held = [
      { name: "a", serial: "S1", state: { vbdUuid: "vbd-1" } },
      { name: "b", serial: "S1", state: { vbdUuid: "vbd-2" } },
    ];
    expect(checkInvariants(pieces, disks, held).ownershipBreaks).toEqual([
      "disk S1: 2 tagged VBDs",
      "disk S1: held by a and b",
    ]);
  });
});

describe("USB invariants", () => {
  const pusb = (uuid: string, passthroughEnabled: boolean, enabledBy?: string) => ({
    uuid,
    usbGroup: `group-${uuid}`,
    passthroughEnabled,
    otherConfig: enabledBy === undefined ? {} : { "xen-passthrough-enabled-by": enabledBy },
  });
  const vusb = (uuid: string, group: string, owner?: string) => ({
    uuid,
    usbGroup: group,
    otherConfig: owner === undefined ? {} : { "xen-passthrough-owner": owner },
  });

  test("a VUSB or an enabled PUSB is owned only by a held resource's owner; an idle PUSB is nobody's", () => {
    const pieces = {
      pusbs: [pusb("p1", true, "chaos/run/usb-0"), pusb("p2", false)],
      vusbs: [vusb("v1", "group-p1", "chaos/run/usb-0")],
    };
    expect(checkUsbInvariants(pieces, ["chaos/run/usb-0"])).toEqual({ ownershipBreaks: [], orphans: [] });
    expect(checkUsbInvariants(pieces, []).orphans).toEqual([
      "VUSB v1 (owner chaos/run/usb-0)",
      "PUSB p1 (passthrough on, enabled by chaos/run/usb-0)",
    ]);
  });

  test("an untagged VUSB or enabled PUSB is an orphan; two VUSBs on one group break ownership", () => {
    const pieces = {
      pusbs: [pusb("p1", true)],
      vusbs: [vusb("v1", "group-p1"), vusb("v2", "group-p1", "chaos/run/usb-0")],
    };
    expect(checkUsbInvariants(pieces, ["chaos/run/usb-0"])).toEqual({
      ownershipBreaks: ["PUSB p1: 2 VUSBs on its group"],
      orphans: ["VUSB v1 (owner none)", "PUSB p1 (passthrough on, enabled by none)"],
    });
  });
});

describe("command line", () => {
  test("reads --seed, --cycles, --same-disk; refuses anything else", () => {
    expect(parseChaosArgs(["--seed", "4", "--cycles", "300", "--same-disk"])).toEqual({
      seed: 4,
      cycles: 300,
      sameDisk: true,
      quiet: false,
    });
    expect(() => parseChaosArgs(["--seed", "x"])).toThrow("--seed needs a whole number, got x");
    expect(() => parseChaosArgs(["--cycle", "3"])).toThrow("unknown argument --cycle");
  });
});
