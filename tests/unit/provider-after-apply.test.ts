// The host as a successful apply left it, derived without a second look.
import { NO_BOOT_REPAIR } from "#provider/core/boot-repair.js";
import { dom0FilesOf, inventoryOfFiles } from "#provider/core/dom0-files.js";
import type { Dom0Inventory } from "#provider/core/dom0-inventory.js";
import { inventoryAfterChange, snapshotAfterVbdChanges } from "#provider/lifecycle/after-apply.js";
import type { VbdRecord, WithRef } from "#provider/xapi/records.js";

const inventory: Dom0Inventory = {
  xensource: { INSTALLATION_UUID: "host-uuid" },
  rootDevNumber: "8:1",
  mounts: new Map(),
  swaps: [],
  disks: [],
  xapiBlock: new Map([["sdc", "sdc"]]),
  claims: new Map(),
  smVersion: undefined,
  passthroughRules: new Map([
    ["/etc/udev/rules.d/99-hand.rules", "hand-made"],
    ["/etc/udev/rules.d/65-xen-passthrough-old.rules", "ours, old"],
  ]),
  bootRepair: NO_BOOT_REPAIR,
};

describe("inventoryAfterChange", () => {
  test("has the written rule, not the ones set aside or removed, and the symlink waited for", () => {
    const after = inventoryAfterChange(inventory, {
      writeRule: { path: "/etc/udev/rules.d/65-xen-passthrough-new.rules", text: "ours" },
      removeRule: "/etc/udev/rules.d/65-xen-passthrough-old.rules",
      setAsideRules: ["/etc/udev/rules.d/99-hand.rules"],
      retrigger: "sdb",
      awaitLink: { path: "/dev/xapi/block/sdb", timeoutSeconds: 30, kernelName: "sdb" },
    });
    expect([...after.passthroughRules]).toEqual([["/etc/udev/rules.d/65-xen-passthrough-new.rules", "ours"]]);
    expect([...after.xapiBlock]).toEqual([
      ["sdc", "sdc"],
      ["sdb", "sdb"],
    ]);
    // The first look stays as it was (a failed apply reports from it).
    expect(inventory.passthroughRules.size).toBe(2);
    expect(inventory.xapiBlock.size).toBe(1);
  });
});

describe("the inventory as the files a round touches", () => {
  test("comes back as it was when the round changed nothing", () => {
    const seen: Dom0Inventory = {
      ...inventory,
      passthroughRules: new Map([["/etc/udev/rules.d/65-xen-passthrough-a.rules", "x xapi/block"]]),
      claims: new Map([["disk-a", "lab/dev/a b"]]),
      bootRepair: {
        unitMarker: "m1",
        scriptMarker: "m2",
        enabled: true,
        records: new Map([["serial-A", "tag t\n"]]),
        failures: new Map([["serial-B", "no VDI at /dev/xapi/block/sdb"]]),
      },
    };
    const { passthroughRules, claims, xapiBlock, bootRepair } = seen;
    expect(inventoryOfFiles(dom0FilesOf(seen))).toEqual({ passthroughRules, claims, xapiBlock, bootRepair });
  });

  test("a delete's round takes the boot repair away with the host's last claim", () => {
    const seen: Dom0Inventory = {
      ...inventory,
      claims: new Map([["disk-a", "me"]]),
      bootRepair: { ...NO_BOOT_REPAIR, unitMarker: "m", scriptMarker: "m", enabled: true },
    };
    const after = inventoryAfterChange(seen, {
      releaseClaim: { key: "disk-a", owner: "me" },
      bootRepair: { recordName: "serial-A", removeRecord: true, removeUnitWhenUnclaimed: true },
    });
    expect(after.claims.size).toBe(0);
    expect(after.bootRepair).toEqual(NO_BOOT_REPAIR);
  });
});

describe("snapshotAfterVbdChanges", () => {
  const vbd = (ref: string, attached: boolean) =>
    ({ $ref: ref, uuid: `${ref}-uuid`, currently_attached: attached }) as unknown as WithRef<VbdRecord>;
  const snapshot = {
    hosts: [],
    srs: [],
    pbds: [],
    vms: [],
    vdis: [],
    vbds: [vbd("a", true), vbd("b", false)],
    guestMetrics: [],
  };

  test("drops destroyed VBDs and puts the re-read record in place of the old one", () => {
    const after = snapshotAfterVbdChanges(snapshot, {
      destroyed: ["a"],
      reread: vbd("b", true),
    });
    expect(after.vbds.map((v) => [v.$ref, v.currently_attached])).toEqual([["b", true]]);
  });

  test("adds a VBD made by the apply", () => {
    const after = snapshotAfterVbdChanges(snapshot, {
      destroyed: [],
      reread: vbd("c", true),
    });
    expect(after.vbds.map((v) => v.$ref)).toEqual(["a", "b", "c"]);
  });
});
