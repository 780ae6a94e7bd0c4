// planRemove (delete) and planRollback (undo of a failed create): their plans, as data.
import { bootRepairFacts, NO_BOOT_REPAIR } from "#provider/core/boot-repair.js";
import type { VbdFacts } from "#provider/core/host-view.js";
import { EMPTY_PLAN } from "#provider/core/plan.js";
import { planRemove, type RemoveView } from "#provider/core/remove-plan.js";
import { planRollback, type RollbackView } from "#provider/core/rollback-plan.js";
import { renderRule } from "#provider/core/rule.js";
import { inputs, VM_UUID } from "./provider-plan-fixture.js";

const wanted = inputs();
const OWNER = "homelab/dev/nas-data";
const rule = renderRule(wanted.disk, OWNER);
const disk = {
  kernelName: "sdb",
  devNumber: "8:16",
  sizeBytes: 1,
  partitions: [],
  holders: [],
  properties: {},
  links: [],
};
const vbd = (uuid: string, extra: Partial<VbdFacts> = {}): VbdFacts => ({
  ref: `OpaqueRef:${uuid}`,
  uuid,
  vmUuid: VM_UUID,
  vdiUuid: "vdi-1",
  mode: "RW",
  userdevice: "1",
  device: "xvdb",
  bootable: false,
  currentlyAttached: true,
  tag: "t",
  owner: OWNER,
  ownerKey: OWNER,
  ...extra,
});
/** A host that resolves symlinks: no boot repair (tests/unit/provider-boot-repair.test.ts has it). */
const noRepair = bootRepairFacts(NO_BOOT_REPAIR, {
  needed: false,
  marker: "m",
  identity: wanted.disk,
  tag: "t",
  owner: OWNER,
});

/** A complete passthrough of ours: claim, rule, symlink, VDI, one plugged VBD. */
const complete: RemoveView = {
  ownVbds: [vbd("vbd-1")],
  otherVbds: [],
  misplacedVbds: [],
  disk,
  ruleText: rule.text,
  otherRules: [],
  foreignOwner: undefined,
  symlinkPresent: true,
  symlinkName: "sdb",
  claimKey: "serial-S3Z1",
  claimOwner: OWNER,
  vdi: { ref: "OpaqueRef:vdi-1", uuid: "vdi-1", location: "/dev/xapi/block/sdb" },
  bootRepair: noRepair,
};

describe("delete", () => {
  test("a complete passthrough: VBD unplugged and destroyed, then rule, link and claim, then the VDI", () => {
    expect(planRemove(complete, wanted)).toEqual({
      release: [{ kind: "removeOwnVbds", vbds: [{ uuid: "vbd-1", unplug: true }], leftToGc: [] }],
      dom0: {
        releaseClaim: { key: "serial-S3Z1", owner: OWNER },
        removeRule: rule.path,
        retrigger: "sdb",
        awaitLinkGone: { path: "/dev/xapi/block/sdb", timeoutSeconds: 60 },
      },
      attach: [],
      forget: { kind: "knownVdi", vdiUuid: "vdi-1" },
    });
  });

  test("a VBD in XAPI's GC window is left to the GC; an unplugged one is destroyed without unplug", () => {
    const view = {
      ...complete,
      ownVbds: [vbd("gone", { vdiUuid: "" }), vbd("idle", { currentlyAttached: false })],
    };
    expect(planRemove(view, wanted).release).toEqual([
      { kind: "removeOwnVbds", vbds: [{ uuid: "idle", unplug: false }], leftToGc: ["gone"] },
    ]);
  });

  test("retried after the rule went: the disk is re-evaluated until the link is gone, nothing else", () => {
    const rest = { ...complete, ownVbds: [], ruleText: undefined, claimOwner: undefined, vdi: undefined };
    expect(planRemove(rest, wanted)).toEqual({
      release: [],
      dom0: { retrigger: "sdb", awaitLinkGone: { path: "/dev/xapi/block/sdb", timeoutSeconds: 60 } },
      attach: [],
      forget: undefined,
    });
    expect(planRemove({ ...rest, symlinkPresent: false }, wanted)).toEqual(EMPTY_PLAN);
  });

  test("another owner holds the disk: only our VBD goes; its claim, link and VDI stay", () => {
    const theirs = {
      ...complete,
      ruleText: undefined,
      foreignOwner: "someone/else",
      claimOwner: "someone/else",
    };
    expect(planRemove(theirs, wanted)).toEqual({
      release: [{ kind: "removeOwnVbds", vbds: [{ uuid: "vbd-1", unplug: true }], leftToGc: [] }],
      dom0: undefined,
      attach: [],
      forget: undefined,
    });
  });

  test("someone else's VBD on the VDI: the VDI is not forgotten (XAPI's GC would destroy that VBD)", () => {
    expect(
      planRemove({ ...complete, otherVbds: [vbd("hand", { owner: undefined })] }, wanted).forget,
    ).toBeUndefined();
  });
});

describe("rollback", () => {
  const before: RollbackView = {
    disk,
    owner: OWNER,
    claimKey: "serial-S3Z1",
    claimOwner: undefined,
    wantedNaming: "kernelName",
    bootRepair: noRepair,
    sr: { ref: "OpaqueRef:sr", uuid: "sr-1", nameLabel: "Removable storage" },
    vdi: undefined,
  };
  const written = { ruleWritten: true, rulesSetAside: new Map<string, string>(), claimed: true };

  test("a create that claimed and wrote the rule: claim dropped, rule removed, link waited gone, VDI forgotten", () => {
    expect(planRollback(before, written, wanted)).toEqual({
      release: [],
      dom0: {
        releaseClaim: { key: "serial-S3Z1", owner: OWNER },
        removeRule: rule.path,
        retrigger: "sdb",
        awaitLinkGone: { path: "/dev/xapi/block/sdb", timeoutSeconds: 60 },
      },
      attach: [],
      forget: { kind: "vdiLeftAt", location: "/dev/xapi/block/sdb" },
    });
  });

  test("rules set aside are moved back (their link stays); a claim found, not taken, stays", () => {
    const aside = new Map([
      ["/etc/udev/rules.d/99-hand.rules", "/etc/udev/rules.d/99-hand.rules.disabled-by-xen-passthrough"],
    ]);
    const plan = planRollback({ ...before, claimOwner: OWNER }, { ...written, rulesSetAside: aside }, wanted);
    expect(plan.dom0).toEqual({
      removeRule: rule.path,
      restoreRules: ["/etc/udev/rules.d/99-hand.rules"],
      retrigger: "sdb",
    });
  });

  test("the boot repair this create installed goes too: its record, and the unit if the host had none", () => {
    const missing = bootRepairFacts(NO_BOOT_REPAIR, {
      needed: true,
      marker: "m",
      identity: wanted.disk,
      tag: "t",
      owner: OWNER,
    });
    expect(planRollback({ ...before, bootRepair: missing }, written, wanted).dom0?.bootRepair).toEqual({
      recordName: missing.record.path.slice(missing.record.path.lastIndexOf("/") + 1),
      removeRecord: true,
      removeUnitWhenUnclaimed: true,
    });
  });

  test("nothing changed, or no disk: nothing to undo", () => {
    const none = { ruleWritten: false, rulesSetAside: new Map<string, string>(), claimed: false };
    expect(planRollback(before, none, wanted)).toEqual(EMPTY_PLAN);
    expect(planRollback({ ...before, disk: undefined }, written, wanted)).toEqual(EMPTY_PLAN);
  });
});
